import { readFile } from 'node:fs/promises'
import { basename, dirname, isAbsolute, resolve } from 'node:path'
import { YAMLParseError, parse as parseYaml } from 'yaml'
import {
  HvStatus,
  parseRegisterName,
  registerNumberFromName,
  VtlError,
  type GuestVtl,
  type Vtl,
} from '@vtl/core'
import { FaultInjector } from '../faults/fault-injector.js'
import { EXCEPTION_NAMES } from '../guest/guest-hypercall.js'
import {
  HYPERCALL_INPUT_GPA,
  HYPERCALL_OUTPUT_GPA,
  hypercallPagesProblem,
  type HypercallPages,
} from '../guest/hypercall-pages.js'
import { join, Reader, type Plain } from './reader.js'
import { parseInstruction } from './instruction-action.js'
import { encodeTypedHypercall } from './typed-hypercall.js'
import {
  ACTION_KEYS,
  DEFAULT_MAX_INSTRUCTIONS,
  type AccessSize,
  type GuestAction,
  type Scenario,
  type ScenarioImage,
  type ScenarioPartition,
  type ScenarioStep,
} from './types.js'

const MAX_VPS = 1024
const TOP_KEYS = ['version', 'name', 'seed', 'partition', 'steps', 'description'] as const
const PARTITION_KEYS = [
  'vps',
  'memory',
  'gpaWidth',
  'mbecCapable',
  'startedVps',
  'hypercallPages',
  'cpu',
  'images',
  'entry',
] as const
/** Guest RAM of an x86 partition: whole 2 MiB pages (the loader's identity map), at most 1 GiB. */
const X86_MEMORY_ALIGN = 0x20_0000n
const X86_MEMORY_MAX = 0x4000_0000n
/** The loader's GDT and page tables in the top 1 MiB of RAM. */
const LOADER_AREA = 0x10_0000n
/** The largest instruction budget of an x86 `run` step. */
const MAX_INSTRUCTIONS = 1_000_000_000_000
/** With real guest code these are the guest's own instructions, not steps. */
const X86_STEP_ACTIONS = new Set(['run', 'interrupt', 'fault'])
const STEP_KEYS = ['vp', 'vtl', 'expect', 'note', ...ACTION_KEYS]

/** How far `parseScenario` is: reading the YAML text, then validating the steps. */
export type ParseProgress = { phase: 'yaml' } | { phase: 'steps'; done: number; total: number }

export interface ParseOptions {
  /** Called before the YAML is read, then every `PROGRESS_STEPS` steps validated and at the end. */
  onProgress?: (progress: ParseProgress) => void
}

const PROGRESS_STEPS = 1000

/**
 * Parses and validates a scenario file (YAML or JSON: JSON is YAML). Throws a `ScenarioError`
 * (`E_SCENARIO`) naming the file, the step index and the field on the first problem.
 */
export function parseScenario(
  text: string,
  fileName = '<inline>',
  options: ParseOptions = {}
): Scenario {
  const { onProgress } = options
  const reader = new Reader(fileName)
  let data: unknown
  onProgress?.({ phase: 'yaml' })
  try {
    data = parseYaml(text, { intAsBigInt: false, uniqueKeys: true })
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos !== undefined
        ? `line ${error.linePos[0].line}`
        : ''
    reader.fail(where, `not valid YAML/JSON: ${error instanceof Error ? error.message : ''}`)
  }
  return readScenario(reader, data, fileName, onProgress)
}

/**
 * Validates a scenario document that is already data (what `JSON.parse` or a YAML parser gave;
 * no text to parse again), as `parseScenario` does.
 */
export function parseScenarioData(data: unknown, fileName = '<inline>'): Scenario {
  return readScenario(new Reader(fileName), data, fileName)
}

