import { TLB_RELEASE_BITS, VsmVp, VtlError, type GuestVtl } from '@vtl/core'
import type { TdSnapshot } from './td-snapshot.js'
import { hypercallPagesProblem } from '../guest/hypercall-pages.js'
import { overlayMappings, pageKey, savedOverlayMsrs, upgradeOverlays } from './overlay-snapshot.js'
import { finish, type SlicedWork } from './sliced-work.js'
import { BIG, BIG_WORD, HEX_WORD, isRecord, saveVp, upgradeSnapshot } from './vp-snapshot.js'

const OVERLAY_KINDS: ReadonlySet<string> = new Set(['assist', 'simp', 'siefp'])

// A snapshot document is input (a file, a request body, a journal row): before any of it reaches
// a TD, every field is checked against the TD model — its JSON type, its range, and the
// invariants between fields (VP counts, VTL values, page bounds). A failure names the field.

/** Bounds a snapshot must stay within (a daemon passes its own). */
export interface SnapshotLimits {
  /** Most VPs (default 1024). */
  maxVps?: number
  /** Most guest RAM in bytes (default 1 TiB). */
  maxMemory?: bigint
  /** Largest trace ring (default 100 000 events, the simulator's default ring). */
  maxTraceLimit?: number
}

const DEFAULT_LIMITS: Required<SnapshotLimits> = {
  maxVps: 1024,
  maxMemory: 1n << 40n,
  maxTraceLimit: 100_000,
}

const MAX_DEPTH = 32
const HEX_BYTES = /^(?:[0-9a-f]{2})*$/
const ACTIVITIES: ReadonlySet<unknown> = new Set(['running', 'halted', 'wait-for-sipi'])

/** Refuses the snapshot, naming the field. */
function refuse(path: string, why: string): never {
  const field = path.replace(/^\./, '')
  throw new VtlError('E_INVALID_VALUE', `snapshot field ${field || '(root)'}: ${why}`, { field })
}

type Json = Record<string, unknown>

function object(value: unknown, field: string, keys?: readonly string[]): Json {
  if (!isRecord(value)) refuse(field, 'must be an object')
  if (keys !== undefined) {
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) refuse(`${field}.${key}`, 'is not a snapshot field')
    }
    for (const key of keys) if (!(key in value)) refuse(`${field}.${key}`, 'is missing')
  }
  return value
}

function array(value: unknown, field: string, length?: number, max = Infinity): unknown[] {
  if (!Array.isArray(value)) refuse(field, 'must be an array')
  if (length !== undefined && value.length !== length) {
    refuse(field, `must have ${length} entries, has ${value.length}`)
  }
  if (value.length > max) refuse(field, `has ${value.length} entries, at most ${max} allowed`)
  return value
}

function int(value: unknown, field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    refuse(field, `must be an integer, got ${typeof value === 'number' ? value : typeof value}`)
  }
  if (value < min || value > max) refuse(field, `must be within ${min}..${max}, got ${value}`)
  return value
}

function bool(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') refuse(field, 'must be true or false')
  return value
}

function str(value: unknown, field: string, pattern?: RegExp, what = 'text'): string {
  if (typeof value !== 'string') refuse(field, `must be ${what}`)
  if (pattern !== undefined && !pattern.test(value)) refuse(field, `must be ${what}`)
  return value
}

/** A `0x` hex word of at most `bits` bits. */
function hexWord(value: unknown, field: string, bits = 64): bigint {
  const v = BigInt(str(value, field, HEX_WORD, 'a 0x hex string'))
  if (v >> BigInt(bits) !== 0n) refuse(field, `must fit in ${bits} bits`)
  return v
}

/** `key` on each key of an object. */
function record(value: unknown, field: string, key: (k: string, f: string) => void): Json {
  return finish(eachKey(value, field, key))
}

