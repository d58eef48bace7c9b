// The scenario worker thread: parses and runs one scenario per message, off vtld's event loop.
// Loaded from dist as it is, or from sources through @vtl/sim's boot.mjs (tsx).
import { parentPort } from 'node:worker_threads'
import { ProblemError } from './problem.js'
import { runScenarioText } from './scenario-run.js'
import type { ScenarioJob, ScenarioReply } from './scenario-worker.js'

const port = parentPort
if (port === null) throw new Error('scenario-worker-thread runs as a worker thread only')

port.on('message', (job: ScenarioJob) => {
  let reply: ScenarioReply
  try {
    reply = { ok: true, report: runScenarioText(job.text) }
  } catch (error) {
    reply = {
      ok: false,
      code: error instanceof ProblemError ? error.code : undefined,
      message: error instanceof Error ? error.message : String(error),
    }
  }
  port.postMessage(reply)
})
