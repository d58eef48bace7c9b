import { HvMapGpaFlags, TdcallLeaf, TdxStatus, makeTdxStatus } from '@vtl/core'
import { GpaSpace } from '@vtl/memory'
import { describe, expect, it } from 'vitest'
import { decodeTdcallArg } from '../devices/vtl-fd.js'
import { FakeSyscalls, setU64 } from '../test/fake-syscalls.js'
import { HwPlatform } from './hw-platform.js'

const TDCALL = 0xc038b832
const MiB = 1n << 20n

/** @vtl/memory's GpaSpace driving real-shaped TDCALLs through the hardware sink. */
describe('GpaSpace on the hardware plan sink', () => {
  it('accepts at 2 MiB, splits to 4 KiB on PAGE_SIZE_MISMATCH, then writes VTL attributes', async () => {
    const fake = new FakeSyscalls(['/dev/mshv', '/dev/mshv_hvcall'])
    fake.onIoctl = ({ request, arg, fake: k }) => {
      if (request === 0x8001b81d) return k.newFd('anon:mshv_vtl')
      if (request !== TDCALL || !(arg instanceof Uint8Array)) return 0
      const { rax, rcx } = decodeTdcallArg(arg)
      // The second 2 MiB chunk is backed by 4 KiB pages on the host side.
      const mismatch = rax === 6n && (rcx & 7n) === 1n && rcx >> 12n === 0x200n
      setU64(arg, 0, mismatch ? makeTdxStatus(TdxStatus.TDX_PAGE_SIZE_MISMATCH) : 0n)
      return 0
    }
    const hw = await HwPlatform.open({ sys: fake, cpuCount: 1 })
    fake.ioctls.length = 0
    const space = new GpaSpace({ ram: [{ start: 0n, end: 4n * MiB }], sink: hw.planSink })
    const accepted = space.acceptPages({ start: 0n, end: 4n * MiB })
    expect(accepted.failure).toBeUndefined()
    const calls = fake.ioctls.map((c) => decodeTdcallArg(c.bytes ?? new Uint8Array(56)))
    const accepts = calls.filter((a) => a.rax === BigInt(TdcallLeaf['TDG.MEM.PAGE.ACCEPT']))
    // 2 MiB at 0, 2 MiB at 0x200 refused, then 512 × 4 KiB there.
    expect(accepts).toHaveLength(2 + 512)
    expect(accepts[1]?.rcx).toBe((0x200n << 12n) | 1n)
    expect(accepts.slice(2).every((a) => (a.rcx & 7n) === 0n)).toBe(true)
    // Whatever else the plan held is ATTR.WR (the VTL0 default protections on accepted pages).
    expect(
      calls.every((a) => a.rax === 6n || a.rax === BigInt(TdcallLeaf['TDG.MEM.PAGE.ATTR.WR']))
    ).toBe(true)

    fake.ioctls.length = 0
    space.protectPages(0, [0x10n], HvMapGpaFlags.Readable)
    const write = decodeTdcallArg(fake.ioctls[0]?.bytes ?? new Uint8Array(56))
    expect(write.rax).toBe(BigInt(TdcallLeaf['TDG.MEM.PAGE.ATTR.WR']))
    expect(write.rcx).toBe(0x10n << 12n)
    // VTL0 = L2 VM #1 = bits 31:16: VALID | R, mask ALL_CHANGED.
    expect(write.rdx).toBe(0x8001n << 16n)
    expect(write.r8).toBe(0xfn << 16n)
    await hw.close()
    expect(fake.leaks).toEqual([])
  })
})
