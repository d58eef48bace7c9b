import {
  HvStatus,
  HypercallCode,
  encodeHypercallControl,
  encodeHypercallResult,
  type HypercallControl,
} from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { FakeSyscalls, setU64, thrown, u64 } from '../test/fake-syscalls.js'
import { IoctlError } from '../sys/syscall-error.js'
import { bitmapAllows, defaultAllowedHypercalls, encodeAllowBitmap } from './allow-bitmap.js'
import { HvcallDevice, HypercallNotAllowedError } from './hvcall-device.js'

const EPERM = 1

function control(code: number, rep: Partial<HypercallControl> = {}): bigint {
  return encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: 0,
    nested: false,
    repCount: 0,
    repStart: 0,
    ...rep,
  })
}

function open(): { fake: FakeSyscalls; hvcall: HvcallDevice } {
  const fake = new FakeSyscalls(['/dev/mshv_hvcall'])
  return { fake, hvcall: HvcallDevice.open(fake) }
}

describe('allow bitmap', () => {
  it('is a little-endian bit array by call code, in whole u64 words', () => {
    const bitmap = encodeAllowBitmap([0x0d, 0x0f, 0xdb])
    expect(bitmap.byteLength).toBe(32)
    expect(bitmap[1]).toBe(0b1010_0000)
    expect(bitmap[0xdb >> 3]).toBe(1 << (0xdb & 7))
    expect(bitmapAllows(bitmap, 0xdb)).toBe(true)
    expect(bitmapAllows(bitmap, 0x0c)).toBe(false)
    // The largest code still fits the kernel's 8192-byte limit.
    expect(encodeAllowBitmap([0xffff]).byteLength).toBe(8192)
    expect(() => encodeAllowBitmap([0x1_0000])).toThrow(
      expect.objectContaining({ code: 'E_FIELD_RANGE' })
    )
  })

  it('holds OpenHCL’s list, plus the hardware-isolated calls by default', () => {
    const isolated = defaultAllowedHypercalls()
    expect(isolated).toContain(HypercallCode.EnablePartitionVtl)
    expect(isolated).toContain(HypercallCode.EnableVpVtl)
    expect(isolated).toContain(HypercallCode.ModifySparseGpaPageHostVisibility)
    expect(defaultAllowedHypercalls({ hardwareIsolated: false })).not.toContain(
      HypercallCode.EnableVpVtl
    )
    expect(isolated).not.toContain(HypercallCode.VtlCall)
  })
})

