import { PlainSharedVsmState, VtlError, formatHex, type VsmVp } from '@vtl/core'
import { DEFAULT_HYPERCALL_PAGES } from '../guest/hypercall-pages.js'
import { MemoryContents } from '../guest/memory-contents.js'
import { SimTd, type PlatformRestore } from '../td/sim-td.js'
import { restoreOverlays, saveOverlays, type SavedOverlay } from './overlay-snapshot.js'
import { finish, finishSliced, type SliceOptions, type SlicedWork } from './sliced-work.js'
import { checkRoundTripSliced, checkSnapshot, type SnapshotLimits } from './validate-snapshot.js'
import { BIG, saveVp } from './vp-snapshot.js'

/** A whole TD as JSON: everything a run can change, so that a restored TD continues identically. */
export interface TdSnapshot {
  version: 1
  options: {
    vps: number
    memory: string
    gpaWidth: 48 | 52
    mbecCapable: boolean
    seed: number
    /** Only when the TD chose other pages than the default 0x0 / 0x1000. */
    hypercallPages?: { input: string; output: string }
  }
  platform: PlatformRestore
  /** The engine's cross-VP words and queued contexts (the SharedVsmState bytes, base64). */
  shared: string
  /** Each VP's own engine state (registers, LAPICs, SynIC, assist-page control, VTL1 state). */
  vps: unknown[]
  memory: {
    runs: {
      start: string
      end: string
      accepted: boolean
      shared: boolean
      locked: boolean
      vtl0: number | null
      vtl1: number | null
    }[]
    defaults: { vtl0: number; vtl1: number | null }
    /** Every overlay page a VTL maps, by GPN then VTL: what unmapping it gives back. */
    overlays: SavedOverlay[]
  }
  contents: Record<string, string>
  guest: {
    enteredVtl: number[]
    woken: number[]
    vps: {
      vp: number
      blocked: { control: string; input: string; fast: boolean } | null
      exception: number | null
    }[]
  }
  faults: { at: string; status: string; remaining: number }[]
}

function decode(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value), (_key, v: unknown) => {
    if (typeof v === 'string' && v.startsWith(BIG)) return BigInt(v.slice(BIG.length))
    if (typeof v === 'object' && v !== null && 'bytes' in v && Object.keys(v).length === 1) {
      return new Uint8Array(Buffer.from((v as { bytes: string }).bytes, 'hex'))
    }
    return v
  })
}

interface SavedVtl {
  registers: VsmVp['vtls'][0]['registers']
  vpAssistPage: bigint
  hypercallMsr: bigint
  control: VsmVp['vtls'][0]['control']
  synic: Omit<VsmVp['vtls'][0]['synic'], 'message'> & { message: (Uint8Array | null)[] }
  overlayPrivate: VsmVp['vtls'][0]['overlayPrivate']
  apic: {
    irr: number[]
    isr: number[]
    tpr: number
    nmiPending: boolean
    activity: VsmVp['vtls'][0]['apic']['activity']
  }
  interruptShadow: boolean
}

function restoreVp(vp: VsmVp, saved: unknown): void {
  const s = decode(saved) as {
    exitVtl: 0 | 1
    tlbWait: (number[] | null)[]
    tlbWaitReleases: (number[] | null)[]
    vtl1: VsmVp['vtl1'] | null
    shared: VsmVp['shared']
    vtls: SavedVtl[]
  }
  vp.exitVtl = s.exitVtl
  vp.tlbWait[0] = s.tlbWait[0] ?? undefined
  vp.tlbWait[1] = s.tlbWait[1] ?? undefined
  vp.tlbWaitReleases[0] = s.tlbWaitReleases[0] ?? undefined
  vp.tlbWaitReleases[1] = s.tlbWaitReleases[1] ?? undefined
  vp.vtl1 = s.vtl1 ?? undefined
  Object.assign(vp.shared, s.shared)
  s.vtls.forEach((v, i) => {
    const target = vp.vtls[i as 0 | 1]
    Object.assign(target.registers, v.registers)
    target.vpAssistPage = v.vpAssistPage
    target.hypercallMsr = v.hypercallMsr
    target.control = v.control
    target.synic = { ...v.synic, message: v.synic.message.map((m) => m ?? undefined) }
    target.overlayPrivate = v.overlayPrivate
    target.apic.irr.set(v.apic.irr)
    target.apic.isr.set(v.apic.isr)
    target.apic.tpr = v.apic.tpr
    target.apic.nmiPending = v.apic.nmiPending
    target.apic.activity = v.apic.activity
    target.interruptShadow = v.interruptShadow
  })
}