/** `check` on each entry of a list, yielding after each (sliced work). */
function* each<T>(items: readonly T[], check: (item: T, i: number) => void): SlicedWork<void> {
  for (const [i, item] of items.entries()) {
    check(item, i)
    yield
  }
}

/** `record` as sliced work, yielding after each key. */
function* eachKey(
  value: unknown,
  field: string,
  key: (k: string, f: string) => void
): SlicedWork<Json> {
  const json = object(value, field)
  yield* each(Object.keys(json), (k) => {
    key(k, `${field}.${k}`)
  })
  return json
}

function counts(value: unknown, field: string): void {
  const json = object(value, field)
  for (const [k, v] of Object.entries(json)) int(v, `${field}.${k}`)
}

/**
 * Every value anywhere: finite numbers (JSON's `1e999` parses as Infinity), well-formed tagged
 * bigints (at most 128 bits: the widest engine value), a bounded depth.
 */
function checkValues(value: unknown, field: string, depth: number): void {
  if (depth > MAX_DEPTH) refuse(field, `nests deeper than ${MAX_DEPTH} levels`)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) refuse(field, 'must be a finite number')
  } else if (typeof value === 'string') {
    if (value.startsWith(BIG) && !BIG_WORD.test(value)) {
      refuse(field, 'must be a tagged hex word (bigint:0x…, at most 128 bits)')
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      checkValues(v, `${field}[${i}]`, depth + 1)
    })
  } else if (isRecord(value)) {
    for (const [k, v] of Object.entries(value)) checkValues(v, `${field}.${k}`, depth + 1)
  } else if (value !== null && typeof value !== 'boolean') {
    refuse(field, 'is not a JSON value')
  }
}

/** `checkValues` on the whole document, yielding after each VP and each other top-level field. */
function* checkAllValues(document: unknown): SlicedWork<void> {
  if (!isRecord(document)) {
    checkValues(document, '', 0)
    return
  }
  for (const [k, v] of Object.entries(document)) {
    if (k === 'vps' && Array.isArray(v)) {
      yield* each(v, (vp, i) => {
        checkValues(vp, `.vps[${i}]`, 2)
      })
    } else {
      checkValues(v, `.${k}`, 1)
      yield
    }
  }
}

const kindOf = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'string' && v.startsWith(BIG)
        ? 'bigint'
        : typeof v

/**
 * `value` has the JSON shape of `reference` (a saved fresh VP): the same keys, array lengths and
 * value kinds (tagged bigints stay bigints, integers stay integers).
 */
function sameShape(value: unknown, reference: unknown, field: string): void {
  const kind = kindOf(reference)
  if (kindOf(value) !== kind) refuse(field, `must be ${kind === 'bigint' ? 'bigint:0x…' : kind}`)
  if (kind === 'number') int(value, field, -(2 ** 53) + 1)
  else if (kind === 'array') {
    const ref = reference as unknown[]
    array(value, field, ref.length).forEach((v, i) => {
      sameShape(v, ref[i], `${field}[${i}]`)
    })
  } else if (kind === 'object') {
    const ref = reference as Json
    const json = object(value, field, Object.keys(ref))
    for (const key of Object.keys(ref)) sameShape(json[key], ref[key], `${field}.${key}`)
  }
}

