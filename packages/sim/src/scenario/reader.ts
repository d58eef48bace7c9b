import {
  ByteSizeSchema,
  MapGpaFlagsSchema,
  NumberOrHexSchema,
  PartitionIdSchema,
  U64Schema,
  VpIndexSchema,
  uintSchema,
} from '@vtl/core/schemas'
import { ScenarioError } from './scenario-error.js'

/** A zod schema as far as the reader needs it (the core codecs are zod 4 codecs). */
interface Parser<T> {
  safeParse(
    value: unknown
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: readonly { message: string; path: PropertyKey[] }[] } }
}

const schemaCache = new Map<number, Parser<number>>()
function uint(bits: number): Parser<number> {
  let schema = schemaCache.get(bits)
  if (schema === undefined) {
    schema = uintSchema(bits)
    schemaCache.set(bits, schema)
  }
  return schema
}

export type Plain = Record<string, unknown>

/**
 * Walks untrusted scenario data with a path, so that every complaint names the file, the step and
 * the field. Leaf values go through @vtl/core/schemas (numbers or decimal/0x strings, sizes with
 * units, `self` ids, map-flag names); the structure is checked here with exact key sets.
 */
export class Reader {
  constructor(
    readonly file: string,
    readonly step?: number
  ) {}

  forStep(step: number): Reader {
    return new Reader(this.file, step)
  }

  fail(field: string, problem: string): never {
    throw new ScenarioError({ file: this.file, step: this.step, field }, problem)
  }

  object(value: unknown, field: string, allowed: readonly string[]): Plain {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.fail(field, `expected a mapping, got ${describe(value)}`)
    }
    const record = value as Plain
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) {
        this.fail(join(field, key), `unknown field (expected one of ${allowed.join(', ')})`)
      }
    }
    return record
  }

  array(value: unknown, field: string): unknown[] {
    if (!Array.isArray(value)) this.fail(field, `expected a list, got ${describe(value)}`)
    return value as unknown[]
  }

  required(record: Plain, key: string, field: string): unknown {
    const value = record[key]
    if (value === undefined || value === null) this.fail(join(field, key), 'is required')
    return value
  }

  string(value: unknown, field: string): string {
    if (typeof value !== 'string') this.fail(field, `expected a string, got ${describe(value)}`)
    return value
  }

  boolean(value: unknown, field: string): boolean {
    if (typeof value !== 'boolean')
      this.fail(field, `expected true or false, got ${describe(value)}`)
    return value
  }

  oneOf<T extends string | number>(value: unknown, field: string, options: readonly T[]): T {
    if (!options.includes(value as T)) {
      this.fail(field, `expected one of ${options.join(', ')}, got ${describe(value)}`)
    }
    return value as T
  }

  parse<T>(schema: Parser<T>, value: unknown, field: string): T {
    const result = schema.safeParse(value)
    if (result.success) return result.data
    const issue = result.error.issues[0]
    const sub = issue?.path.map(String).join('.') ?? ''
    // zod's union failure says only "Invalid input"; say what the field takes instead.
    const message =
      issue === undefined || issue.message === 'Invalid input'
        ? `not a valid value (${describe(value)}): a number, a decimal or 0x string, or a listed name`
        : issue.message
    this.fail(sub === '' ? field : join(field, sub), message)
  }

  /** A value of up to `bits` bits (number or decimal/0x string), as a number. */
  uint(value: unknown, field: string, bits: number): number {
    return this.parse(uint(bits), value, field)
  }

  /** An index or count with an inclusive range. */
  int(value: unknown, field: string, min: number, max: number): number {
    const n = this.parse(NumberOrHexSchema, value, field)
    if (n < min || n > max) this.fail(field, `must be ${min}..${max}, got ${n}`)
    return n
  }

  u64(value: unknown, field: string): bigint {
    return this.parse(U64Schema, value, field)
  }

  byteSize(value: unknown, field: string): bigint {
    return this.parse(ByteSizeSchema, value, field)
  }

  partitionId(value: unknown, field: string): bigint {
    return this.parse(PartitionIdSchema, value, field)
  }

  vpIndex(value: unknown, field: string): number {
    return this.parse(VpIndexSchema, value, field)
  }

  mapFlags(value: unknown, field: string): number {
    return this.parse(MapGpaFlagsSchema, value, field)
  }

  /** Hex byte pairs, no `0x`, either case, whitespace ignored (scenario-format.md "Values"). */
  hexBytes(value: unknown, field: string): Uint8Array {
    const text = this.string(value, field).replace(/\s+/g, '')
    if (text.startsWith('0x') || text.startsWith('0X')) {
      this.fail(field, 'raw input is hex byte pairs without 0x')
    }
    if (!/^[0-9a-fA-F]*$/.test(text)) this.fail(field, 'expected hex digits only')
    if (text.length % 2 !== 0) this.fail(field, 'expected whole bytes (an even number of digits)')
    const bytes = new Uint8Array(text.length / 2)
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16)
    return bytes
  }
}

export function join(field: string, key: string | number): string {
  if (typeof key === 'number') return `${field}[${key}]`
  return field === '' ? key : `${field}.${key}`
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return `${typeof value} ${JSON.stringify(value)}`
}