function readScenario(
  reader: Reader,
  data: unknown,
  fileName: string,
  onProgress?: ParseOptions['onProgress']
): Scenario {
  const top = reader.object(data, '', TOP_KEYS)
  const version = reader.required(top, 'version', '')
  if (version !== 1) reader.fail('version', `only version 1 is supported, got ${String(version)}`)
  const name = top.name === undefined ? basename(fileName) : reader.string(top.name, 'name')
  const seed = top.seed === undefined ? 0 : reader.int(top.seed, 'seed', 0, Number.MAX_SAFE_INTEGER)
  const partition = parsePartition(reader, reader.required(top, 'partition', ''), fileName)
  const list = reader.array(reader.required(top, 'steps', ''), 'steps')
  const steps = list.map((step, index) => {
    if (onProgress !== undefined && index % PROGRESS_STEPS === 0) {
      onProgress({ phase: 'steps', done: index, total: list.length })
    }
    return parseStep(reader.forStep(index), step, index, partition)
  })
  onProgress?.({ phase: 'steps', done: list.length, total: list.length })
  return { version: 1, name, fileName, seed, partition, steps }
}

/** Reads and parses a scenario file. */
export async function loadScenarioFile(
  path: string,
  options: ParseOptions = {}
): Promise<Scenario> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    return new Reader(path).fail('', `cannot read: ${error instanceof Error ? error.message : ''}`)
  }
  return parseScenario(text, path, options)
}

function parsePartition(reader: Reader, value: unknown, fileName: string): ScenarioPartition {
  const p = reader.object(value, 'partition', PARTITION_KEYS)
  const vps = reader.int(reader.required(p, 'vps', 'partition'), 'partition.vps', 1, MAX_VPS)
  const memory = reader.byteSize(reader.required(p, 'memory', 'partition'), 'partition.memory')
  if (memory === 0n || memory % 4096n !== 0n) {
    reader.fail('partition.memory', 'must be a non-zero multiple of 4 KiB')
  }
  const gpaWidth =
    p.gpaWidth === undefined
      ? 48
      : reader.oneOf(p.gpaWidth, 'partition.gpaWidth', [48, 52] as const)
  if (memory > 1n << BigInt(gpaWidth - 1)) {
    reader.fail('partition.memory', `does not fit below the shared bit of a ${gpaWidth}-bit GPA`)
  }
  const mbecCapable =
    p.mbecCapable === undefined ? true : reader.boolean(p.mbecCapable, 'partition.mbecCapable')
  let startedVps: number[] | undefined
  if (p.startedVps !== undefined) {
    const list = reader.array(p.startedVps, 'partition.startedVps')
    startedVps = list.map((vp, i) => reader.int(vp, `partition.startedVps[${i}]`, 0, vps - 1))
    if (new Set(startedVps).size !== startedVps.length) {
      reader.fail('partition.startedVps', 'lists a VP twice')
    }
  }
  const hypercallPages =
    p.hypercallPages === undefined
      ? undefined
      : parseHypercallPages(reader, p.hypercallPages, memory)
  const pagesField = hypercallPages === undefined ? {} : { hypercallPages }
  const cpu =
    p.cpu === undefined
      ? 'scripted'
      : reader.oneOf(p.cpu, 'partition.cpu', ['scripted', 'x86'] as const)
  if (cpu === 'scripted') {
    for (const key of ['images', 'entry'] as const) {
      if (p[key] !== undefined) reader.fail(`partition.${key}`, 'needs cpu: x86')
    }
    return {
      vps,
      memory,
      gpaWidth,
      mbecCapable,
      startedVps,
      ...pagesField,
      cpu,
      images: [],
      entry: undefined,
    }
  }
  if (memory % X86_MEMORY_ALIGN !== 0n || memory > X86_MEMORY_MAX) {
    reader.fail('partition.memory', 'with cpu: x86 must be whole 2 MiB pages, at most 1 GiB')
  }
  const images = parseImages(reader, reader.required(p, 'images', 'partition'), memory, fileName)
  const e = reader.object(reader.required(p, 'entry', 'partition'), 'partition.entry', [
    'rip',
    'rsp',
  ])
  const entry = {
    rip: reader.u64(reader.required(e, 'rip', 'partition.entry'), 'partition.entry.rip'),
    rsp: reader.u64(reader.required(e, 'rsp', 'partition.entry'), 'partition.entry.rsp'),
  }
  return { vps, memory, gpaWidth, mbecCapable, startedVps, ...pagesField, cpu, images, entry }
}

/**
 * `partition.images`: each at a GPA, with exactly one of `file` (resolved against the scenario's
 * folder) or `hex`; inline bytes must lie in RAM below the loader's top 1 MiB and not overlap.
 */
