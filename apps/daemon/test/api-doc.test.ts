import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { renderApiDoc, type OpenApiDocument } from './api-doc.js'
import { setup } from './routes-helpers.js'

// docs/daemon-api.md is generated from the routes: a route change without the page regenerated
// fails here. Regenerate with: VTL_WRITE_DOCS=1 npx vitest run apps/daemon/test/api-doc.test.ts

const page = fileURLToPath(new URL('../../../docs/daemon-api.md', import.meta.url))

it('docs/daemon-api.md is the OpenAPI document of the routes', async () => {
  const { app } = setup()
  const doc = (await (await app.request('/openapi.json')).json()) as OpenApiDocument
  const text = renderApiDoc(doc)
  if (process.env.VTL_WRITE_DOCS === '1') writeFileSync(page, text)
  expect(readFileSync(page, 'utf8')).toBe(text)
})
