import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createApp } from '@vtl/daemon'
import { expect, it } from 'vitest'
import { renderVtldApi, type OpenApi } from './vtld-api-gen.js'

// src/vtld-api.ts is generated from the daemon's routes: a route change fails here until it is
// regenerated, and then fails the CLI's typecheck wherever the CLI no longer fits the route.

const file = fileURLToPath(new URL('../src/vtld-api.ts', import.meta.url))

it('src/vtld-api.ts is the OpenAPI document of vtld’s routes', async () => {
  const app = createApp({ tds: {} as never })
  const doc = (await (await app.request('/openapi.json')).json()) as OpenApi
  const text = renderVtldApi(doc)
  if (process.env.VTL_WRITE_DOCS === '1') writeFileSync(file, text)
  expect(readFileSync(file, 'utf8')).toBe(text)
})