function checkVp(value: unknown, reference: Json, field: string, vps: number): void {
  const vp = object(value, field, Object.keys(reference))
  int(vp.exitVtl, `${field}.exitVtl`, 0, 1)
  // Per VTL: the other VPs whose TLB lock this VP waits for (§13.15), or null.
  // Beside each: the holders' release counts when they were recorded (12-bit).
  const releases = array(vp.tlbWaitReleases, `${field}.tlbWaitReleases`, 2)
  array(vp.tlbWait, `${field}.tlbWait`, 2).forEach((wait, v) => {
    const counts = releases[v]
    const at = `${field}.tlbWaitReleases[${v}]`
    if (wait === null) {
      if (counts !== null) refuse(at, 'must be null without a wait')
      return
    }
    const holders = array(wait, `${field}.tlbWait[${v}]`, undefined, vps)
    holders.forEach((holder, j) => {
      int(holder, `${field}.tlbWait[${v}][${j}]`, 0, vps - 1)
    })
    array(counts, at, holders.length).forEach((count, j) => {
      int(count, `${at}[${j}]`, 0, 2 ** TLB_RELEASE_BITS - 1)
    })
  })
  if (vp.vtl1 !== null) {
    const vtl1 = object(
      object(vp.vtl1, `${field}.vtl1`),
      `${field}.vtl1`,
      'vtl0ExitPendingEvent' in (vp.vtl1 as Json)
        ? ['vpMbecEnabled', 'vtl0ExitPendingEvent', 'regIntercept']
        : ['vpMbecEnabled', 'regIntercept']
    )
    bool(vtl1.vpMbecEnabled, `${field}.vtl1.vpMbecEnabled`)
    if ('vtl0ExitPendingEvent' in vtl1) {
      str(vtl1.vtl0ExitPendingEvent, `${field}.vtl1.vtl0ExitPendingEvent`, BIG_WORD, 'bigint:0x…')
    }
    const intercept = object(vtl1.regIntercept, `${field}.vtl1.regIntercept`, [
      'interceptControl',
      'cr0Mask',
      'cr4Mask',
      'ia32MiscEnableMask',
    ])
    for (const [k, v] of Object.entries(intercept)) {
      str(v, `${field}.vtl1.regIntercept.${k}`, BIG_WORD, 'bigint:0x…')
    }
  }
  sameShape(vp.shared, reference.shared, `${field}.shared`)
  const vtls = array(vp.vtls, `${field}.vtls`, 2)
  const refVtls = reference.vtls as Json[]
  vtls.forEach((v, i) => {
    const at = `${field}.vtls[${i}]`
    const ref = refVtls[i] as Json
    const vtl = object(v, at, Object.keys(ref))
    const refSynic = ref.synic as Json
    const synic = object(vtl.synic, `${at}.synic`, Object.keys(refSynic))
    array(synic.message, `${at}.synic.message`, 16).forEach((m, j) => {
      if (m !== null) {
        const bytes = object(m, `${at}.synic.message[${j}]`, ['bytes'])
        str(bytes.bytes, `${at}.synic.message[${j}].bytes`, /^[0-9a-f]{512}$/, '256 hex bytes')
      }
    })
    for (const key of Object.keys(refSynic)) {
      if (key !== 'message') sameShape(synic[key], refSynic[key], `${at}.synic.${key}`)
    }
    // An overlay page's bytes kept while it is not mapped (§13.14): one page per kind.
    const overlays = object(vtl.overlayPrivate, `${at}.overlayPrivate`)
    for (const [kind, page] of Object.entries(overlays)) {
      if (!OVERLAY_KINDS.has(kind))
        refuse(`${at}.overlayPrivate.${kind}`, 'is not a snapshot field')
      const bytes = object(page, `${at}.overlayPrivate.${kind}`, ['bytes'])
      str(bytes.bytes, `${at}.overlayPrivate.${kind}.bytes`, /^[0-9a-f]{8192}$/, '4096 hex bytes')
    }
    for (const key of Object.keys(ref)) {
      if (key !== 'synic' && key !== 'overlayPrivate') sameShape(vtl[key], ref[key], `${at}.${key}`)
    }
    const apic = vtl.apic as Json
    if (!ACTIVITIES.has(apic.activity)) {
      refuse(`${at}.apic.activity`, `must be one of ${[...ACTIVITIES].join(', ')}`)
    }
    int(apic.tpr, `${at}.apic.tpr`, 0, 15)
    for (const reg of ['irr', 'isr'] as const) {
      ;(apic[reg] as unknown[]).forEach((w, j) => int(w, `${at}.apic.${reg}[${j}]`, 0, 2 ** 32 - 1))
    }
    const control = vtl.control as Json
    int(control.entryReason, `${at}.control.entryReason`, 0, 2 ** 32 - 1)
    int(control.vinaStatus, `${at}.control.vinaStatus`, 0, 255)
  })
}

