// The scenario worker thread: parses and runs one scenario per message, off vtld's event loop.
// Loaded from dist as it is, or from sources through @vtl/sim's boot.mjs (tsx).
import { parentPort } from 'node:worker_threads'
import { VtlError } from '@vtl/core'
import { ScenarioError, parseScenario, runScenario } from '@vtl/sim'
import type { ScenarioJob, ScenarioReply } from './scenario-worker.js'

const port = parentPort
if (port === null) throw new Error('scenario-worker-thread runs as a worker thread only')

port.on('message', (job: ScenarioJob) => {
  let reply: ScenarioReply
  try {
    reply = { ok: true, report: runScenario(parseScenario(job.text, 'request')) }
  } catch (error) {
    reply = {
      ok: false,
      scenario: error instanceof ScenarioError,
      vtlCode: VtlError.isInstance(error) ? error.code : undefined,
      message: error instanceof Error ? error.message : String(error),
    }
  }
  port.postMessage(reply)
})
