import { describe, expect, it } from 'vitest'
import { thrown, u32, u64 } from '../test/fake-syscalls.js'
import { decodeHvRegisterAssoc, encodeHvRegisterAssoc } from './hv-register-assoc.js'
import {
  KvmCreateGuestMemfd,
  KvmEnableCap,
  KvmMemoryAttributes,
  KvmTdxCapabilitiesHeader,
  KvmTdxCmdStruct,
  KvmUserspaceMemoryRegion2,
} from './kvm-structs.js'
import {
  MshvKickCpus,
  MshvTdcall,
  MshvVpRegisters,
  MshvVtlHvcall,
  MshvVtlHvcallSetup,
  MshvVtlRamDisposition,
  MshvVtlSetPollFile,
} from './mshv-structs.js'
import type { StructCodec, Layout } from './struct-codec.js'

// Sizes and offsets of abi.md §1.4, §2.3 and §4.5.
const CASES: [StructCodec<Layout>, number, Record<string, number>][] = [
  [MshvVpRegisters, 16, { count: 0, regsPtr: 8 }],
  [MshvVtlRamDisposition, 16, { startPfn: 0, lastPfn: 8 }],
  [MshvVtlSetPollFile, 8, { cpu: 0, fd: 4 }],
  [MshvVtlHvcallSetup, 16, { bitmapArraySize: 0, allowBitmapPtr: 8 }],
  [
    MshvVtlHvcall,
    48,
    { control: 0, inputSize: 8, inputPtr: 16, status: 24, outputSize: 32, outputPtr: 40 },
  ],
  [MshvTdcall, 56, { rax: 0, rcx: 8, rdx: 16, r8: 24, r9: 32, r10Out: 40, r11Out: 48 }],
  [MshvKickCpus, 24, { len: 0, cpuMaskPtr: 8, flags: 16 }],
  [
    KvmUserspaceMemoryRegion2,
    160,
    {
      slot: 0,
      flags: 4,
      guestPhysAddr: 8,
      memorySize: 16,
      userspaceAddr: 24,
      guestMemfdOffset: 32,
      guestMemfd: 40,
    },
  ],
  [KvmMemoryAttributes, 32, { address: 0, size: 8, attributes: 16, flags: 24 }],
  [KvmCreateGuestMemfd, 64, { size: 0, flags: 8 }],
  [KvmEnableCap, 104, { cap: 0, flags: 4, arg0: 8, arg3: 32 }],
  [KvmTdxCmdStruct, 24, { id: 0, flags: 4, data: 8, hwError: 16 }],
  [
    KvmTdxCapabilitiesHeader,
    2056,
    { supportedAttrs: 0, userTdvmcallinfo1R12: 40, cpuidNent: 2048 },
  ],
]

describe('struct codecs', () => {
  it.each(CASES.map(([codec, size, offsets]) => [codec.name, codec, size, offsets] as const))(
    '%s: size and offsets',
    (_name, codec, size, offsets) => {
      expect(codec.size).toBe(size)
      for (const [field, offset] of Object.entries(offsets)) {
        expect(codec.layout[field]?.[0]).toBe(offset)
      }
      // Each field lands where the layout says and decodes back.
      const value: Record<string, number | bigint> = {}
      let i = 1
      for (const [field, [, type]] of Object.entries(codec.layout)) {
        value[field] = type === 'u64' ? BigInt(i) << 40n : type === 'u8' ? i : i * 0x101
        i++
      }
      const bytes = codec.encode(value)
      expect(bytes.byteLength).toBe(size)
      expect(codec.decode(bytes)).toEqual(value)
    }
  )

  it('refuses a buffer of the wrong length with E_DECODE_LENGTH', () => {
    expect(thrown(() => MshvVtlHvcall.decode(new Uint8Array(47)))).toMatchObject({
      code: 'E_DECODE_LENGTH',
      field: 'mshv_vtl_hvcall',
    })
    expect(thrown(() => MshvTdcall.decode(new Uint8Array(64)))).toMatchObject({
      code: 'E_DECODE_LENGTH',
    })
  })

  it('refuses out-of-range field values with E_FIELD_RANGE', () => {
    expect(thrown(() => MshvVtlSetPollFile.encode({ cpu: -1 }))).toMatchObject({
      code: 'E_FIELD_RANGE',
      field: 'mshv_vtl_set_poll_file.cpu',
    })
    expect(thrown(() => MshvTdcall.encode({ rax: 1n << 64n }))).toMatchObject({
      code: 'E_FIELD_RANGE',
    })
  })

  it('writes little-endian at the spec offsets', () => {
    const bytes = MshvVtlHvcall.encode({ control: 0x0102030405060708n, status: 0xffn })
    expect([...bytes.subarray(0, 8)]).toEqual([8, 7, 6, 5, 4, 3, 2, 1])
    expect(u64(bytes, 24)).toBe(0xffn)
    const region = KvmUserspaceMemoryRegion2.encode({ slot: 7, guestMemfd: 9 })
    expect([u32(region, 0), u32(region, 40)]).toEqual([7, 9])
  })
})

describe('hv_register_assoc', () => {
  it('is 32 bytes: name at 0, a u128 value at 16', () => {
    const bytes = encodeHvRegisterAssoc({ name: 0x000d0006, value: (2n << 64n) | 3n })
    expect(bytes.byteLength).toBe(32)
    expect(u32(bytes, 0)).toBe(0x000d0006)
    expect([u64(bytes, 16), u64(bytes, 24)]).toEqual([3n, 2n])
    expect(decodeHvRegisterAssoc(bytes)).toEqual({ name: 0x000d0006, value: (2n << 64n) | 3n })
    expect(thrown(() => decodeHvRegisterAssoc(new Uint8Array(16)))).toMatchObject({
      code: 'E_DECODE_LENGTH',
    })
  })
})
