import { describe, expect, it } from 'vitest'
import { awaitWorker, nextMessage, startWorker } from './worker-thread.js'

// A JavaScript entry (started as it is, as from a build) holding `body`.
const entry = (body: string): URL =>
  new URL(
    `data:text/javascript,${encodeURIComponent(`import { parentPort, workerData } from 'node:worker_threads'\n${body}`)}`
  )

describe('worker threads', () => {
  it('hands messages over until finished, then lets go of the thread', async () => {
    const worker = startWorker(
      entry('for (const n of workerData.values) parentPort.postMessage(n)'),
      {
        values: [1, 2, 3, 'done'],
      }
    )
    try {
      const seen: unknown[] = []
      const result = await awaitWorker<number>(worker, (message, finish) => {
        if (message === 'done') finish(seen.length)
        else seen.push(message)
      })
      expect(result).toBe(3)
      expect(seen).toEqual([1, 2, 3])
      expect(worker.listenerCount('message')).toBe(0)
      expect(worker.listenerCount('exit')).toBe(0)
    } finally {
      await worker.terminate()
    }
  })

  it('rejects when the thread exits before it answers (instead of waiting forever)', async () => {
    const worker = startWorker(entry('process.exit(3)'))
    await expect(nextMessage(worker)).rejects.toThrow(/exited with code 3 before it answered/)
  })

  it('rejects with the thread’s uncaught error', async () => {
    const worker = startWorker(entry("throw new Error('boom at start-up')"))
    await expect(nextMessage(worker)).rejects.toThrow('boom at start-up')
  })

  it('rejects with what the message handler throws', async () => {
    const worker = startWorker(entry("parentPort.postMessage({ failed: 'bad file' })"))
    try {
      await expect(
        awaitWorker<never>(worker, (message) => {
          throw new Error((message as { failed: string }).failed)
        })
      ).rejects.toThrow('bad file')
      expect(worker.listenerCount('message')).toBe(0)
    } finally {
      await worker.terminate()
    }
  })
})
