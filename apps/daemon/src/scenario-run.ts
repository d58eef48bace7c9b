import { VtlError } from '@vtl/core'
import { parseScenario, runScenario, ScenarioError, type ScenarioReport } from '@vtl/sim'
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
 * calls it on its side). A bad file or a partition the simulator refuses is E_SCENARIO.
 */
export function runScenarioText(text: string): ScenarioReport {
  try {
    return runScenario(parseScenario(text, 'request'))
  } catch (error) {
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
