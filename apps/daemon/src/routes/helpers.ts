import { OpenAPIHono, createRoute, z, type RouteConfig } from '@hono/zod-openapi'
import type { Context, TypedResponse } from 'hono'
import type { JSONParsed } from 'hono/utils/types'
import type { IdempotencyEnv } from '../idempotency.js'
import { HypercallResultSchema, ProblemSchema, TdIdParams } from '../schemas.js'
import type { Idempotency } from '../td-types.js'

// What the route files share: the app type, response and request fragments, and the wire form.

/** The app every route file registers on (createApp's). */
export type RouteApp = OpenAPIHono<IdempotencyEnv>

export const problemContent = { 'application/problem+json': { schema: ProblemSchema } }
export const errors = {
  400: { description: 'Bad input', content: problemContent },
  404: { description: 'Unknown TD', content: problemContent },
  409: { description: 'Conflict', content: problemContent },
  413: { description: 'Body too large', content: problemContent },
} as const
export const mutationErrors = {
  ...errors,
  409: {
    description: 'A name in use, a failed TD (E_TD_FAILED) or a vtl assertion (E_VTL_MISMATCH)',
    content: problemContent,
  },
  422: { description: 'Idempotency-Key reused for another request', content: problemContent },
} as const

export const IdempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .openapi({
      param: { name: 'idempotency-key', in: 'header' },
      description: 'a retry with the same key and request answers the first answer again',
    }),
})

/**
 * `app.openapi` registering routes whose only header schema is `IdempotencyHeaders` with the
 * header documented but not validated: a header value is always a string, so that check can
 * never refuse, and it reads and copies every header of the request to find out.
 */
export function documentIdempotencyHeaders(app: RouteApp): void {
  const openapi = app.openapi as (route: RouteConfig, ...rest: unknown[]) => RouteApp
  app.openapi = (route: RouteConfig, ...rest: unknown[]) => {
    if (route.hide === true || route.request?.headers !== IdempotencyHeaders) {
      return openapi(route, ...rest)
    }
    // What openapi registers for a route it shows: the route as declared, less its middleware.
    const documented = { ...route }
    delete documented.middleware
    delete documented.hide
    app.openAPIRegistry.registerPath(documented)
    const request = { ...route.request }
    delete request.headers
    return openapi({ ...route, hide: true, request }, ...rest)
  }
}

const hexBigints = (_key: string, v: unknown): unknown =>
  typeof v === 'bigint' ? `0x${v.toString(16)}` : v

/** JSON text with bigints as 0x hex (the wire form of 64-bit values). */
export const wireText = (value: unknown): string => JSON.stringify(value, hexBigints)

/** JSON with bigints as 0x hex (the wire form of 64-bit values). */
export function toWire(value: unknown): unknown {
  return JSON.parse(wireText(value))
}

const JSON_CONTENT = { 'Content-Type': 'application/json' }

/**
 * A 200 answer whose JSON text is made already, sent as `c.json` sends it (its content type),
 * without a parse and a second stringify.
 */
export function jsonText<T>(c: Context, text: string): TypedResponse<JSONParsed<T>, 200, 'json'> {
  return c.body(text, 200, JSON_CONTENT) as unknown as TypedResponse<JSONParsed<T>, 200, 'json'>
}

/** A guest step's result (StepResult) as a 200 answer in its wire form. */
export const stepAnswer = (c: Context, result: unknown) =>
  jsonText<z.infer<typeof HypercallResultSchema>>(c, wireText(result))

export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
})

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

/** A POST on a TD that answers what the guest sees. */
export function tdCommand<B extends z.ZodType, R extends z.ZodType>(
  path: string,
  summary: string,
  body: B,
  result: R
) {
  return createRoute({
    method: 'post',
    path,
    summary,
    request: { params: TdIdParams, headers: IdempotencyHeaders, body: jsonBody(body) },
    responses: { 200: json(result, 'What the guest sees'), ...mutationErrors },
  })
}

/** The answer the service keeps for an Idempotency-Key: `status` and the wire body. */
export function idem<T>(
  c: Context<IdempotencyEnv>,
  status: number,
  wire: (value: T) => unknown = toWire
): Idempotency<T> | undefined {
  const request = c.get('idempotency')
  if (request === undefined) return undefined
  return {
    ...request,
    render: (value) => ({ status, body: status === 204 ? '' : JSON.stringify(wire(value)) }),
  }
}
