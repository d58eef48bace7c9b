import { VtlError, formatPermissionText, parsePermissionText } from '@vtl/core'
import { HEX_U64_PATTERN, formatHex } from '@vtl/core/schemas'
import type { PageKindName } from '@vtl/memory'
import type { GpaSvgInput, GpaSvgRun } from './gpa-svg.js'

// vtld's memory runs (`GET /v1/tds/{id}/memory/runs`) read back into the picture's runs. On that
// wire `vtl0`/`vtl1` are `rwxu` text, and `none` means the VTL has no VALID attributes
// (`undefined`), not "no access" (`----`, 0).

/** Builds the error for a field that is not a memory-run field (`what`: which, `value`: as sent). */
export type WireRunError = (what: string, value: unknown) => Error

/** The default: a `VtlError` `E_INVALID_VALUE` naming the field and the value. */
export const wireRunError: WireRunError = (what, value) =>
  new VtlError(
    'E_INVALID_VALUE',
    `vtld sent ${what} ${JSON.stringify(value)}, not a memory run field`,
    {
      field: what,
    }
  )

const KINDS: readonly PageKindName[] = ['ram', 'mmio', 'none']
const isKind = (v: unknown): v is PageKindName => KINDS.some((kind) => kind === v)

type Doc = Record<string, unknown>
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The wire form of one run, as vtld answers it. */
export interface WireRun {
  start: string
  size: string
  kind: PageKindName
  visibility: 'private' | 'shared'
  accepted: boolean
  locked: boolean
  /** `rwxu` text (`-` for a missing right), or `none`: no VALID attributes. */
  vtl0: string
  vtl1: string
  overlay: { vtl0: boolean; vtl1: boolean }
}

/** One vtld run (`{start, size, kind, visibility, accepted, locked, vtl0, vtl1, overlay}`). */
export function wireRunToSvgRun(run: unknown, fail: WireRunError = wireRunError): GpaSvgRun {
  const hex = (value: unknown, what: string): bigint => {
    if (typeof value !== 'string' || !HEX_U64_PATTERN.test(value)) throw fail(what, value)
    return BigInt(value)
  }
  const bool = (value: unknown, what: string): boolean => {
    if (typeof value !== 'boolean') throw fail(what, value)
    return value
  }
  const permissions = (text: unknown, what: string): number | undefined => {
    if (text === 'none') return undefined
    const flags = typeof text === 'string' ? parsePermissionText(text) : undefined
    if (flags === undefined) throw fail(what, text)
    return flags
  }
  if (!isDoc(run)) throw fail('a run', run)
  const start = hex(run.start, 'a run start')
  const end = start + hex(run.size, 'a run size')
  if (!isKind(run.kind)) throw fail('a run kind', run.kind)
  if (run.visibility !== 'shared' && run.visibility !== 'private') {
    throw fail('a run visibility', run.visibility)
  }
  const overlay = isDoc(run.overlay) ? run.overlay : {}
  return {
    start,
    end,
    state: {
      kind: run.kind,
      shared: run.visibility === 'shared',
      accepted: bool(run.accepted, 'a run accepted flag'),
      locked: bool(run.locked, 'a run locked flag'),
      overlay: {
        vtl0: bool(overlay.vtl0, 'a run VTL0 overlay flag'),
        vtl1: bool(overlay.vtl1, 'a run VTL1 overlay flag'),
      },
      vtl0: permissions(run.vtl0, 'VTL0 permissions'),
      vtl1: permissions(run.vtl1, 'VTL1 permissions'),
    },
  }
}

/** One picture run in vtld's wire form: the inverse of `wireRunToSvgRun`. */
export function svgRunToWireRun({ start, end, state }: GpaSvgRun): WireRun {
  return {
    start: formatHex(start),
    size: formatHex(end - start),
    kind: state.kind,
    visibility: state.shared ? 'shared' : 'private',
    accepted: state.accepted,
    locked: state.locked,
    vtl0: formatPermissionText(state.vtl0),
    vtl1: formatPermissionText(state.vtl1),
    overlay: { vtl0: state.overlay.vtl0, vtl1: state.overlay.vtl1 },
  }
}

/** The picture's input from vtld's runs: the range they cover, or an empty range at `start`. */
export function wireRunsSvgInput(
  runs: readonly unknown[],
  start = 0n,
  fail: WireRunError = wireRunError
): GpaSvgInput {
  const svgRuns = runs.map((run) => wireRunToSvgRun(run, fail))
  return {
    runs: svgRuns,
    start: svgRuns[0]?.start ?? start,
    end: svgRuns[svgRuns.length - 1]?.end ?? start,
  }
}
