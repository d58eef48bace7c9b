// docs/daemon-api.md from vtld's OpenAPI document: one section per route (what it does, its
// parameters, its body and its answers) and the schemas they name. Generated, so the page cannot
// drift from the routes.

interface Schema {
  $ref?: string
  [key: string]: unknown
}
interface Operation {
  summary?: string
  parameters?: {
    name: string
    in: string
    required?: boolean
    description?: string
    schema?: Schema
  }[]
  requestBody?: { content?: Record<string, { schema?: Schema }> }
  responses?: Record<
    string,
    { description?: string; content?: Record<string, { schema?: Schema }> }
  >
}
export interface OpenApiDocument {
  info: { title: string; version: string; description?: string }
  paths: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, Schema> }
}

const refName = (ref: string): string => ref.split('/').pop() ?? ref

/** A schema in one short phrase: a named schema links to its section. */
function schemaText(schema: Schema | undefined): string {
  if (schema === undefined) return ''
  if (schema.$ref !== undefined) {
    const name = refName(schema.$ref)
    return `[${name}](#${name.toLowerCase()})`
  }
  if (schema.type === 'array' && typeof schema.items === 'object' && schema.items !== null) {
    return `array of ${schemaText(schema.items as Schema)}`
  }
  if (typeof schema.type === 'string') return `\`${schema.type}\``
  return '`object`'
}

function bodyText(content: Record<string, { schema?: Schema }> | undefined): string {
  if (content === undefined) return ''
  return Object.entries(content)
    .map(([type, { schema }]) => `${schemaText(schema)} (\`${type}\`)`)
    .join(', ')
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ')

export function renderApiDoc(doc: OpenApiDocument): string {
  const lines: string[] = [
    `# ${doc.info.title} HTTP API`,
    '',
    '<!-- Generated from the daemon’s /openapi.json by apps/daemon/test/api-doc.test.ts; do not edit. -->',
    '',
    `${doc.info.description ?? ''}, version ${doc.info.version}. \`GET /openapi.json\` serves the`,
    'same document to tools. 64-bit values travel as `0x` hex strings; errors are',
    '`application/problem+json` with a stable `code` (see [Problem](#problem)).',
    '',
    '| method | path | what it does |',
    '| --- | --- | --- |',
  ]
  const routes = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op }))
  )
  for (const { path, method, op } of routes) {
    lines.push(`| ${method} | \`${path}\` | ${cell(op.summary ?? '')} |`)
  }
  for (const { path, method, op } of routes) {
    lines.push('', `## ${method} ${path}`, '', op.summary ?? '')
    const params = op.parameters ?? []
    if (params.length > 0) {
      lines.push(
        '',
        '| parameter | in | required | type | description |',
        '| --- | --- | --- | --- | --- |'
      )
      for (const p of params) {
        lines.push(
          `| \`${p.name}\` | ${p.in} | ${p.required === true ? 'yes' : 'no'} | ${schemaText(p.schema)} | ${cell(p.description ?? '')} |`
        )
      }
    }
    const body = bodyText(op.requestBody?.content)
    if (body !== '') lines.push('', `Body: ${body}`)
    lines.push('', '| answer | meaning | body |', '| --- | --- | --- |')
    for (const [status, r] of Object.entries(op.responses ?? {})) {
      lines.push(`| ${status} | ${cell(r.description ?? '')} | ${bodyText(r.content)} |`)
    }
  }
  lines.push('', '## Schemas')
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    lines.push('', `### ${name}`, '', '```json', JSON.stringify(schema, null, 2), '```')
  }
  return `${lines.join('\n')}\n`
}
