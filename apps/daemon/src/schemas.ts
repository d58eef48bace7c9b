import { z } from '@hono/zod-openapi'
import { parsePermissionText } from '@vtl/core'
import {
  ByteSizeSchema,
  GuestVtlSchema,
  MapGpaFlagsSchema,
  NUMERIC_STRING_PATTERN,
  NumberOrHexSchema,
  U16Schema,
  U64Schema,
  refineGpaRange,
} from '@vtl/core/schemas'
import { intIn, plainWithKeys, withFastParse } from './fast-parse.js'

// The API's request and response schemas. Sizes and 64-bit values reuse @vtl/core's codecs: on
// the wire they are strings (`64MiB`, `0x1f`), inside they are bigints.

export const TdIdParams = withFastParse(
  z.object({
    id: z
      .string()
      .min(1)
      .max(64)
      .openapi({ param: { name: 'id', in: 'path' }, example: 'td-1a2b3c4d' }),
  }),
  (params) => {
    const id = plainWithKeys(params, undefined)?.id
    return typeof id === 'string' && id.length >= 1 && id.length <= 64 ? { id } : undefined
  }
)

export const CreateTdBody = z
  .object({
    name: z.string().min(1).max(64).optional(),
    vps: z.int().min(1).max(1024),
    memory: ByteSizeSchema,
    gpaWidth: z.union([z.literal(48), z.literal(52)]).default(48),
    mbec: z.boolean().default(true),
    startedVps: z
      .array(z.int().min(0).max(1023))
      .max(1024)
      .optional()
      .openapi({ description: 'VPs running in VTL0 at creation (default all)' }),
  })
  .strict()
  .openapi('CreateTd')

export const TdSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    backend: z.enum(['sim', 'hw']),
    vps: z.int(),
    memory: z.string().openapi({ description: 'bytes, 0x hex', example: '0x4000000' }),
    gpaWidth: z.union([z.literal(48), z.literal(52)]),
    mbec: z.boolean(),
    state: z.string(),
  })
  .openapi('Td')

export const TdListSchema = z.object({ tds: z.array(TdSchema) }).openapi('TdList')

export const TdStatusSchema = z
  .object({
    id: z.string(),
    partition: z.object({ guestVsmState: z.string(), vsmPartitionStatus: z.string() }),
    vps: z.array(
      z.object({
        vp: z.int(),
        activeVtl: z.int(),
        vtl1Enabled: z.boolean(),
        vsmVpStatus: z.string(),
        readStatus: z.string(),
        /** Halted until other VPs release a TLB lock (§13.15): it cannot run until then. */
        blocked: z.boolean(),
        /** Requested, undelivered vectors (APIC IRR) of each VTL. */
        pendingInterrupts: z.object({ vtl0: z.array(z.int()), vtl1: z.array(z.int()) }),
      })
    ),
  })
  .openapi('TdStatus')

/** Raw hypercall input: hex byte pairs without `0x`, whitespace ignored (scenario-format.md). */
const HexBytes = z
  .string()
  .max(2 * 8192)
  .transform((text) => text.replace(/\s+/g, ''))
  .pipe(z.string().regex(/^([0-9a-fA-F]{2})*$/, 'expected hex byte pairs without 0x'))
  .transform((text) => new Uint8Array(Buffer.from(text, 'hex')))

const Vp = z.int().min(0).max(1023).openapi({ description: 'the VP that acts' })

const HypercallSchema = z
  .object({
    vp: Vp,
    vtl: GuestVtlSchema.optional().openapi({
      description: 'asserted active VTL of the VP (after its wakes); mismatch: 409 E_VTL_MISMATCH',
    }),
    code: U16Schema,
    input: HexBytes.default(() => new Uint8Array(0)),
    repStart: z.int().min(0).max(0xfff).default(0),
    repCount: z.int().min(0).max(0xfff).default(0),
    varHeaderSize: z.int().min(0).max(0x3ff).default(0),
    fast: z.boolean().default(false),
  })
  .strict()
  .openapi('Hypercall')

