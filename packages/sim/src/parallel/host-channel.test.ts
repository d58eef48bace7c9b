import { HV_MAP_GPA_PERMISSIONS_ALL, HvMapGpaFlags, HvStatus } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { SimTd } from '../td/sim-td.js'
import { HostChannel, HostOwner, decodePermission } from './host-channel.js'
import type { HostTestInput, HostTestOutput } from './host-test-worker.js'
import { nextMessage, startTsWorker } from './worker-thread.js'

const ALL = HV_MAP_GPA_PERMISSIONS_ALL
const R = HvMapGpaFlags.Readable

describe('HostChannel', () => {
  it('encodes version, validity and flags in one word', () => {
    expect(decodePermission((5 << 9) | 0x100 | 0xf)).toEqual({ version: 5, flags: 0xf })
    expect(decodePermission(7 << 9)).toEqual({ version: 7, flags: undefined })
    expect(() => new HostChannel(0)).toThrow(/pages/)
    const channel = new HostChannel(4)
    expect(new HostChannel(channel.buffer).pages).toBe(4)
    expect(() => channel.permission(0, 4)).toThrow(/outside/)
  })

  it('a client thread’s changes are performed by the owner and published before the answer', async () => {
    const td = new SimTd({ vps: 1, memory: 16n * 4096n })
    const channel = new HostChannel(16)
    const owner = new HostOwner(channel, {
      hypervisor: td.hypervisor,
      protection: td.space,
      permissions: (gpn) => td.space.stateOf(gpn * 4096n),
    })
    // Boot state: VTL0 everything, VTL1 nothing, all at version 0.
    expect(channel.permission(0, 3)).toEqual({ version: 0, flags: ALL })
    expect(channel.permission(1, 3)).toEqual({ version: 0, flags: undefined })
    const done = new SharedArrayBuffer(4)
    const input: HostTestInput = { channel: channel.buffer, done, outside: 1 << 20 }
    const worker = startTsWorker(new URL('./host-test-worker.ts', import.meta.url), input)
    try {
      const reply = nextMessage<HostTestOutput>(worker)
      owner.serve(() => Atomics.load(new Int32Array(done), 0) === 1, Date.now() + 30_000)
      const out = await reply
      const ok = HvStatus.Success
      expect(out.statuses).toEqual([ok, ok, ok, HvStatus.OperationDenied, ok])
      expect(out.seen).toEqual([
        { version: 1, flags: R },
        { version: 2, flags: ALL },
        { version: 3, flags: 0 },
        // The refused change published nothing.
        { version: 3, flags: 0 },
        { version: 1, flags: ALL },
      ])
      expect(out.epochs).toEqual([1, 2, 3, 3, 4])
      expect(td.space.stateOf(3n * 4096n).vtl0).toBe(0)
      expect(td.space.stateOf(4n * 4096n).vtl0).toBe(0)
      expect(out.visibility).toEqual({ status: ok, processed: 2 })
      expect(out.shared).toEqual([false, true, true])
      // The hypervisor on the owner's thread got the forward and answered Success.
      expect(out.hypercall & 0xffffn).toBe(0n)
      expect(td.hypervisor.counts.get('EnablePartitionVtl')).toBe(1)
      expect(out.tooMany).toMatch(/at most 1024/)
      expect(owner.served).toBe(8)
    } finally {
      await worker.terminate()
    }
  }, 30_000)

  it('an owner that gives up closes the channel', () => {
    const td = new SimTd({ vps: 1, memory: 4n * 4096n })
    const channel = new HostChannel(4)
    const owner = new HostOwner(channel, {
      hypervisor: td.hypervisor,
      protection: td.space,
      permissions: (gpn) => td.space.stateOf(gpn * 4096n),
    })
    expect(() => {
      owner.serve(() => false, Date.now() - 1)
    }).toThrow(/deadline/)
    expect(channel.isClosed()).toBe(true)
  })
})