function sharedBytes(td: SimTd): Uint8Array {
  const shared = td.engine.shared
  if (!(shared instanceof PlainSharedVsmState)) {
    throw new VtlError('E_UNSUPPORTED', 'snapshots need the plain (single-threaded) SharedVsmState')
  }
  return new Uint8Array(shared.buffer)
}

/** Saves the whole TD. Take it between steps (no engine lock is held then). */
export function saveTd(td: SimTd): TdSnapshot {
  return finish(saveWork(td))
}

/**
 * `saveTd` giving the event loop a turn after each used-up slice (between two VPs). Nothing may
 * step the TD until it resolved (a daemon holds the TD's command queue).
 */
export async function saveTdSliced(td: SimTd, options?: SliceOptions): Promise<TdSnapshot> {
  return await finishSliced(saveWork(td), options)
}

/** Saves a VP at a time, yielding after each. */
function* saveVps(td: SimTd): SlicedWork<unknown[]> {
  const vps: unknown[] = []
  for (const vp of td.engine.vps) {
    vps.push(saveVp(vp))
    yield
  }
  return vps
}

function* saveWork(td: SimTd): SlicedWork<TdSnapshot> {
  if (td.l2Cpu !== undefined) {
    // The CPU's state (its contexts, pending events, debug ports) is not part of a snapshot.
    throw new VtlError('E_UNSUPPORTED', 'a TD whose guests run real code cannot be saved', {
      field: 'td',
    })
  }
  td.flushClock()
  const { runs } = td.space.runs(
    { start: 0n, end: td.memoryBytes },
    { limit: Number.MAX_SAFE_INTEGER }
  )
  const defaults = td.space.defaults
  const vps = yield* saveVps(td)
  return {
    version: 1,
    options: {
      vps: td.vpCount,
      memory: `0x${td.memoryBytes.toString(16)}`,
      gpaWidth: td.gpaWidth,
      mbecCapable: td.mbecCapable,
      seed: td.seed,
      ...(td.hypercallPages === DEFAULT_HYPERCALL_PAGES
        ? {}
        : {
            hypercallPages: {
              input: formatHex(td.hypercallPages.input),
              output: formatHex(td.hypercallPages.output),
            },
          }),
    },
    platform: {
      module: td.module.toJSON(),
      hypervisor: td.hypervisor.toJSON(),
      trace: td.trace.toJSON(),
      clock: td.clock.toJSON(),
      stats: td.stats(),
    },
    shared: Buffer.from(sharedBytes(td)).toString('base64'),
    vps,
    memory: {
      runs: runs.map((r) => ({
        start: `0x${r.start.toString(16)}`,
        end: `0x${r.end.toString(16)}`,
        accepted: r.state.accepted,
        shared: r.state.shared,
        locked: r.state.locked,
        vtl0: r.state.vtl0 ?? null,
        vtl1: r.state.vtl1 ?? null,
      })),
      defaults: { vtl0: defaults.vtl0, vtl1: defaults.vtl1 ?? null },
      overlays: saveOverlays(td),
    },
    contents: td.contents.toJSON(),
    guest: {
      enteredVtl: Array.from(td.enteredVtl),
      woken: td.wokenVps(),
      vps: td.guestVpEntries().map(([vp, s]) => ({
        vp,
        blocked:
          s.blocked === undefined
            ? null
            : {
                control: `0x${s.blocked.control.toString(16)}`,
                input: Buffer.from(s.blocked.input).toString('hex'),
                fast: s.blocked.fast,
              },
        exception: s.exception ?? null,
      })),
    },
    faults: td.faults.pending.map((f) => ({ at: f.at, status: f.status, remaining: f.remaining })),
  }
}