function* checkModule(
  value: unknown,
  vps: number,
  gpaWidth: number,
  field: string
): SlicedWork<void> {
  const module = object(value, field, [
    'version',
    'vps',
    'gpaWidth',
    'numL2Vms',
    'tdxFeatures0',
    'configFlags',
    'tdCtls',
    'pageRelease',
    'requireVirtualApicPage',
    'pages',
    'vpState',
    'invept',
    'invgla',
  ])
  int(module.version, `${field}.version`, 1, 1)
  int(module.vps, `${field}.vps`, vps, vps)
  int(module.gpaWidth, `${field}.gpaWidth`, gpaWidth, gpaWidth)
  int(module.numL2Vms, `${field}.numL2Vms`, 1, 3)
  for (const key of ['tdxFeatures0', 'configFlags', 'tdCtls']) {
    hexWord(module[key], `${field}.${key}`)
  }
  bool(module.pageRelease, `${field}.pageRelease`)
  bool(module.requireVirtualApicPage, `${field}.requireVirtualApicPage`)
  const gpns = 2 ** (gpaWidth - 12)
  let previous = 0
  yield* each(array(module.pages, `${field}.pages`), (run, i) => {
    const at = `${field}.pages[${i}]`
    const [start, end, state] = array(run, at, 3)
    const s = int(start, `${at}[0]`, previous, gpns - 1)
    previous = int(end, `${at}[1]`, s + 1, gpns)
    int(state, `${at}[2]`)
  })
  yield* eachKey(module.vpState, `${field}.vpState`, (k, at) => {
    if (!/^\d+$/.test(k)) refuse(at, 'must be a VP index')
    int(Number(k), at, 0, vps - 1)
    const state = object(module.vpState && (module.vpState as Json)[k], at, ['fields', 'enters'])
    int(state.enters, `${at}.enters`)
    record(state.fields, `${at}.fields`, (name, f) => {
      hexWord((state.fields as Json)[name], f)
    })
  })
  for (const key of ['invept', 'invgla']) {
    array(module[key], `${field}.${key}`, 4).forEach((n, i) => int(n, `${field}.${key}[${i}]`))
  }
}

function* checkHypervisor(value: unknown, vps: number, field: string): SlicedWork<void> {
  const hv = object(value, field, [
    'version',
    'vps',
    'partitionVtl1',
    'vpVtl1',
    'shared',
    'calls',
    'droppedCalls',
    'anomalies',
    'counts',
  ])
  int(hv.version, `${field}.version`, 1, 1)
  int(hv.vps, `${field}.vps`, vps, vps)
  bool(hv.partitionVtl1, `${field}.partitionVtl1`)
  array(hv.vpVtl1, `${field}.vpVtl1`, undefined, vps).forEach((vp, i) =>
    int(vp, `${field}.vpVtl1[${i}]`, 0, vps - 1)
  )
  let previous = 0
  yield* each(array(hv.shared, `${field}.shared`), (run, i) => {
    const at = `${field}.shared[${i}]`
    const [start, end] = array(run, at, 2)
    const s = int(start, `${at}[0]`, previous, 2 ** 40 - 1)
    previous = int(end, `${at}[1]`, s + 1, 2 ** 40)
  })
  const calls = array(hv.calls, `${field}.calls`)
  yield* each(calls, (call, i) => {
    const at = `${field}.calls[${i}]`
    const c = object(call, at)
    hexWord(c.control, `${at}.control`)
    int(c.code, `${at}.code`, 0, 0xffff)
    str(c.name, `${at}.name`)
    str(c.input, `${at}.input`, HEX_BYTES, 'hex bytes')
  })
  int(hv.droppedCalls, `${field}.droppedCalls`)
  yield* each(array(hv.anomalies, `${field}.anomalies`), (a, i) => {
    const at = `${field}.anomalies[${i}]`
    const anomaly = object(a, at, ['call', 'kind', 'detail'])
    int(anomaly.call, `${at}.call`, 0, Math.max(0, calls.length - 1))
    str(anomaly.kind, `${at}.kind`, /^(?:enable-partition-flags|enable-vp-context-not-zero)$/)
    str(anomaly.detail, `${at}.detail`)
  })
  counts(hv.counts, `${field}.counts`)
}