function parseImages(
  reader: Reader,
  value: unknown,
  memory: bigint,
  fileName: string
): ScenarioImage[] {
  const list = reader.array(value, 'partition.images')
  if (list.length === 0) reader.fail('partition.images', 'needs at least one image')
  const base = fileName === '<inline>' ? process.cwd() : dirname(resolve(fileName))
  const spans: [bigint, bigint][] = []
  return list.map((item, i) => {
    const at = `partition.images[${i}]`
    const o = reader.object(item, at, ['gpa', 'file', 'hex'])
    const gpa = reader.u64(reader.required(o, 'gpa', at), join(at, 'gpa'))
    if ((o.file === undefined) === (o.hex === undefined))
      reader.fail(at, 'needs exactly one of file and hex')
    if (gpa >= memory - LOADER_AREA)
      reader.fail(join(at, 'gpa'), "is not in RAM below the loader's top 1 MiB")
    if (o.file !== undefined) {
      const file = reader.string(o.file, join(at, 'file'))
      return { gpa, file: isAbsolute(file) ? file : resolve(base, file) }
    }
    const hex = reader.hexBytes(o.hex, join(at, 'hex'))
    const end = gpa + BigInt(hex.length)
    if (end > memory - LOADER_AREA)
      reader.fail(join(at, 'hex'), "reaches into the loader's top 1 MiB")
    if (spans.some(([s, e]) => gpa < e && s < end)) reader.fail(at, 'overlaps an earlier image')
    spans.push([gpa, end])
    return { gpa, hex }
  })
}

/** `partition.hypercallPages`: `{ input?, output? }`, each defaulting to 0x0 / 0x1000. */
function parseHypercallPages(reader: Reader, value: unknown, memory: bigint): HypercallPages {
  const at = 'partition.hypercallPages'
  const h = reader.object(value, at, ['input', 'output'] as const)
  const pages = {
    input: h.input === undefined ? HYPERCALL_INPUT_GPA : reader.u64(h.input, `${at}.input`),
    output: h.output === undefined ? HYPERCALL_OUTPUT_GPA : reader.u64(h.output, `${at}.output`),
  }
  const bad = hypercallPagesProblem(pages, memory)
  if (bad !== undefined) reader.fail(`${at}.${bad.field}`, bad.problem)
  return pages
}

function parseStep(
  reader: Reader,
  value: unknown,
  index: number,
  partition: ScenarioPartition
): ScenarioStep {
  const at = `steps[${index}]`
  const s = reader.object(value, at, STEP_KEYS)
  const vp = reader.int(reader.required(s, 'vp', at), join(at, 'vp'), 0, partition.vps - 1)
  const vtl =
    s.vtl === undefined ? undefined : (reader.int(s.vtl, join(at, 'vtl'), 0, 1) as GuestVtl)
  const present = ACTION_KEYS.filter((key) => s[key] !== undefined)
  if (present.length !== 1) {
    reader.fail(
      at,
      present.length === 0
        ? `needs exactly one action (${ACTION_KEYS.join(', ')})`
        : `has more than one action (${present.join(', ')})`
    )
  }
  const key = present[0] ?? 'run'
  if (partition.cpu === 'x86' && !X86_STEP_ACTIONS.has(key)) {
    reader.fail(
      join(at, key),
      'with cpu: x86 the guest code performs hypercalls, accesses and instructions; a step runs it (run), asserts an interrupt or arms a fault'
    )
  }
  const action = parseAction(reader, key, s[key], join(at, key), partition)
  let expect: Record<string, unknown> | undefined
  if (s.expect !== undefined) {
    expect = reader.object(s.expect, join(at, 'expect'), EXPECT_KEYS)
    checkExpectedNames(reader, expect, join(at, 'expect'))
  }
  return { vp, vtl, action, expect }
}

/** Result fields an `expect` may name (scenario-format.md, Actions table). */
const EXPECT_KEYS = [
  'status',
  'code',
  'repsCompleted',
  'output',
  'activeVtl',
  'exception',
  'ok',
  'value',
  'intercept',
  'interceptStatus',
  'error',
  'spurious',
  'blocked',
  'resumed',
  'console',
  'exitCode',
  'halted',
  'instructions',
]

