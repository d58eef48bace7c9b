import type { z } from '@hono/zod-openapi'
import { HypercallBody, HypercallResultSchema, StepsBody, StepsResultSchema } from '../schemas.js'
import type { TdService } from '../td-service.js'
import { idem, stepAnswer, tdCommand, toWire, type RouteApp } from './helpers.js'

const hypercall = tdCommand(
  '/v1/tds/{id}/hypercall',
  'Issue a raw hypercall from a VP; answers what the guest sees',
  HypercallBody,
  HypercallResultSchema
)
const steps = tdCommand(
  '/v1/tds/{id}/steps',
  'Perform scenario steps (docs/scenario-format.md) in order, all validated before any runs',
  StepsBody,
  StepsResultSchema
)

/** Guest steps given raw: one hypercall, or scenario-format.md steps. */
export function registerStepRoutes(app: RouteApp, tds: TdService): void {
  app.openapi(hypercall, async (c) => {
    const result = await tds.hypercall(c.req.valid('param').id, c.req.valid('json'), idem(c, 200))
    return stepAnswer(c, result)
  })
  app.openapi(steps, async (c) => {
    const wire = (done: unknown) => ({ results: toWire(done) })
    const done = await tds.steps(
      c.req.valid('param').id,
      c.req.valid('json').steps,
      idem(c, 200, wire)
    )
    return c.json(wire(done) as z.infer<typeof StepsResultSchema>, 200)
  })
}
