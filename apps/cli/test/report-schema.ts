import { z } from 'zod'

// The run report of scenario-format.md, written down independently of @vtl/sim's types so that a
// drift in either shows up here.
const count = z.int().min(0)

export const MismatchSchema = z.strictObject({
  field: z.string().min(1),
  expected: z.unknown(),
  actual: z.unknown(),
})

export const ReportStepSchema = z.strictObject({
  index: count,
  vp: count,
  vtl: z.union([z.literal(0), z.literal(1)]),
  action: z.enum([
    'hypercall',
    'vtlCall',
    'vtlReturn',
    'read',
    'write',
    'execute',
    'setRegister',
    'getRegister',
    'interrupt',
    'run',
    'eoi',
    'fault',
    'io',
    'writeCr',
    'msr',
  ]),
  result: z.looseObject({ activeVtl: z.union([z.literal(0), z.literal(1)]) }),
  ok: z.boolean(),
  mismatches: z.array(MismatchSchema),
})

export const ReportSchema = z
  .strictObject({
    version: z.literal(1),
    scenario: z.string().min(1),
    seed: count,
    passed: count,
    failed: count,
    steps: z.array(ReportStepSchema),
    stats: z.strictObject({
      vtlSwitches: count,
      tdcalls: z.record(z.string(), count),
      hypervisorCalls: z.record(z.string(), count),
    }),
  })
  .refine((r) => r.passed + r.failed === r.steps.length, 'passed + failed = steps')
  .refine((r) => r.steps.filter((s) => !s.ok).length === r.failed, 'failed counts the steps not ok')

export const MultiReportSchema = z.strictObject({
  version: z.literal(1),
  files: count,
  passed: count,
  failed: count,
  reports: z.array(ReportSchema),
})
