import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { encodeInitialVpContextX64, type InitialVpContextX64 } from '../hv/initial-vp-context.js'
import {
  contextArb,
  SEQUENTIAL_CONTEXT,
  SEQUENTIAL_CONTEXT_BYTES,
} from '../hv/testing/arbitraries.js'
import * as schemas from './index.js'
import {
  ByteSizeSchema,
  formatByteSize,
  GpaRangeSchema,
  refineGpaRange,
  gpaRangeSchema,
  GuestVtlSchema,
  HexU64Schema,
  InitialVpContextSchema,
  MapGpaFlagsSchema,
  NumberOrHexSchema,
  PartitionIdSchema,
  SegmentRegisterSchema,
  U16Schema,
  U32Schema,
  U64Schema,
  U8Schema,
  VpIndexSchema,
  VtlSchema,
} from './index.js'

describe('HexU64Schema (hex string ⇄ bigint)', () => {
  it.each([
    ['0x0', 0n],
    ['0x1f', 31n],
    ['0xFFFFFFFFFFFFFFFF', 0xffff_ffff_ffff_ffffn],
  ])('%s → %s', (text, value) => {
    expect(HexU64Schema.parse(text)).toBe(value)
  })

  it('encodes lower-case 0x hex', () => {
    expect(z.encode(HexU64Schema, 0xabcn)).toBe('0xabc')
  })

  it.each(['31', '0x', '0x10000000000000000', '1f', '0xg', 31, null])('refuses %s', (input) => {
    expect(HexU64Schema.safeParse(input).success).toBe(false)
  })

  it('round-trips every u64', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }), (value) => {
        expect(z.decode(HexU64Schema, z.encode(HexU64Schema, value))).toBe(value)
      })
    )
  })
})

describe('U64Schema and the small number-or-hex schemas', () => {
  it.each([
    [7, 7n],
    ['7', 7n],
    ['0x7', 7n],
    ['18446744073709551615', 0xffff_ffff_ffff_ffffn],
  ])('U64 %s → %s', (input, value) => {
    expect(U64Schema.parse(input)).toBe(value)
  })

  it.each(['18446744073709551616', '0x1_0', '-1', -1, 1.5, 2 ** 53])('U64 refuses %s', (input) => {
    expect(U64Schema.safeParse(input).success).toBe(false)
  })

  it.each([
    [U8Schema, '0xff', 255],
    [U16Schema, '65535', 65535],
    [U32Schema, 0xffff_ffff, 0xffff_ffff],
    [NumberOrHexSchema, '0x10', 16],
  ])('%# parses to a number', (schema, input, value) => {
    expect(schema.parse(input)).toBe(value)
    expect(z.encode(schema, value)).toBe(value)
  })

  it.each([
    [U8Schema, 256],
    [U8Schema, '0x100'],
    [U16Schema, '65536'],
    [U32Schema, '0x100000000'],
  ])('%# refuses %s', (schema, input) => {
    expect(schema.safeParse(input).success).toBe(false)
  })
})

describe('round trips of the remaining codecs', () => {
  it('U64Schema, PartitionIdSchema, VpIndexSchema, U32Schema, MapGpaFlagsSchema', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        (big, small) => {
          expect(z.decode(U64Schema, z.encode(U64Schema, big))).toBe(big)
          expect(z.decode(PartitionIdSchema, z.encode(PartitionIdSchema, big))).toBe(big)
          expect(z.decode(VpIndexSchema, z.encode(VpIndexSchema, small))).toBe(small)
          expect(z.decode(U32Schema, z.encode(U32Schema, small))).toBe(small)
          expect(z.decode(MapGpaFlagsSchema, z.encode(MapGpaFlagsSchema, small))).toBe(small)
        }
      )
    )
  })
})

describe('VTLs', () => {
  it('parses 0..2 (numbers or strings) and refuses 3', () => {
    expect(VtlSchema.parse(2)).toBe(2)
    expect(VtlSchema.parse('1')).toBe(1)
    expect(VtlSchema.safeParse(3).success).toBe(false)
    expect(GuestVtlSchema.parse(1)).toBe(1)
    expect(GuestVtlSchema.safeParse(2).success).toBe(false)
    expect(GuestVtlSchema.safeParse('2').success).toBe(false)
  })
})

describe('ByteSizeSchema', () => {
  it.each([
    [4096, 4096n],
    ['4096', 4096n],
    ['0x1000', 4096n],
    ['64MiB', 64n << 20n],
    ['1 GiB', 1n << 30n],
    ['2TiB', 2n << 40n],
    ['512KiB', 512n << 10n],
    ['3B', 3n],
  ])('%s → %s bytes', (input, value) => {
    expect(ByteSizeSchema.parse(input)).toBe(value)
  })

  it.each(['64MB', '64 mib', '1.5GiB', '-1', '16EiB', ''])('refuses %s', (input) => {
    expect(ByteSizeSchema.safeParse(input).success).toBe(false)
  })

  it('writes the largest exact unit, hex otherwise', () => {
    expect(formatByteSize(64n << 20n)).toBe('64MiB')
    expect(formatByteSize(1536n)).toBe('0x600')
    expect(formatByteSize(3n << 30n)).toBe('3GiB')
    expect(formatByteSize(0n)).toBe('0')
    expect(z.encode(ByteSizeSchema, 1n << 40n)).toBe('1TiB')
  })

  it('round-trips', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 0xffff_ffff_ffff_ffffn }), (size) => {
        expect(z.decode(ByteSizeSchema, z.encode(ByteSizeSchema, size))).toBe(size)
      })
    )
  })
})