describe('/dev/mshv_hvcall', () => {
  it('HVCALL_SETUP passes the byte size and a pointer to exactly the allowed bits, once', () => {
    const { fake, hvcall } = open()
    let seen: Uint8Array | undefined
    fake.onIoctl = ({ arg, fake: kernel }) => {
      if (arg instanceof Uint8Array) seen = kernel.resolve(u64(arg, 8), Number(u64(arg, 0))).slice()
      return 0
    }
    const codes = defaultAllowedHypercalls()
    hvcall.setup(codes)
    expect(fake.ioctls[0]?.request).toBe(0x4010b81e)
    expect(seen).toEqual(encodeAllowBitmap(codes))
    expect(fake.allocations.size).toBe(0)
    expect(
      thrown(() => {
        hvcall.setup(codes)
      })
    ).toMatchObject({ code: 'E_INVALID_VALUE' })
    expect(fake.ioctls).toHaveLength(1)
    hvcall.close()
    expect(fake.leaks).toEqual([])
  })

  it('refuses a call outside the bitmap, or before setup, without a syscall', () => {
    const { fake, hvcall } = open()
    expect(
      thrown(() => hvcall.call(control(HypercallCode.EnableVpVtl), new Uint8Array(0)))
    ).toMatchObject({
      code: 'E_INVALID_VALUE',
    })
    hvcall.setup([HypercallCode.EnablePartitionVtl])
    const error = thrown(() => hvcall.call(control(HypercallCode.VtlCall), new Uint8Array(0)))
    expect(error).toBeInstanceOf(HypercallNotAllowedError)
    expect(error).toMatchObject({
      callCode: 0x11,
      message: expect.stringContaining('VtlCall') as unknown,
    })
    expect(fake.ioctls).toHaveLength(1)
    hvcall.close()
  })

  it('HVCALL: 48-byte struct with input/output pointers; the status comes from the struct', () => {
    const { fake, hvcall } = open()
    hvcall.setup([HypercallCode.EnablePartitionVtl])
    fake.ioctls.length = 0
    let input: Uint8Array | undefined
    fake.onIoctl = ({ arg, fake: kernel }) => {
      if (!(arg instanceof Uint8Array)) return -22
      input = kernel.resolve(u64(arg, 16), Number(u64(arg, 8))).slice()
      setU64(arg, 24, BigInt(HvStatus.VtlAlreadyEnabled))
      return 0
    }
    const payload = new Uint8Array(16).fill(0xab)
    const word = control(HypercallCode.EnablePartitionVtl)
    const { result, issued } = hvcall.call(word, payload)
    expect(result).toBe(BigInt(HvStatus.VtlAlreadyEnabled))
    expect(issued).toBe(1)
    const bytes = fake.ioctls[0]?.bytes ?? new Uint8Array(48)
    expect(fake.ioctls[0]?.request).toBe(0xc030b81f)
    expect(bytes.byteLength).toBe(48)
    expect(u64(bytes, 0)).toBe(word)
    expect(u64(bytes, 8)).toBe(16n)
    expect(u64(bytes, 32)).toBe(0n)
    expect(input).toEqual(payload)
    hvcall.close()
    expect(fake.leaks).toEqual([])
  })

  it('resumes a rep call on Timeout from the reps completed', () => {
    const { fake, hvcall } = open()
    hvcall.setup([HypercallCode.ModifySparseGpaPageHostVisibility])
    fake.ioctls.length = 0
    const answers = [
      encodeHypercallResult({ status: HvStatus.Timeout, repsCompleted: 3 }),
      encodeHypercallResult({ status: HvStatus.Timeout, repsCompleted: 7 }),
      encodeHypercallResult({ status: HvStatus.Success, repsCompleted: 10 }),
    ]
    fake.onIoctl = ({ arg }) => {
      if (arg instanceof Uint8Array) setU64(arg, 24, answers.shift() ?? 0n)
      return 0
    }
    const word = control(HypercallCode.ModifySparseGpaPageHostVisibility, { repCount: 10 })
    const out = hvcall.call(word, new Uint8Array(16 + 80))
    expect(out.issued).toBe(3)
    expect(out.result).toBe(encodeHypercallResult({ status: 0, repsCompleted: 10 }))
    const starts = fake.ioctls.map((c) =>
      Number((u64(c.bytes ?? new Uint8Array(8), 0) >> 48n) & 0xfffn)
    )
    expect(starts).toEqual([0, 3, 7])
    hvcall.close()
  })

  it('stops on a non-Timeout failure and reports the kernel’s EPERM as IoctlError', () => {
    const { fake, hvcall } = open()
    hvcall.setup([HypercallCode.AcceptGpaPages])
    fake.onIoctl = () => -EPERM
    const error = thrown(() =>
      hvcall.call(control(HypercallCode.AcceptGpaPages, { repCount: 1 }), new Uint8Array(24))
    )
    expect(error).toBeInstanceOf(IoctlError)
    expect(error).toMatchObject({
      errnoName: 'EPERM',
      requestName: 'MSHV_HVCALL',
      path: '/dev/mshv_hvcall',
    })
    hvcall.close()
    expect(fake.leaks).toEqual([])
  })

  it('refuses inputs above a page before the syscall', () => {
    const { fake, hvcall } = open()
    hvcall.setup([HypercallCode.AcceptGpaPages])
    expect(
      thrown(() => hvcall.call(control(HypercallCode.AcceptGpaPages), new Uint8Array(4097)))
    ).toMatchObject({
      code: 'E_FIELD_RANGE',
    })
    expect(fake.ioctls).toHaveLength(1)
    hvcall.close()
  })
})