const HV_STATUS_NAMES = Object.keys(HvStatus)
const EXCEPTIONS = Object.values(EXCEPTION_NAMES)

/** The listed name closest to `name` (same letters in another case, or one or two typos). */
function closest(name: string, names: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  const same = names.find((n) => n.toLowerCase() === lower)
  if (same !== undefined) return same
  let best: string | undefined
  let bestDistance = 3
  for (const n of names) {
    const d = editDistance(lower, n.toLowerCase())
    if (d < bestDistance) [best, bestDistance] = [n, d]
  }
  return best
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
    }
    row = next
  }
  return row[b.length] ?? 0
}

/**
 * Names an expectation compares exactly (HvStatus names, exception mnemonics): a typo would make
 * the run fail as if the engine were wrong, so it is a file error instead.
 */
function checkExpectedNames(reader: Reader, expect: Plain, field: string): void {
  const check = (key: string, names: readonly string[], what: string, list: boolean): void => {
    const value = expect[key]
    if (typeof value !== 'string' || /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(value)) return
    if (names.includes(value)) return
    const hint = closest(value, names)
    const notes = [
      ...(list ? [`one of ${names.join(', ')}`] : []),
      ...(hint === undefined ? [] : [`did you mean ${hint}?`]),
    ]
    reader.fail(
      join(field, key),
      `unknown ${what} '${value}'${notes.length === 0 ? '' : ` (${notes.join('; ')})`}`
    )
  }
  check('status', HV_STATUS_NAMES, 'HvStatus name', false)
  check('interceptStatus', HV_STATUS_NAMES, 'HvStatus name', false)
  check('exception', EXCEPTIONS, 'exception', true)
}

function size(reader: Reader, record: Plain, field: string): AccessSize {
  if (record.size === undefined) return 8
  return reader.oneOf(
    typeof record.size === 'string' ? Number(record.size) : record.size,
    join(field, 'size'),
    [1, 2, 4, 8] as const
  )
}