describe('GpaRangeSchema', () => {
  it('parses { start, size } with units', () => {
    expect(GpaRangeSchema.parse({ start: '0x100000', size: '64MiB' })).toEqual({
      start: 0x10_0000n,
      size: 64n << 20n,
    })
    expect(z.encode(GpaRangeSchema, { start: 0x1000n, size: 0x2000n })).toEqual({
      start: '0x1000',
      size: '8KiB',
    })
  })

  it.each([
    [{ start: '0x1001', size: '4KiB' }, 'start', 'E_UNALIGNED'],
    [{ start: '0x1000', size: 0 }, 'size', 'E_RANGE_EMPTY'],
    [{ start: '0x1000', size: 100 }, 'size', 'E_UNALIGNED'],
  ])('refuses %o at %s (%s)', (input, path, code) => {
    const result = GpaRangeSchema.safeParse(input)
    expect(result.success).toBe(false)
    expect(result.error?.issues[0]?.path).toEqual([path])
    expect(result.error?.issues[0]?.message).toContain(code)
  })

  it('bounds the range by the GPA width when asked', () => {
    const narrow = gpaRangeSchema(48)
    expect(narrow.safeParse({ start: '0xfffffffff000', size: '4KiB' }).success).toBe(true)
    const result = narrow.safeParse({ start: '0xfffffffff000', size: '8KiB' })
    expect(result.error?.issues[0]?.message).toContain('E_BEYOND_GPA_WIDTH')
  })

  it('refuses unknown keys', () => {
    expect(GpaRangeSchema.safeParse({ start: 0, size: 4096, end: 8192 }).success).toBe(false)
  })
})

describe('InitialVpContextSchema', () => {
  const JSON_CONTEXT = {
    rip: '0x0807060504030201',
    rsp: '0x100f0e0d0c0b0a09',
    rflags: '0x1817161514131211',
    cs: { base: '0x201f1e1d1c1b1a19', limit: 0x24232221, selector: 0x2625, attributes: 0x2827 },
    ds: { base: '0x302f2e2d2c2b2a29', limit: 0x34333231, selector: 0x3635, attributes: 0x3837 },
    es: { base: '0x403f3e3d3c3b3a39', limit: 0x44434241, selector: 0x4645, attributes: 0x4847 },
    fs: { base: '0x504f4e4d4c4b4a49', limit: 0x54535251, selector: 0x5655, attributes: 0x5857 },
    gs: { base: '0x605f5e5d5c5b5a59', limit: 0x64636261, selector: 0x6665, attributes: 0x6867 },
    ss: { base: '0x706f6e6d6c6b6a69', limit: 0x74737271, selector: 0x7675, attributes: 0x7877 },
    tr: { base: '0x807f7e7d7c7b7a79', limit: 0x84838281, selector: 0x8685, attributes: 0x8887 },
    ldtr: { base: '0x908f8e8d8c8b8a89', limit: 0x94939291, selector: 0x9695, attributes: 0x9897 },
    idtr: { limit: 0xa09f, base: '0xa8a7a6a5a4a3a2a1' },
    gdtr: { limit: 0xb0af, base: '0xb8b7b6b5b4b3b2b1' },
    efer: '0xc0bfbebdbcbbbab9',
    cr0: '0xc8c7c6c5c4c3c2c1',
    cr3: '0xd0cfcecdcccbcac9',
    cr4: '0xd8d7d6d5d4d3d2d1',
    msrCrPat: '0xe0dfdedddcdbdad9',
  }

  it('parses the JSON form into the InitialVpContextX64 the codecs encode', () => {
    const ctx: InitialVpContextX64 = InitialVpContextSchema.parse(JSON_CONTEXT)
    expect(ctx).toEqual(SEQUENTIAL_CONTEXT)
    expect(encodeInitialVpContextX64(ctx)).toEqual(SEQUENTIAL_CONTEXT_BYTES)
  })

  it('encodes back to the JSON form (canonical hex has no leading zeros)', () => {
    expect(z.encode(InitialVpContextSchema, SEQUENTIAL_CONTEXT)).toEqual({
      ...JSON_CONTEXT,
      rip: '0x807060504030201',
    })
  })

  it('fills every field left out with zero', () => {
    const ctx = InitialVpContextSchema.parse({ rip: '0x1000', cs: { selector: 8 } })
    expect(ctx.rip).toBe(0x1000n)
    expect(ctx.cs).toEqual({ base: 0n, limit: 0, selector: 8, attributes: 0 })
    expect(ctx.gdtr).toEqual({ limit: 0, base: 0n })
    expect(ctx.cr3).toBe(0n)
    expect(encodeInitialVpContextX64(InitialVpContextSchema.parse({}))).toEqual(new Uint8Array(224))
  })

  it('refuses unknown keys and out-of-range values, naming the path', () => {
    expect(InitialVpContextSchema.safeParse({ rax: '0x1' }).success).toBe(false)
    const result = InitialVpContextSchema.safeParse({ cs: { limit: '0x100000000' } })
    expect(result.error?.issues[0]?.path).toEqual(['cs', 'limit'])
    expect(SegmentRegisterSchema.safeParse({ selector: 0x10000 }).success).toBe(false)
  })

  it('round-trips any context', () => {
    fc.assert(
      fc.property(contextArb, (ctx) => {
        expect(z.decode(InitialVpContextSchema, z.encode(InitialVpContextSchema, ctx))).toEqual(ctx)
      })
    )
  })
})

