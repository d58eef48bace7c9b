import type { z } from '@hono/zod-openapi'
import { describe, expect, it } from 'vitest'
import { HypercallBody, StepsBody, TdIdParams } from '../src/schemas.js'
import { parseSteps, rawHypercallStep } from '../src/guest-steps.js'
import type { TdMeta } from '../src/journal.js'
import type { HypercallSpec } from '../src/td-types.js'

// The hot routes' hand checks (fast-parse.ts) against zod, which stays the source of truth:
// every body goes through both, and a hand check either agrees with zod's output or passes.

const HEX = '0f00000000000000' + '01000000' + '01000000'

/** Raw hypercall bodies: the bench's, edge values, and inputs zod refuses or converts. */
const HYPERCALLS: unknown[] = [
  { vp: 0, code: '0x000f', input: HEX },
  { vp: 1023, vtl: 1, code: 0xffff, input: '', repStart: 0xfff, repCount: 0xfff },
  { vp: 0, vtl: 0, code: 0, varHeaderSize: 0x3ff, fast: true },
  { vp: 0, code: '65535' },
  { vp: 0, code: '9999', input: 'ABcd' },
  { vp: -0, code: 1 },
  // zod decides (converted or refused):
  { vp: 0, code: '0x10000' },
  { vp: 0, code: '0x0000f' },
  { vp: 0, code: '65536' },
  { vp: 0, code: '099999' },
  { vp: 0, code: 0x10000 },
  { vp: 0, code: -1 },
  { vp: 0, code: 1.5 },
  { vp: 0, code: '0xg' },
  { vp: 0, code: '' },
  { vp: 0, code: null },
  { vp: 0 },
  { code: 1 },
  { vp: 1024, code: 1 },
  { vp: -1, code: 1 },
  { vp: 0.5, code: 1 },
  { vp: '0', code: 1 },
  { vp: 0, vtl: 2, code: 1 },
  { vp: 0, vtl: '1', code: 1 },
  { vp: 0, vtl: '0x1', code: 1 },
  { vp: 0, vtl: null, code: 1 },
  { vp: 0, code: 1, input: '0f 00\n01' },
  { vp: 0, code: 1, input: '0x0f' },
  { vp: 0, code: 1, input: 'abc' },
  { vp: 0, code: 1, input: 'zz' },
  { vp: 0, code: 1, input: 'ab'.repeat(8192) },
  { vp: 0, code: 1, input: 'ab'.repeat(8192) + 'ab' },
  { vp: 0, code: 1, input: 12 },
  { vp: 0, code: 1, repStart: 0x1000 },
  { vp: 0, code: 1, repCount: -1 },
  { vp: 0, code: 1, repCount: '1' },
  { vp: 0, code: 1, varHeaderSize: 0x400 },
  { vp: 0, code: 1, fast: 'true' },
  { vp: 0, code: 1, fast: 1 },
  { vp: 0, code: 1, extra: true },
  { vp: 0, code: 1, __proto__: null },
  JSON.parse('{"vp":0,"code":1,"__proto__":{"x":1}}'),
  Object.assign(Object.create(null) as object, { vp: 0, code: 1 }),
  [],
  null,
  'x',
  42,
]

const ENABLE = { name: 'EnablePartitionVtl', input: { targetVtl: 1 } }

/** Steps bodies: zod puts vp, vtl, note first and keeps the rest (the journal keeps that text). */
const STEPS: unknown[] = [
  { steps: [{ vp: 0, hypercall: ENABLE }] },
  { steps: [{ hypercall: ENABLE, note: 'n', vp: 1023, vtl: 1, extra: [1] }] },
  {
    steps: [
      { run: {}, vtl: 0, vp: 2 },
      { vp: 0, note: '', vtlCall: {} },
    ],
  },
  { steps: Array.from({ length: 4096 }, () => ({ vp: 0, eoi: {} })) },
  JSON.parse('{"steps":[{"1":true,"vp":0,"b":2,"a":1}]}'),
  // zod decides (refused):
  { steps: Array.from({ length: 4097 }, () => ({ vp: 0, eoi: {} })) },
  { steps: [] },
  { steps: {} },
  { steps: [{ vp: 0, run: {} }], other: 1 },
  {},
  { steps: [{ vp: 0, run: {}, expect: { status: 'Success' } }] },
  { steps: [{ vp: 0, run: {}, fault: {} }] },
  { steps: [{ vp: 1024, run: {} }] },
  { steps: [{ vp: '0', run: {} }] },
  { steps: [{ run: {} }] },
  { steps: [{ vp: 0, vtl: 2, run: {} }] },
  { steps: [{ vp: 0, vtl: '1', run: {} }] },
  { steps: [{ vp: 0, note: 3, run: {} }] },
  { steps: [null] },
  { steps: [[]] },
  JSON.parse('{"steps":[{"vp":0,"run":{},"__proto__":{"vtl":1}}]}'),
  [],
  null,
]