function* checkTrace(
  value: unknown,
  vps: number,
  maxLimit: number,
  field: string
): SlicedWork<void> {
  const trace = object(value, field, ['version', 'limit', 'nextSeq', 'dropped', 'events', 'stats'])
  int(trace.version, `${field}.version`, 1, 1)
  const limit = int(trace.limit, `${field}.limit`, 1, maxLimit)
  const nextSeq = int(trace.nextSeq, `${field}.nextSeq`)
  const events = array(trace.events, `${field}.events`, undefined, limit)
  int(trace.dropped, `${field}.dropped`, 0, nextSeq)
  let previous = -1
  yield* each(events, (e, i) => {
    const at = `${field}.events[${i}]`
    const event = object(e, at)
    previous = int(event.seq, `${at}.seq`, previous + 1, nextSeq - 1)
    str(event.kind, `${at}.kind`)
    int(event.vp, `${at}.vp`, 0, vps - 1)
    int(event.vtl, `${at}.vtl`, 0, 2)
    int(event.simCycles, `${at}.simCycles`)
    if (event.durCycles !== undefined) int(event.durCycles, `${at}.durCycles`)
    if (typeof event.wallNs !== 'number' || event.wallNs < 0) refuse(`${at}.wallNs`, 'must be ≥ 0')
    str(event.name, `${at}.name`)
    record(event.args, `${at}.args`, (k, f) => {
      const arg = (event.args as Json)[k]
      if (typeof arg === 'object' && arg !== null) refuse(f, 'must be a number, text or boolean')
    })
  })
  checkStats(trace.stats, `${field}.stats`)
}

function checkStats(value: unknown, field: string): void {
  const stats = object(value, field, ['vtlSwitches', 'tdcalls', 'hypervisorCalls'])
  int(stats.vtlSwitches, `${field}.vtlSwitches`)
  counts(stats.tdcalls, `${field}.tdcalls`)
  counts(stats.hypervisorCalls, `${field}.hypervisorCalls`)
}

function* checkMemory(snapshot: Json, memory: bigint, field: string): SlicedWork<void> {
  const mem = object(snapshot.memory, field, ['runs', 'defaults', 'overlays'])
  const attr = (v: unknown, at: string): void => {
    if (v !== null) int(v, at, 0, 15)
  }
  let previous = 0n
  yield* each(array(mem.runs, `${field}.runs`), (r, i) => {
    const at = `${field}.runs[${i}]`
    const run = object(r, at, ['start', 'end', 'accepted', 'shared', 'locked', 'vtl0', 'vtl1'])
    const start = hexWord(run.start, `${at}.start`)
    const end = hexWord(run.end, `${at}.end`)
    if (start < previous || (start & 0xfffn) !== 0n) {
      refuse(`${at}.start`, 'must be page aligned, after the previous run')
    }
    if (end <= start || end > memory || (end & 0xfffn) !== 0n) {
      refuse(`${at}.end`, `must be page aligned, above start, at most ${memory}`)
    }
    previous = end
    bool(run.accepted, `${at}.accepted`)
    bool(run.shared, `${at}.shared`)
    bool(run.locked, `${at}.locked`)
    attr(run.vtl0, `${at}.vtl0`)
    attr(run.vtl1, `${at}.vtl1`)
  })
  const defaults = object(mem.defaults, `${field}.defaults`, ['vtl0', 'vtl1'])
  int(defaults.vtl0, `${field}.defaults.vtl0`, 0, 15)
  attr(defaults.vtl1, `${field}.defaults.vtl1`)
  const pages = memory >> 12n
  checkOverlays(mem.overlays, snapshot.vps as unknown[], pages, `${field}.overlays`)
  yield* eachKey(snapshot.contents, 'contents', (k, at) => {
    if (!HEX_WORD.test(k) || BigInt(k) >= pages)
      refuse(at, `must be a GPN below 0x${pages.toString(16)}`)
    str((snapshot.contents as Json)[k], at, /^[0-9a-f]{8192}$/, 'one page as 4096 hex bytes')
  })
}

