// apps/cli/src/vtld-api.ts from vtld's OpenAPI document: a TypeScript type per schema and one
// entry per route (path parameters, query, body, answer), so the CLI's requests and the answers
// it reads are checked against the daemon's routes at compile time.

type Schema = Record<string, unknown>
interface Parameter {
  name: string
  in: string
  required?: boolean
  schema?: Schema
}
interface Operation {
  parameters?: Parameter[]
  requestBody?: { content?: Record<string, { schema?: Schema }> }
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>
}
export interface OpenApi {
  paths: Record<string, Record<string, Operation>>
  components?: { schemas?: Record<string, Schema> }
}

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null
const key = (name: string): string =>
  /^[A-Za-z_$][\w$]*$/.test(name) ? name : JSON.stringify(name)

/** A JSON Schema (the subset zod emits) as a TypeScript type. */
export function typeOf(schema: unknown, indent = ''): string {
  if (!isSchema(schema) || Object.keys(schema).length === 0) return 'unknown'
  if (typeof schema.$ref === 'string') return schema.$ref.split('/').pop() ?? 'unknown'
  if ('const' in schema) return JSON.stringify(schema.const)
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(' | ')
  if (Array.isArray(schema.anyOf)) return union(schema.anyOf.map((s) => typeOf(s, indent)))
  if (Array.isArray(schema.oneOf)) return union(schema.oneOf.map((s) => typeOf(s, indent)))
  if (Array.isArray(schema.allOf)) return schema.allOf.map((s) => typeOf(s, indent)).join(' & ')
  if (Array.isArray(schema.type)) {
    return union((schema.type as unknown[]).map((t) => typeOf({ ...schema, type: t }, indent)))
  }
  switch (schema.type) {
    case 'string':
      return 'string'
    case 'integer':
    case 'number':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'null':
      return 'null'
    case 'array':
      return `(${typeOf(schema.items, indent)})[]`
    case 'object':
      return objectType(schema, indent)
    default:
      return 'unknown'
  }
}

/** A union of types, each member once (members of nested unions included). */
function union(types: string[]): string {
  return [...new Set(types.flatMap(members))].join(' | ')
}

/** The top-level members of a union type's text. */
function members(type: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < type.length; i++) {
    const c = type[i]
    if (c === '(' || c === '{' || c === '[' || c === '<') depth++
    else if (c === ')' || c === '}' || c === ']' || c === '>') depth--
    else if (depth === 0 && type.startsWith(' | ', i)) {
      out.push(type.slice(start, i))
      start = i + 3
    }
  }
  out.push(type.slice(start))
  return out
}

function objectType(schema: Schema, indent: string): string {
  const properties = isSchema(schema.properties) ? schema.properties : {}
  const required = Array.isArray(schema.required) ? schema.required : []
  const inner = `${indent}  `
  const fields = Object.entries(properties).map(
    ([name, s]) => `${inner}${key(name)}${required.includes(name) ? '' : '?'}: ${typeOf(s, inner)}`
  )
  const extra = schema.additionalProperties
  if (extra !== undefined && extra !== false) {
    fields.push(`${inner}[key: string]: unknown`)
  }
  if (fields.length === 0) return 'Record<string, never>'
  return `{\n${fields.join('\n')}\n${indent}}`
}

const json = (content: Record<string, { schema?: Schema }> | undefined): Schema | undefined =>
  content?.['application/json']?.schema

/** The whole module text. */
export function renderVtldApi(doc: OpenApi): string {
  const out: string[] = [
    '// Generated from vtld’s /openapi.json by apps/cli/test/vtld-api.test.ts; do not edit.',
    '// Regenerate: VTL_WRITE_DOCS=1 npx vitest run apps/cli/test/vtld-api.test.ts',
    '',
  ]
  for (const [name, schema] of Object.entries(doc.components?.schemas ?? {})) {
    out.push(`export type ${name} = ${typeOf(schema)}`, '')
  }
  out.push('/** Every route: `METHOD /path/{param}` → its parameters, body and 2xx answer. */')
  out.push('export interface VtldRoutes {')
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op.parameters ?? []).filter((p) => p.in === 'path' || p.in === 'query')
      const group = (where: string): string => {
        const list = params.filter((p) => p.in === where)
        if (list.length === 0) return 'Record<string, never>'
        return `{ ${list.map((p) => `${key(p.name)}${p.required === true ? '' : '?'}: ${typeOf(p.schema, '    ')}`).join('; ')} }`
      }
      const ok = Object.entries(op.responses ?? {}).find(([status]) => status.startsWith('2'))
      const answer = ok === undefined ? 'unknown' : (json(ok[1].content) ?? {})
      out.push(
        `  ${JSON.stringify(`${method.toUpperCase()} ${path}`)}: {`,
        `    params: ${group('path')}`,
        `    query: ${group('query')}`,
        `    body: ${op.requestBody === undefined ? 'undefined' : typeOf(json(op.requestBody.content), '    ')}`,
        `    answer: ${typeof answer === 'string' ? answer : typeOf(answer, '    ')}`,
        '  }'
      )
    }
  }
  out.push('}', '')
  return out.join('\n')
}