const HYPERCALL_KEYS: ReadonlySet<string> = new Set(Object.keys(HypercallSchema.shape))
/** `code` as text that U16Schema takes and that cannot exceed 16 bits. */
const U16_TEXT = /^(0x[0-9a-fA-F]{1,4}|[0-9]{1,4})$/
const HEX_PAIRS = /^([0-9a-fA-F]{2})*$/

export const HypercallBody = withFastParse(HypercallSchema, (input) => {
  const body = plainWithKeys(input, HYPERCALL_KEYS)
  if (body === undefined) return undefined
  const { vp, vtl, code, input: hex = '' } = body
  const { repStart = 0, repCount = 0, varHeaderSize = 0, fast = false } = body
  const guestVtl: 0 | 1 | undefined = vtl === 0 ? 0 : vtl === 1 ? 1 : undefined
  if (!intIn(vp, 0, 1023) || guestVtl !== vtl) return undefined
  const call = intIn(code, 0, 0xffff)
    ? code
    : typeof code === 'string' && U16_TEXT.test(code)
      ? Number(code)
      : -1
  if (call < 0 || typeof hex !== 'string' || hex.length > 2 * 8192 || !HEX_PAIRS.test(hex)) {
    return undefined
  }
  if (!intIn(repStart, 0, 0xfff) || !intIn(repCount, 0, 0xfff)) return undefined
  if (!intIn(varHeaderSize, 0, 0x3ff) || typeof fast !== 'boolean') return undefined
  return {
    vp,
    ...(guestVtl === undefined ? {} : { vtl: guestVtl }),
    code: call,
    input: new Uint8Array(Buffer.from(hex, 'hex')),
    repStart,
    repCount,
    varHeaderSize,
    fast,
  }
})

export const HypercallResultSchema = z
  .looseObject({
    status: z.string().optional(),
    code: z.union([z.int(), z.string()]).optional(),
    repsCompleted: z.int().optional(),
    output: z.string().optional(),
    activeVtl: z.int().optional(),
  })
  .openapi('HypercallResult')

export const ScenarioReportSchema = z
  .looseObject({
    version: z.literal(1),
    scenario: z.string(),
    seed: z.int(),
    passed: z.int(),
    failed: z.int(),
    steps: z.array(z.looseObject({})),
  })
  .openapi('ScenarioReport')

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    code: z.string(),
    detail: z.string(),
    hvStatus: z.string().optional(),
    issues: z.unknown().optional(),
  })
  .openapi('Problem')

export const StepResultSchema = HypercallResultSchema

/** A scenario-format.md step object; the scenario parser checks the action (400 on bad input). */
const StepSourceSchema = z
  .looseObject({
    vp: Vp,
    vtl: z.union([z.literal(0), z.literal(1)]).optional(),
    note: z.string().optional(),
  })
  .refine((step) => !('expect' in step) && !('fault' in step), {
    message: 'steps here take no expect and no fault',
  })
  .openapi('Step', {
    description:
      'a scenario step (docs/scenario-format.md): vp, vtl?, exactly one action key, note?',
    example: { vp: 0, hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1 } } },
  })

const StepsSchema = z
  .object({ steps: z.array(StepSourceSchema).min(1).max(4096) })
  .strict()
  .openapi('Steps')

const STEPS_KEYS = new Set(['steps'])

/** A step object as StepSourceSchema gives it: `vp`, `vtl`, `note` first, then the rest as sent. */
function fastStep(input: unknown): z.output<typeof StepSourceSchema> | undefined {
  const step = plainWithKeys(input, undefined)
  if (step === undefined || 'expect' in step || 'fault' in step) return undefined
  const { vp, vtl, note } = step
  const guestVtl: 0 | 1 | undefined = vtl === 0 ? 0 : vtl === 1 ? 1 : undefined
  if (!intIn(vp, 0, 1023) || guestVtl !== vtl) return undefined
  if (note !== undefined && typeof note !== 'string') return undefined
  const out: z.output<typeof StepSourceSchema> = { vp }
  if ('vtl' in step) out.vtl = guestVtl
  if ('note' in step) out.note = note
  for (const key in step) {
    if (key === '__proto__') return undefined
    if (key !== 'vp' && key !== 'vtl' && key !== 'note') out[key] = step[key]
  }
  return out
}

