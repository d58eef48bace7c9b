// The `vtl sim check` worker thread: checks the files it is sent and posts every event back.
// Loaded from dist as it is, or from sources through @vtl/sim's boot.mjs (tsx).
import { parentPort } from 'node:worker_threads'
import { checkScenarioFiles, type CheckWorkerMessage } from './scenario-check.js'

const port = parentPort
if (port === null) throw new Error('check-worker runs as a worker thread only')

const post = (message: CheckWorkerMessage): void => {
  port.postMessage(message)
}

port.once('message', (files: string[]) => {
  checkScenarioFiles(files, post).then(
    () => {
      post({ type: 'done' })
    },
    (error: unknown) => {
      post({ type: 'failed', message: error instanceof Error ? error.message : String(error) })
    }
  )
})
