import { describe, expect, it } from 'vitest'
import { CommandQueue } from '../src/command-queue.js'

describe('CommandQueue', () => {
  it('runs commands one at a time in submission order, even when one fails', async () => {
    const queue = new CommandQueue()
    const order: string[] = []
    let release: () => void = () => undefined
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    const first = queue.run(async () => {
      order.push('first:start')
      await gate
      order.push('first:end')
      return 1
    })
    const second = queue.run(() => {
      order.push('second')
      throw new Error('boom')
    })
    const third = queue.run(() => {
      order.push('third')
      return 3
    })
    expect(queue.depth).toBe(3)
    await Promise.resolve()
    expect(order).toEqual(['first:start'])
    release()
    expect(await first).toBe(1)
    await expect(second).rejects.toThrow('boom')
    expect(await third).toBe(3)
    expect(order).toEqual(['first:start', 'first:end', 'second', 'third'])
    await queue.drain()
    expect(queue.depth).toBe(0)
  })

  it('lets two queues progress independently', async () => {
    const a = new CommandQueue()
    const b = new CommandQueue()
    let release: () => void = () => undefined
    const blocked = a.run(
      () =>
        new Promise<string>((resolve) => {
          release = () => {
            resolve('a')
          }
        })
    )
    expect(await b.run(() => 'b')).toBe('b')
    release()
    expect(await blocked).toBe('a')
  })
})