/**
 * Builds a fresh TD in exactly the saved state. The document is checked completely first
 * (`validateSnapshot`), and the TD saved again must give it back: a bad field throws
 * `E_INVALID_VALUE` naming it, and nothing half-restored is returned.
 */
export function restoreTd(snapshot: TdSnapshot, limits?: SnapshotLimits): SimTd {
  return finish(restoreWork(snapshot, limits))
}

/**
 * `restoreTd` giving the event loop a turn after each used-up slice (between two VPs, trace
 * events, memory runs). The TD is built aside and handed out only once complete and checked: a
 * refusal midway leaves nothing behind.
 */
export async function restoreTdSliced(
  snapshot: TdSnapshot,
  options: SliceOptions & { limits?: SnapshotLimits } = {}
): Promise<SimTd> {
  return await finishSliced(restoreWork(snapshot, options.limits), options)
}

function* restoreWork(snapshot: TdSnapshot, limits?: SnapshotLimits): SlicedWork<SimTd> {
  const document = yield* checkSnapshot(snapshot, limits)
  const td = yield* applySnapshot(document)
  yield* checkRoundTripSliced(document, yield* saveWork(td))
  return td
}

function* applySnapshot(snapshot: TdSnapshot): SlicedWork<SimTd> {
  const { options } = snapshot
  const td = new SimTd({
    vps: options.vps,
    memory: BigInt(options.memory),
    gpaWidth: options.gpaWidth,
    mbecCapable: options.mbecCapable,
    seed: options.seed,
    ...(options.hypercallPages === undefined
      ? {}
      : {
          hypercallPages: {
            input: BigInt(options.hypercallPages.input),
            output: BigInt(options.hypercallPages.output),
          },
        }),
    restore: snapshot.platform,
  })
  yield
  sharedBytes(td).set(Buffer.from(snapshot.shared, 'base64'))
  for (const [i, saved] of snapshot.vps.entries()) {
    restoreVp(td.engine.vp(i), saved)
    yield
  }
  for (const run of snapshot.memory.runs) {
    td.space.mark(
      { start: BigInt(run.start), end: BigInt(run.end) },
      run.accepted
        ? { accepted: true, shared: false, locked: run.locked, vtl0: run.vtl0, vtl1: run.vtl1 }
        : { accepted: false, shared: run.shared, locked: run.locked }
    )
    yield
  }
  const { defaults } = snapshot.memory
  td.space.setDefaults({ vtl0: defaults.vtl0, vtl1: defaults.vtl1 ?? undefined })
  restoreOverlays(td, snapshot.memory.overlays)
  td.contents = MemoryContents.fromJSON(snapshot.contents)
  td.enteredVtl.set(snapshot.guest.enteredVtl)
  for (const vp of snapshot.guest.woken) td.markWoken(vp)
  for (const saved of snapshot.guest.vps) {
    const state = td.guestVp(saved.vp)
    state.exception = saved.exception ?? undefined
    state.blocked =
      saved.blocked === null
        ? undefined
        : {
            control: BigInt(saved.blocked.control),
            input: new Uint8Array(Buffer.from(saved.blocked.input, 'hex')),
            fast: saved.blocked.fast,
          }
  }
  for (const fault of snapshot.faults) {
    td.faults.arm({ at: fault.at, status: fault.status, after: fault.remaining })
  }
  return td
}