/**
 * `memory.overlays`: one entry per page a VTL maps as an overlay (§13.14), by GPN then VTL, with
 * that VTL's permissions unmapping it gives back (0..15, or null). Every page an overlay MSR maps
 * has an entry, and every entry is such a page (`vps` are checked already).
 */
function checkOverlays(value: unknown, vps: unknown[], pages: bigint, field: string): void {
  const mapped = overlayMappings(
    vps.map((vp) => ((vp as Json).vtls as unknown[]).map(savedOverlayMsrs))
  )
  for (const m of mapped) if (m.gpn >= pages) refuse(m.field, 'maps no overlay page')
  const keys = new Set(mapped.map((m) => pageKey(m.vtl, m.gpn)))
  let previous = -1n
  const listed = new Set<string>()
  array(value, field, undefined, keys.size).forEach((o, i) => {
    const at = `${field}[${i}]`
    const entry = object(o, at, ['vtl', 'gpn', 'saved'])
    const vtl = int(entry.vtl, `${at}.vtl`, 0, 1) as GuestVtl
    const gpn = hexWord(entry.gpn, `${at}.gpn`)
    if (gpn >= pages) refuse(`${at}.gpn`, `must be a GPN below 0x${pages.toString(16)}`)
    const order = gpn * 2n + BigInt(vtl)
    if (order <= previous) refuse(at, 'must come after the previous entry (by GPN, then VTL)')
    previous = order
    if (entry.saved !== null) int(entry.saved, `${at}.saved`, 0, 15)
    const key = pageKey(vtl, gpn)
    if (!keys.has(key)) refuse(at, 'is a page no overlay MSR of its VTL maps')
    listed.add(key)
  })
  for (const m of mapped) {
    if (!listed.has(pageKey(m.vtl, m.gpn))) {
      refuse(field, `has no entry for the page ${m.field} maps (0x${m.gpn.toString(16)})`)
    }
  }
}

function* checkGuest(value: unknown, vps: number, field: string): SlicedWork<void> {
  const guest = object(value, field, ['enteredVtl', 'woken', 'vps'])
  array(guest.enteredVtl, `${field}.enteredVtl`, vps).forEach((v, i) =>
    int(v, `${field}.enteredVtl[${i}]`, 0, 1)
  )
  let previous = -1
  array(guest.woken, `${field}.woken`).forEach((vp, i) => {
    previous = int(vp, `${field}.woken[${i}]`, previous + 1, vps - 1)
  })
  previous = -1
  yield* each(array(guest.vps, `${field}.vps`), (s, i) => {
    const at = `${field}.vps[${i}]`
    const state = object(s, at, ['vp', 'blocked', 'exception'])
    previous = int(state.vp, `${at}.vp`, previous + 1, vps - 1)
    if (state.blocked !== null) {
      const blocked = object(state.blocked, `${at}.blocked`, ['control', 'input', 'fast'])
      hexWord(blocked.control, `${at}.blocked.control`)
      str(blocked.input, `${at}.blocked.input`, HEX_BYTES, 'hex bytes')
      if ((blocked.input as string).length > 2 * 4096 * 2)
        refuse(`${at}.blocked.input`, 'is too long')
      bool(blocked.fast, `${at}.blocked.fast`)
    }
    if (state.exception !== null) int(state.exception, `${at}.exception`, 0, 255)
  })
}

