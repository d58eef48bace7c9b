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
 * field, so that `vtl sim run` can print it as is; nothing has run when this is thrown. The same
 * parts are fields too (`file`, `step`, `field`, `problem`), so a caller can place the error
 * elsewhere (another file name, a step index within a larger request) without reading the message.
 */
export class ScenarioError extends VtlError {
  readonly [marker] = true
  readonly file: string
  readonly step: number | undefined
  /** What is wrong, without the location (the message's last part). */
  readonly problem: string

  constructor(details: ScenarioErrorDetails, problem: string) {
    const where = details.step === undefined ? '' : ` (step ${details.step})`
    super('E_SCENARIO', `${details.file}${where}: ${details.field || '<root>'}: ${problem}`, {
      field: details.field,
    })
    this.name = 'ScenarioError'
    this.file = details.file
    this.step = details.step
    this.problem = problem
  }

  static override isInstance(value: unknown): value is ScenarioError {
    return VtlError.isInstance(value) && marker in value
  }
}