describe('MapGpaFlagsSchema', () => {
  it.each([
    [15, 0xf],
    ['0xf', 0xf],
    [['R', 'W'], 0x3],
    [['Readable', 'KernelExecutable', 'UserExecutable'], 0xd],
    [['R', 'ADJ'], 0x8001],
    [[], 0],
  ])('%o → 0x%s', (input, value) => {
    expect(MapGpaFlagsSchema.parse(input)).toBe(value)
  })

  it('refuses unknown names and values wider than 32 bits', () => {
    expect(MapGpaFlagsSchema.safeParse(['R', 'X']).success).toBe(false)
    expect(MapGpaFlagsSchema.safeParse(2 ** 32).success).toBe(false)
  })
})

describe('PartitionIdSchema / VpIndexSchema', () => {
  it('maps "self" both ways', () => {
    expect(PartitionIdSchema.parse('self')).toBe(0xffff_ffff_ffff_ffffn)
    expect(PartitionIdSchema.parse('0x5')).toBe(5n)
    expect(z.encode(PartitionIdSchema, 0xffff_ffff_ffff_ffffn)).toBe('self')
    expect(z.encode(PartitionIdSchema, 5n)).toBe('0x5')
    expect(VpIndexSchema.parse('self')).toBe(0xffff_fffe)
    expect(VpIndexSchema.parse(3)).toBe(3)
    expect(z.encode(VpIndexSchema, 0xffff_fffe)).toBe('self')
    expect(VpIndexSchema.safeParse('0x100000000').success).toBe(false)
  })
})

describe('JSON Schema export', () => {
  const exported: [string, z.ZodType][] = []
  for (const [name, value] of Object.entries(schemas) as [string, unknown][]) {
    if (value instanceof z.ZodType) exported.push([name, value])
  }

  it('covers every exported schema', () => {
    expect(exported.map(([name]) => name).sort()).toEqual([
      'ByteSizeSchema',
      'GpaRangeSchema',
      'GuestVtlSchema',
      'HexU64Schema',
      'InitialVpContextSchema',
      'MapGpaFlagNameSchema',
      'MapGpaFlagsSchema',
      'NumberOrHexSchema',
      'PartitionIdSchema',
      'SegmentRegisterSchema',
      'TableRegisterSchema',
      'U16Schema',
      'U32Schema',
      'U64Schema',
      'U8Schema',
      'VpIndexSchema',
      'VtlSchema',
    ])
  })

  it.each(exported)('%s exports with io: "input"', (_name, schema) => {
    const json = z.toJSONSchema(schema, { io: 'input' })
    expect(json).toBeTypeOf('object')
    expect(JSON.stringify(json)).not.toContain('bigint')
  })

  it('hex patterns keep their explicit character class', () => {
    const json = JSON.stringify(z.toJSONSchema(HexU64Schema, { io: 'input' }))
    expect(json).toContain('0x[0-9a-fA-F]{1,16}')
  })
})

describe('refineGpaRange', () => {
  const check = (start: bigint, size: bigint, gpaWidth?: number) => {
    let holds: boolean | undefined
    const result = z
      .object({ start: z.bigint(), size: z.bigint() })
      .superRefine((range, ctx) => {
        holds = refineGpaRange(range, ctx, gpaWidth)
      })
      .safeParse({ start, size })
    return { holds, issues: result.error?.issues.map((issue) => issue.path.join('.')) ?? [] }
  }

  it.each([
    [0x1000n, 0x2000n, undefined, true, []],
    [0x1001n, 0x1000n, undefined, false, ['start']],
    [0x1000n, 0n, undefined, false, ['size']],
    [1n << 48n, 0x1000n, 48, false, ['start']],
  ] as const)('start %s size %s width %s → %s', (start, size, width, holds, paths) => {
    expect(check(start, size, width)).toEqual({ holds, issues: [...paths] })
  })
})