/** What zod alone makes of `input` (the schema's own parse, bypassing the hand check). */
const zodOnly = <S extends z.ZodType>(schema: S, input: unknown) => schema.safeParse(input)

describe('hand checks agree with zod (fast-parse.ts)', () => {
  it.each(HYPERCALLS.map((body, n) => [n, body] as const))(
    'hypercall body %i: same success and data as zod',
    async (_n, body) => {
      const fast = await HypercallBody.safeParseAsync(body)
      const zod = zodOnly(HypercallBody, body)
      expect(fast).toEqual(zod)
      expect(Object.keys(fast.data ?? {})).toEqual(Object.keys(zod.data ?? {}))
    }
  )

  it('the bench body: the raw call with its defaults', async () => {
    const fast = HypercallBody.safeParseAsync({ vp: 0, code: '0x000f', input: HEX })
    expect(await fast).toEqual({
      success: true,
      data: {
        vp: 0,
        code: 15,
        input: new Uint8Array(Buffer.from(HEX, 'hex')),
        repStart: 0,
        repCount: 0,
        varHeaderSize: 0,
        fast: false,
      },
    })
  })

  it.each(STEPS.map((body, n) => [n, body] as const))(
    'steps body %i: same success and data (key order included) as zod',
    async (_n, body) => {
      const fast = await StepsBody.safeParseAsync(body)
      const zod = zodOnly(StepsBody, body)
      expect(fast).toStrictEqual(zod)
      expect(JSON.stringify(fast.data)).toBe(JSON.stringify(zod.data))
    }
  )

  it.each([
    [{ id: 'td-1' }],
    [{ id: 'x'.repeat(64) }],
    [{ id: 'x'.repeat(65) }],
    [{ id: '' }],
    [{ id: 1 }],
    [{}],
    [{ id: 'a', other: 'b' }],
    [[]],
    [null],
  ])('TD id params %j: same as zod', async (params) => {
    expect(await TdIdParams.safeParseAsync(params)).toEqual(zodOnly(TdIdParams, params))
  })
})

describe('rawHypercallStep', () => {
  const meta: TdMeta = {
    td: 'td-1',
    name: undefined,
    vps: 4,
    memory: '0x4000000',
    gpaWidth: 48,
    mbec: true,
  }
  const specs: HypercallSpec[] = [
    {
      vp: 0,
      code: 0xf,
      input: new Uint8Array(Buffer.from(HEX, 'hex')),
      repStart: 0,
      repCount: 0,
      varHeaderSize: 0,
      fast: false,
    },
    {
      vp: 3,
      vtl: 1,
      code: 0xffff,
      input: new Uint8Array(0),
      repStart: 0xfff,
      repCount: 0xfff,
      varHeaderSize: 0x3ff,
      fast: true,
    },
    {
      vp: 1,
      vtl: 0,
      code: 0x4c,
      input: new Uint8Array([0xab, 0, 0xff]),
      repStart: 1,
      repCount: 2,
      varHeaderSize: 0,
      fast: false,
    },
  ]

  it.each(specs.map((spec) => [spec.vp, spec] as const))(
    'VP %i: the built step is what the scenario parser makes of its step object',
    (_vp, spec) => {
      const { source, step } = rawHypercallStep(spec)
      expect(step).toStrictEqual(parseSteps(meta, [source])[0])
      expect(JSON.parse(JSON.stringify(source))).toEqual(source)
    }
  )
})