/**
 * Checks a snapshot document completely before any of it is applied (`restoreTd` calls it).
 * Throws `E_INVALID_VALUE` with `field` naming the first bad field. A document saved by an
 * older version is judged as `restoreTd` judges it: after the same upgrades (fields added since,
 * such as `memory.overlays`, get the values such a TD had), so both accept the same documents.
 */
export function validateSnapshot(
  document: unknown,
  limits: SnapshotLimits = {}
): asserts document is TdSnapshot {
  finish(checkSnapshot(document, limits))
}

/**
 * `validateSnapshot` as sliced work (it yields after each VP, trace event, memory run, page),
 * giving back the upgraded document.
 */
export function* checkSnapshot(
  document: unknown,
  limits: SnapshotLimits = {}
): SlicedWork<TdSnapshot> {
  const { maxVps, maxMemory, maxTraceLimit } = { ...DEFAULT_LIMITS, ...limits }
  const upgraded = isRecord(document)
    ? upgradeOverlays(yield* upgradeSnapshot(document as unknown as TdSnapshot))
    : document
  yield* checkAllValues(upgraded)
  const snapshot = object(upgraded, '', [
    'version',
    'options',
    'platform',
    'shared',
    'vps',
    'memory',
    'contents',
    'guest',
    'faults',
  ])
  int(snapshot.version, 'version', 1, 1)
  const optionKeys = ['vps', 'memory', 'gpaWidth', 'mbecCapable', 'seed']
  const chosen = isRecord(snapshot.options) && 'hypercallPages' in snapshot.options
  const options = object(snapshot.options, 'options', [
    ...optionKeys,
    ...(chosen ? ['hypercallPages'] : []),
  ])
  const vps = int(options.vps, 'options.vps', 1, maxVps)
  const memory = hexWord(options.memory, 'options.memory')
  if (memory === 0n || memory > maxMemory || (memory & 0xfffn) !== 0n) {
    refuse('options.memory', `must be whole pages, at most 0x${maxMemory.toString(16)} bytes`)
  }
  const gpaWidth = int(options.gpaWidth, 'options.gpaWidth', 48, 52)
  if (gpaWidth !== 48 && gpaWidth !== 52) refuse('options.gpaWidth', 'must be 48 or 52')
  bool(options.mbecCapable, 'options.mbecCapable')
  int(options.seed, 'options.seed', 0, 2 ** 32 - 1)
  if (chosen) {
    const pages = object(options.hypercallPages, 'options.hypercallPages', ['input', 'output'])
    const input = hexWord(pages.input, 'options.hypercallPages.input')
    const output = hexWord(pages.output, 'options.hypercallPages.output')
    const bad = hypercallPagesProblem({ input, output }, memory)
    if (bad !== undefined) refuse(`options.hypercallPages.${bad.field}`, bad.problem)
  }

  const platform = object(snapshot.platform, 'platform', [
    'module',
    'hypervisor',
    'trace',
    'clock',
    'stats',
  ])
  yield* checkModule(platform.module, vps, gpaWidth, 'platform.module')
  yield* checkHypervisor(platform.hypervisor, vps, 'platform.hypervisor')
  yield* checkTrace(platform.trace, vps, maxTraceLimit, 'platform.trace')
  const clock = object(platform.clock, 'platform.clock', ['vps', 'ghz', 'cycles'])
  int(clock.vps, 'platform.clock.vps', vps, vps)
  if (typeof clock.ghz !== 'number' || !(clock.ghz > 0)) refuse('platform.clock.ghz', 'must be > 0')
  record(clock.cycles, 'platform.clock.cycles', (k, at) => {
    if (!/^\d+$/.test(k)) refuse(at, 'must be a VP index')
    int(Number(k), at, 0, vps - 1)
    int((clock.cycles as Json)[k], at)
  })
  checkStats(platform.stats, 'platform.stats')

  str(snapshot.shared, 'shared', /^[A-Za-z0-9+/]*={0,2}$/, 'base64')
  const reference = vpShape()
  yield* each(array(snapshot.vps, 'vps', vps), (vp, i) => {
    checkVp(vp, (i === 0 ? reference[0] : reference[1]) as Json, `vps[${i}]`, vps)
  })
  yield* checkMemory(snapshot, memory, 'memory')
  yield* checkGuest(snapshot.guest, vps, 'guest')
  yield* each(array(snapshot.faults, 'faults'), (f, i) => {
    const fault = object(f, `faults[${i}]`, ['at', 'status', 'remaining'])
    str(fault.at, `faults[${i}].at`)
    str(fault.status, `faults[${i}].status`)
    int(fault.remaining, `faults[${i}].remaining`)
  })
  return upgraded as TdSnapshot
}

