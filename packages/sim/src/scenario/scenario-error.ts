import { VtlError } from '@vtl/core'

// Registry-wide (the vercel/ai pattern): two installed copies recognise each other's errors.
const marker = Symbol.for('vtl.error.ScenarioError')

/** Where in a scenario file a problem is: the file, the step index (if inside `steps`), the field. */
export interface ScenarioErrorDetails {
  file: string
  step: number | undefined
  /** A dotted path such as `steps[3].hypercall.input.targetVtl`. */
  field: string
}

/**
 * A scenario file that is not valid (`E_SCENARIO`). The message names the file, the step and the
 * field, so that `vtl sim run` can print it as is; nothing has run when this is thrown.
 */
export class ScenarioError extends VtlError {
  readonly [marker] = true
  readonly file: string
  readonly step: number | undefined

  constructor(details: ScenarioErrorDetails, problem: string) {
    const where = details.step === undefined ? '' : ` (step ${details.step})`
    super('E_SCENARIO', `${details.file}${where}: ${details.field || '<root>'}: ${problem}`, {
      field: details.field,
    })
    this.name = 'ScenarioError'
    this.file = details.file
    this.step = details.step
  }

  static override isInstance(value: unknown): value is ScenarioError {
    return VtlError.isInstance(value) && marker in value
  }
}
