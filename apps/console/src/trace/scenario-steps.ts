import { parse as parseYaml } from 'yaml'

// The scenario runner's side of scenario files: run on a fresh TD, vtld parses and checks the whole
// file (POST /v1/scenarios/run); run on an existing TD, its steps go to POST /v1/tds/{id}/steps
// (no `expect`, no `fault` there), and the expectations are compared here, field by field, the
// way the scenario runner does (names exactly, numbers in decimal or hex).

export interface StepOutcome {
  index: number
  vp: number
  vtl: number
  action: string
  result: Record<string, unknown>
  ok: boolean
  mismatches: { field: string; expected: unknown; actual: unknown }[]
}

export interface RunReport {
  scenario: string
  passed: number
  failed: number
  steps: StepOutcome[]
}

type Doc = Record<string, unknown>
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The document of a YAML or JSON scenario file (YAML is a superset of JSON). */
export function parseScenarioText(text: string): Doc {
  const doc: unknown = parseYaml(text)
  if (!isDoc(doc)) throw new Error('a scenario is a mapping with version, partition and steps')
  if (!Array.isArray(doc.steps)) throw new Error('the scenario has no steps list')
  return doc
}

/** The steps as POST …/steps takes them, and each step's expectations. */
export function splitSteps(doc: Doc): { steps: Doc[]; expects: (Doc | undefined)[] } {
  const steps: Doc[] = []
  const expects: (Doc | undefined)[] = []
  ;(doc.steps as unknown[]).forEach((step, index) => {
    if (!isDoc(step)) throw new Error(`step ${index} is not a mapping`)
    if ('fault' in step) {
      throw new Error(`step ${index} arms a fault: run this scenario on a fresh TD instead`)
    }
    const { expect, ...rest } = step
    steps.push(rest)
    expects.push(isDoc(expect) ? expect : undefined)
  })
  return { steps, expects }
}

function same(expected: unknown, actual: unknown): boolean {
  if (isDoc(expected)) {
    return isDoc(actual) && Object.entries(expected).every(([k, v]) => same(v, actual[k]))
  }
  const asNumber = (v: unknown): bigint | undefined => {
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
    if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+)$/i.test(v)) return BigInt(v)
    return undefined
  }
  const a = asNumber(expected)
  const b = asNumber(actual)
  if (a !== undefined && b !== undefined) return a === b
  return JSON.stringify(expected) === JSON.stringify(actual)
}

/** The listed fields of `expect` that `result` does not match. */
export function compareExpect(expect: Doc | undefined, result: Doc): StepOutcome['mismatches'] {
  if (expect === undefined) return []
  return Object.entries(expect)
    .filter(([field, value]) => !same(value, result[field]))
    .map(([field, expected]) => ({ field, expected, actual: result[field] }))
}

/** A report from POST …/steps' results and the file's expectations. */
export function stepsReport(
  name: string,
  results: readonly { index: number; vp: number; vtl: number; action: string; result: Doc }[],
  expects: readonly (Doc | undefined)[]
): RunReport {
  const steps = results.map((r) => {
    const mismatches = compareExpect(expects[r.index], r.result)
    return { ...r, ok: mismatches.length === 0, mismatches }
  })
  const failed = steps.filter((s) => !s.ok).length
  return { scenario: name, passed: steps.length - failed, failed, steps }
}
