import { createRoute, z } from '@hono/zod-openapi'
import type { ScenarioRunner } from '../scenario-run.js'
import { ScenarioReportSchema } from '../schemas.js'
import { errors, json, toWire, type RouteApp } from './helpers.js'

const runScenarioRoute = createRoute({
  method: 'post',
  path: '/v1/scenarios/run',
  summary: 'Run a scenario file (docs/scenario-format.md) on a fresh TD; answers the run report',
  request: {
    body: {
      required: true,
      content: {
        'application/json': { schema: z.looseObject({}) },
        'application/yaml': { schema: z.string() },
        'text/plain': { schema: z.string() },
      },
    },
  },
  responses: { 200: json(ScenarioReportSchema, 'Report'), ...errors },
})

/** Scenario files run on a fresh TD by `runScenario` (in this thread or a worker). */
export function registerScenarioRoutes(app: RouteApp, runScenario: ScenarioRunner): void {
  app.openapi(runScenarioRoute, async (c) => {
    const report = await runScenario(
      await c.req.text(),
      c.req.header('content-type') ?? '',
      c.req.raw.signal
    )
    return c.json(toWire(report) as z.infer<typeof ScenarioReportSchema>, 200)
  })
}