export const StepsBody = withFastParse(StepsSchema, (input) => {
  const steps = plainWithKeys(input, STEPS_KEYS)?.steps
  if (!Array.isArray(steps) || steps.length < 1 || steps.length > 4096) return undefined
  const out: z.output<typeof StepSourceSchema>[] = []
  for (const step of steps) {
    const parsed = fastStep(step)
    if (parsed === undefined) return undefined
    out.push(parsed)
  }
  return { steps: out }
})

export const StepsResultSchema = z
  .object({
    results: z.array(
      z.object({
        index: z.int(),
        vp: z.int(),
        vtl: z.int(),
        action: z.string(),
        result: StepResultSchema,
      })
    ),
  })
  .openapi('StepsResult')

/** An initial VP context: fields left out keep the scenario default (flat long mode). */
const ContextSchema = z.record(z.string(), z.unknown()).openapi('VpContext', {
  description: 'InitialVpContextX64 fields (rip, rsp, cr3, cs, …; 64-bit values as 0x hex)',
  example: { rip: '0x100000', rsp: '0x200000' },
})

const TargetVp = z.int().min(0).max(0xffff_ffff)

export const EnablePartitionVtlBody = z
  .object({
    vp: Vp,
    targetVtl: z.int().min(0).max(255).default(1),
    mbec: z.boolean().default(false),
  })
  .strict()
  .openapi('EnablePartitionVtl')

export const EnableVpVtlBody = z
  .object({
    vp: Vp,
    targetVp: TargetVp,
    targetVtl: z.int().min(0).max(255).default(1),
    context: ContextSchema.optional(),
  })
  .strict()
  .openapi('EnableVpVtl')

export const StartVpBody = z
  .object({
    vp: Vp,
    targetVp: TargetVp,
    targetVtl: z.int().min(0).max(255).default(0),
    context: ContextSchema.optional(),
  })
  .strict()
  .openapi('StartVirtualProcessor')

export const VpQuery = z.object({
  vp: NumberOrHexSchema.pipe(z.int().max(1023)).openapi({ param: { name: 'vp', in: 'query' } }),
})

export const PartitionConfigSchema = z
  .object({ vp: z.int(), vtl: z.int(), value: z.string(), status: z.string() })
  .openapi('PartitionConfig')

export const PartitionConfigBody = z
  .object({ vp: Vp, value: U64Schema })
  .strict()
  .openapi('SetPartitionConfig')

/** Pages one protect/share/unshare request may name (256 MiB). */
export const MAX_RANGE_PAGES = 1n << 16n

/** `{start, size}` by core's GPA range rules, and at most `maxPages` pages when given. */
function checkRange(
  range: { start: bigint; size: bigint },
  ctx: z.core.$RefinementCtx,
  maxPages?: bigint
): void {
  if (!refineGpaRange(range, ctx)) return
  if (maxPages !== undefined && range.size >> 12n > maxPages) {
    ctx.addIssue({
      code: 'custom',
      message: `at most ${maxPages} pages (${maxPages << 12n} bytes) per request`,
      path: ['size'],
    })
  }
}

/** HvMapGpaFlags: a number, `0x` hex, flag names (`["R","W"]`, `"R,W"`), or `rwx`-style text. */
const PermissionFlagsSchema = z
  .union([MapGpaFlagsSchema, z.string()])
  .transform((value, ctx) => {
    if (typeof value === 'number') return value
    if (NUMERIC_STRING_PATTERN.test(value)) return Number(value)
    const text = parsePermissionText(value)
    if (text !== undefined) return text
    const names = value.split(/[\s,|]+/).filter((name) => name !== '')
    const parsed = MapGpaFlagsSchema.safeParse(names)
    if (names.length > 0 && parsed.success) return parsed.data
    ctx.addIssue({
      code: 'custom',
      message: 'expected HvMapGpaFlags: a number, flag names (R, W, KX, UX…) or rwx-style text',
    })
    return z.NEVER
  })
  .openapi({
    description:
      'HvMapGpaFlags: number, names (R W KX UX …) or rwx-style text (r, w, x=KX, u=UX, -)',
    example: 'r-',
  })