let vpShapes: Json[] | undefined

/** The saved form of a fresh BSP and AP: the reference every VP's shape is checked against. */
function vpShape(): Json[] {
  vpShapes ??= [new VsmVp(0), new VsmVp(1)].map((vp) => saveVp(vp) as Json)
  return vpShapes
}

/**
 * After a restore, the TD saved again must give back the document: a field the TD did not take
 * as written (a value it normalised, dropped or could not hold) is named.
 */
export function checkRoundTrip(document: unknown, saved: unknown, field = ''): void {
  if (Object.is(document, saved)) return
  const at = (k: string | number): string => fieldAt(field, k)
  if (Array.isArray(document) && Array.isArray(saved)) {
    if (document.length !== saved.length) refuse(field, 'does not restore as written (length)')
    document.forEach((v, i) => {
      checkRoundTrip(v, saved[i], at(i))
    })
    return
  }
  if (isRecord(document) && isRecord(saved)) {
    const keys = new Set([...Object.keys(document), ...Object.keys(saved)])
    for (const k of keys) checkRoundTrip(document[k], saved[k], at(k))
    return
  }
  refuse(field, 'does not restore as written')
}

const fieldAt = (field: string, k: string | number): string =>
  typeof k === 'number' ? `${field}[${k}]` : field === '' ? k : `${field}.${k}`

/** A value as JSON text carries it (a file, a request body). */
const asJson = (value: unknown): unknown =>
  value === undefined ? undefined : JSON.parse(JSON.stringify(value))

/** An array or a plain object (no class, no `toJSON`): one whose JSON form is its own parts. */
export function plain(value: unknown): value is unknown[] | Json {
  if (Array.isArray(value)) return true
  if (!isRecord(value) || 'toJSON' in value) return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * `checkRoundTrip` of the document and the TD saved again, both in their JSON form, as sliced
 * work: the top `depth` levels are walked here (yielding after each part below them: a VP's
 * field, a trace event, a page), the parts below are compared whole.
 */
export function* checkRoundTripSliced(
  document: unknown,
  saved: unknown,
  field = '',
  depth = 3
): SlicedWork<void> {
  if (
    depth === 0 ||
    !plain(document) ||
    !plain(saved) ||
    Array.isArray(document) !== Array.isArray(saved)
  ) {
    checkRoundTrip(asJson(document), asJson(saved), field)
    yield
    return
  }
  if (Array.isArray(document) && Array.isArray(saved)) {
    if (document.length !== saved.length) refuse(field, 'does not restore as written (length)')
    for (const [i, v] of document.entries()) {
      // JSON carries a missing array entry as null.
      yield* checkRoundTripSliced(v ?? null, saved[i] ?? null, fieldAt(field, i), depth - 1)
    }
    return
  }
  const doc = document as Json
  const again = saved as Json
  for (const k of new Set([...Object.keys(doc), ...Object.keys(again)])) {
    yield* checkRoundTripSliced(doc[k], again[k], fieldAt(field, k), depth - 1)
  }
}
