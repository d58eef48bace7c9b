import { z } from '@hono/zod-openapi'
import { ByteSizeSchema, U16Schema } from '@vtl/core/schemas'

// The API's request and response schemas. Sizes and 64-bit values reuse @vtl/core's codecs: on
// the wire they are strings (`64MiB`, `0x1f`), inside they are bigints.

export const TdIdParams = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: 'id', in: 'path' }, example: 'td-1a2b3c4d' }),
})

export const CreateTdBody = z
  .object({
    name: z.string().min(1).max(64).optional(),
    vps: z.int().min(1).max(1024),
    memory: ByteSizeSchema,
    gpaWidth: z.union([z.literal(48), z.literal(52)]).default(48),
    mbec: z.boolean().default(true),
  })
  .strict()
  .openapi('CreateTd')

export const TdSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    backend: z.literal('sim'),
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

export const HypercallBody = z
  .object({
    vp: z.int().min(0).max(1023),
    code: U16Schema,
    input: HexBytes.default(() => new Uint8Array(0)),
    repStart: z.int().min(0).max(0xfff).default(0),
    repCount: z.int().min(0).max(0xfff).default(0),
    varHeaderSize: z.int().min(0).max(0x3ff).default(0),
    fast: z.boolean().default(false),
  })
  .strict()
  .openapi('Hypercall')

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