export const ProtectBody = z
  .object({
    vp: Vp,
    targetVtl: z.int().min(0).max(2).optional(),
    start: U64Schema,
    size: ByteSizeSchema,
    flags: PermissionFlagsSchema,
  })
  .strict()
  .superRefine((body, ctx) => {
    checkRange(body, ctx, MAX_RANGE_PAGES)
  })
  .openapi('Protect')

export const HostVisibilityBody = z
  .object({ vp: Vp, start: U64Schema, size: ByteSizeSchema })
  .strict()
  .superRefine((body, ctx) => {
    checkRange(body, ctx, MAX_RANGE_PAGES)
  })
  .openapi('HostVisibility')

export const AcceptBody = z
  .object({ start: U64Schema, size: ByteSizeSchema })
  .strict()
  .superRefine((body, ctx) => {
    checkRange(body, ctx)
  })
  .openapi('Accept')

export const RangeResultSchema = HypercallResultSchema.extend({ processed: z.int() }).openapi(
  'RangeResult'
)

export const AcceptResultSchema = z
  .object({ accepted: z.string(), status: z.string() })
  .openapi('AcceptResult')

export const RunsQuery = z.object({
  start: U64Schema.optional().openapi({ param: { name: 'start', in: 'query' } }),
  size: ByteSizeSchema.optional().openapi({ param: { name: 'size', in: 'query' } }),
  cursor: U64Schema.optional().openapi({ param: { name: 'cursor', in: 'query' } }),
  limit: NumberOrHexSchema.pipe(z.int().min(1).max(4096))
    .default(256)
    .openapi({ param: { name: 'limit', in: 'query' } }),
})

export const RunsSchema = z
  .object({
    runs: z.array(
      z.object({
        start: z.string(),
        size: z.string(),
        kind: z.enum(['ram', 'mmio', 'none']),
        visibility: z.enum(['private', 'shared']),
        accepted: z.boolean(),
        locked: z.boolean(),
        vtl0: z
          .string()
          .openapi({ description: 'rwxu text (R W KX UX), none: no VALID attributes' }),
        vtl1: z.string(),
        overlay: z.object({ vtl0: z.boolean(), vtl1: z.boolean() }),
      })
    ),
    next: z.string().nullable(),
  })
  .openapi('Runs')

export const TraceQuery = z.object({
  limit: NumberOrHexSchema.pipe(z.int().min(1).max(1_000_000))
    .optional()
    .openapi({ param: { name: 'limit', in: 'query' } }),
})

export const ChromeTraceSchema = z
  .looseObject({ traceEvents: z.array(z.looseObject({})), displayTimeUnit: z.string() })
  .openapi('ChromeTrace')

/** The outline of a snapshot document; the simulator checks the rest when it restores. */
export const SnapshotSchema = z
  .looseObject({
    version: z.literal(1),
    options: z.looseObject({
      vps: z.int(),
      memory: z.string(),
      gpaWidth: z.union([z.literal(48), z.literal(52)]),
      mbecCapable: z.boolean(),
      seed: z.int(),
    }),
    platform: z.looseObject({
      module: z.looseObject({}),
      hypervisor: z.looseObject({}),
      trace: z.looseObject({}),
      clock: z.unknown(),
      stats: z.looseObject({}),
    }),
    shared: z.string(),
    vps: z.array(z.unknown()),
    memory: z.looseObject({ runs: z.array(z.looseObject({})), defaults: z.looseObject({}) }),
    contents: z.looseObject({}),
    guest: z.looseObject({}),
    faults: z.array(z.looseObject({})),
  })
  .openapi('TdSnapshot', { description: "@vtl/sim saveTd's JSON form" })

export const RestoreBody = z
  .object({ name: z.string().min(1).max(64).optional(), snapshot: SnapshotSchema })
  .strict()
  .openapi('Restore')

export const DeleteQuery = z.object({
  force: z
    .enum(['true', 'false'])
    .optional()
    .openapi({ param: { name: 'force', in: 'query' } }),
})
