import { VtlError } from '@vtl/core'
import { parseScenario, runScenario, ScenarioError, type ScenarioReport } from '@vtl/sim'
import { x86ScenarioCpu } from '@vtl/x86'
import { ProblemError } from './problem.js'

/**
 * Runs a scenario file's text (YAML or JSON); resolves with the report, rejects with a
 * ProblemError. `signal` aborts when the client goes away: a runner that can, stops the run.
 */
export type ScenarioRunner = (
  text: string,
  contentType: string,
  signal?: AbortSignal
) => Promise<ScenarioReport>

/**
 * Parses and runs a scenario in the calling thread (the default runner; a worker-thread runner
 * calls it on its side). A bad file or a partition the simulator refuses is E_SCENARIO. Guest
 * code (`cpu: x86`) runs on `@vtl/x86`'s CPU (libunicorn is loaded only then) from inline images:
 * a request never makes the daemon read a file of its host.
 */
export function runScenarioText(text: string): ScenarioReport {
  try {
    const scenario = parseScenario(text, 'request')
    if (scenario.partition.cpu !== 'x86') return runScenario(scenario)
    const index = scenario.partition.images.findIndex((image) => 'file' in image)
    if (index >= 0) {
      throw new ProblemError(
        'E_SCENARIO',
        `request: partition.images[${index}].file: the daemon takes inline images (hex) only`
      )
    }
    return runScenario(scenario, { cpu: x86ScenarioCpu })
  } catch (error) {
    if (error instanceof ProblemError) throw error
    if (ScenarioError.isInstance(error)) throw new ProblemError('E_SCENARIO', error.message)
    if (VtlError.isInstance(error)) {
      throw new ProblemError('E_SCENARIO', `${error.message} (${error.code})`)
    }
    throw error
  }
}

/** `runScenarioText` as a `ScenarioRunner`. */
export const runScenarioInThread: ScenarioRunner = (text) =>
  new Promise((resolve) => {
    resolve(runScenarioText(text))
  })