function parseAction(
  reader: Reader,
  key: string,
  value: unknown,
  field: string,
  partition: ScenarioPartition
): GuestAction {
  switch (key) {
    case 'hypercall': {
      const h = reader.object(value, field, [
        'name',
        'code',
        'input',
        'repStart',
        'repCount',
        'varHeaderSize',
        'fast',
      ])
      if (h.name !== undefined) {
        if (h.code !== undefined) reader.fail(join(field, 'code'), 'give either name or code')
        for (const k of ['repStart', 'repCount', 'varHeaderSize', 'fast']) {
          if (h[k] !== undefined) reader.fail(join(field, k), 'only raw hypercalls (code) take it')
        }
        const name = reader.string(h.name, join(field, 'name'))
        return { kind: 'hypercall', call: encodeTypedHypercall(reader, name, h.input, field) }
      }
      const code = reader.uint(reader.required(h, 'code', field), join(field, 'code'), 16)
      const input =
        h.input === undefined ? new Uint8Array(0) : reader.hexBytes(h.input, join(field, 'input'))
      const fast = h.fast === undefined ? false : reader.boolean(h.fast, join(field, 'fast'))
      return {
        kind: 'hypercall',
        call: {
          kind: 'raw',
          code,
          input,
          repStart:
            h.repStart === undefined ? 0 : reader.uint(h.repStart, join(field, 'repStart'), 12),
          repCount:
            h.repCount === undefined ? 0 : reader.uint(h.repCount, join(field, 'repCount'), 12),
          varHeaderSize:
            h.varHeaderSize === undefined
              ? 0
              : reader.uint(h.varHeaderSize, join(field, 'varHeaderSize'), 10),
          fast,
        },
      }
    }
    case 'vtlCall': {
      const v = reader.object(value ?? {}, field, ['input'])
      return {
        kind: 'vtlCall',
        input: v.input === undefined ? 0n : reader.u64(v.input, join(field, 'input')),
      }
    }
    case 'vtlReturn': {
      const v = reader.object(value ?? {}, field, ['fast'])
      return {
        kind: 'vtlReturn',
        fast: v.fast === undefined ? false : reader.boolean(v.fast, join(field, 'fast')),
      }
    }
    case 'read':
    case 'write':
    case 'execute': {
      const keys =
        key === 'write'
          ? ['gpa', 'size', 'value']
          : key === 'execute'
            ? ['gpa', 'size', 'mode']
            : ['gpa', 'size']
      const m = reader.object(value, field, keys)
      const gpa = reader.u64(reader.required(m, 'gpa', field), join(field, 'gpa'))
      const bytes = size(reader, m, field)
      const limit = 1n << BigInt(partition.gpaWidth)
      if (gpa + BigInt(bytes) > limit) reader.fail(join(field, 'gpa'), 'is beyond the GPA width')
      if (key === 'read') return { kind: 'read', gpa, size: bytes }
      if (key === 'write') {
        const written = reader.u64(reader.required(m, 'value', field), join(field, 'value'))
        if (bytes < 8 && written >= 1n << BigInt(bytes * 8)) {
          reader.fail(join(field, 'value'), `does not fit in ${bytes} byte(s)`)
        }
        return { kind: 'write', gpa, size: bytes, value: written }
      }
      const mode =
        m.mode === undefined
          ? 'kernel'
          : reader.oneOf(m.mode, join(field, 'mode'), ['kernel', 'user'] as const)
      return { kind: 'execute', gpa, size: bytes, mode }
    }
    case 'setRegister':
    case 'getRegister': {
      const r = reader.object(
        value,
        field,
        key === 'setRegister' ? ['name', 'value', 'targetVtl'] : ['name', 'targetVtl']
      )
      const nameValue = reader.required(r, 'name', field)
      let name: number
      if (typeof nameValue === 'string' && registerNumberFromName(nameValue) !== undefined) {
        name = parseRegisterName(nameValue)
      } else if (typeof nameValue === 'string' && !/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(nameValue)) {
        reader.fail(join(field, 'name'), `unknown register name '${nameValue}'`)
      } else {
        name = reader.uint(nameValue, join(field, 'name'), 32)
      }
      const targetVtl =
        r.targetVtl === undefined
          ? undefined
          : (reader.int(r.targetVtl, join(field, 'targetVtl'), 0, 2) as Vtl)
      if (key === 'getRegister') return { kind: 'getRegister', name, targetVtl }
      return {
        kind: 'setRegister',
        name,
        value: reader.u64(reader.required(r, 'value', field), join(field, 'value')),
        targetVtl,
      }
    }
    case 'interrupt': {
      const i = reader.object(value, field, ['vector', 'vtl'])
      return {
        kind: 'interrupt',
        vector: reader.int(reader.required(i, 'vector', field), join(field, 'vector'), 16, 255),
        vtl: reader.int(reader.required(i, 'vtl', field), join(field, 'vtl'), 0, 1) as GuestVtl,
      }
    }
    case 'run': {
      if (partition.cpu !== 'x86') {
        reader.object(value ?? {}, field, [])
        return { kind: 'run' }
      }
      const r = reader.object(value ?? {}, field, ['maxInstructions'])
      const maxInstructions =
        r.maxInstructions === undefined
          ? DEFAULT_MAX_INSTRUCTIONS
          : reader.int(r.maxInstructions, join(field, 'maxInstructions'), 1, MAX_INSTRUCTIONS)
      return { kind: 'run', maxInstructions }
    }
    case 'eoi':
      reader.object(value ?? {}, field, [])
      return { kind: key }
    case 'fault': {
      const f = reader.object(value, field, ['at', 'status', 'after'])
      const at = reader.string(reader.required(f, 'at', field), join(field, 'at'))
      const status = reader.string(reader.required(f, 'status', field), join(field, 'status'))
      const after =
        f.after === undefined ? 0 : reader.int(f.after, join(field, 'after'), 0, 1_000_000)
      // Arm it on a scratch injector: an unknown TDCALL, hypercall or status name is a file error.
      try {
        new FaultInjector().arm({ at, status, after })
      } catch (error) {
        const bad = VtlError.isInstance(error) && error.field === 'status' ? 'status' : 'at'
        reader.fail(join(field, bad), error instanceof Error ? error.message : 'invalid')
      }
      return { kind: 'fault', at, status, after }
    }
    case 'io':
    case 'writeCr':
    case 'msr':
      return parseInstruction(reader, key, value, field)
    default:
      return reader.fail(field, 'unknown action')
  }
}
