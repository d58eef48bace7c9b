import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { forkServer } from '../bench/server-fork.js'

// The daemon bench's server children: one that dies fails the pending request with an error of
// its own, and stopping it afterwards neither throws ERR_IPC_CHANNEL_CLOSED nor hangs (review LOW 5).

const CHILD = fileURLToPath(new URL('./fixtures/bench-server-child.mjs', import.meta.url))

describe('forkServer', () => {
  it('answers gc and stops on close', async () => {
    const server = await forkServer(CHILD, ['ok'])
    expect(server.socket).toBe('/nowhere')
    await server.gc()
    await server.close()
  })

  it('a child that died fails gc and is stopped without an error', async () => {
    const server = await forkServer(CHILD, ['die-after-ready'])
    await expect(server.gc()).rejects.toThrow(/bench server die-after-ready ended/)
    await server.close()
    await expect(server.gc()).rejects.toThrow(/ended/)
  })

  it('a child that dies before it is ready fails the fork', async () => {
    await expect(forkServer(CHILD, ['die-before-ready'])).rejects.toThrow(
      /bench server die-before-ready ended/
    )
  })
})
