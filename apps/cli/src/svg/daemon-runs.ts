import { parsePermissionText } from '@vtl/core'
import type { PageKindName } from '@vtl/memory'
import { CliError, ExitCode } from '../errors.js'
import { hexToBigint } from '../wire.js'
import type { GpaSvgInput, GpaSvgRun } from './gpa-svg.js'

// vtld's memory runs (`GET …/memory/runs`, every page of them as `mem show --td` collects them)
// read back into the picture's runs. On that wire `vtl0`/`vtl1` are `rwxu` text, and `none` means
// the VTL has no VALID attributes (`undefined`), not "no access" (`----`, 0).

const KINDS: readonly PageKindName[] = ['ram', 'mmio', 'none']
const isKind = (v: unknown): v is PageKindName => KINDS.some((kind) => kind === v)

type Doc = Record<string, unknown>
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v)

function bad(what: string, value: unknown): CliError {
  return new CliError(
    'E_BAD_ANSWER',
    `vtld sent ${what} ${JSON.stringify(value)}, not a memory run field`,
    ExitCode.Failed
  )
}

function bool(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw bad(what, value)
  return value
}

function permissions(text: unknown, what: string): number | undefined {
  if (text === 'none') return undefined
  const flags = typeof text === 'string' ? parsePermissionText(text) : undefined
  if (flags === undefined) throw bad(what, text)
  return flags
}

/** One daemon run (`{start, size, kind, visibility, accepted, locked, vtl0, vtl1, overlay}`). */
export function daemonRunToSvgRun(run: unknown): GpaSvgRun {
  if (!isDoc(run)) throw bad('a run', run)
  const start = hexToBigint(run.start, 'a run start')
  const end = start + hexToBigint(run.size, 'a run size')
  if (!isKind(run.kind)) throw bad('a run kind', run.kind)
  if (run.visibility !== 'shared' && run.visibility !== 'private') {
    throw bad('a run visibility', run.visibility)
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

/**
 * The picture's input from the runs of `mem show --td`: the range they cover, or an empty range
 * at `start` when the daemon sent none.
 */
export function daemonRunsSvgInput(runs: readonly unknown[], start = 0n): GpaSvgInput {
  const svgRuns = runs.map(daemonRunToSvgRun)
  return {
    runs: svgRuns,
    start: svgRuns[0]?.start ?? start,
    end: svgRuns[svgRuns.length - 1]?.end ?? start,
  }
}
