import { isDeepStrictEqual } from 'node:util'
import {
  GuestVsmState,
  HvRegisterName,
  PartitionField,
  getVpRegister,
  snapshotEngine,
  type VsmEngine,
} from '@vtl/core'
import type { PageStateView } from '@vtl/memory'
import type { PageAttr, SimTd } from '@vtl/sim'
import type { InvariantLog } from './invariant-log.js'

/**
 * The per-VP enable state machine (vsm-on-tdx.md §4.3) and the enabled sets a guest reads:
 * - no half-enabled VP: Active (cvm.vtl1 set) or running VTL1 only with `vtl1_enable_called`,
 *   and a VP enabled only in an Enabled partition;
 * - VsmVpStatus's enabled_vtl_set and active VTL agree with the per-VP state;
 * - EnabledOnAnyVp is exactly "some VP has its enable flag".
 */
export function checkVsmState(engine: VsmEngine, log: InvariantLog): void {
  const { shared } = engine
  let anyEnabled = false
  for (const vp of engine.vps) {
    const called = shared.vtl1EnableCalled(vp.index)
    anyEnabled ||= called
    log.check('no half-enabled VP', vp.vtl1 === undefined || called, () => {
      return `VP ${vp.index} is Active without vtl1_enable_called`
    })
    log.check('VTL1 runs only where enabled', vp.exitVtl === 0 || called, () => {
      return `VP ${vp.index} runs VTL1 without vtl1_enable_called`
    })
    const status = getVpRegister(
      engine,
      vp.index,
      vp.exitVtl,
      vp.exitVtl,
      HvRegisterName.VsmVpStatus
    )
    const enabledSet = Number((status.value >> 16n) & 0xffffn)
    log.check('enabled_vtl_set matches the per-VP state', enabledSet === (called ? 3 : 1), () => {
      return `VP ${vp.index}: VsmVpStatus 0x${status.value.toString(16)} but enable called ${called}`
    })
    log.check('VsmVpStatus active VTL', Number(status.value & 0xfn) === vp.exitVtl, () => {
      return `VP ${vp.index}: VsmVpStatus 0x${status.value.toString(16)}, exit VTL ${vp.exitVtl}`
    })
  }
  log.check(
    'EnabledOnAnyVp matches the VPs',
    engine.flag(PartitionField.EnabledOnAnyVp) === anyEnabled,
    () => {
      return `EnabledOnAnyVp ${engine.flag(PartitionField.EnabledOnAnyVp)}, some VP enabled ${anyEnabled}`
    }
  )
  log.check(
    'VPs enabled only in an Enabled partition',
    !anyEnabled || engine.guestVsmState === GuestVsmState.Enabled,
    () => `a VP is enabled while the partition state is ${engine.guestVsmState}`
  )
}

/**
 * An L2 VM's attributes with "no access" in one form: the module removes an alias left with no
 * R/W/Xs/Xu (it stores 0), the map keeps VALID with no permissions (0x8000); both deny everything.
 */
const access = (attr: number): number => ((attr & 0xf) === 0 ? 0 : attr)

/** Whether the GPA map's view of a private page matches the Secure EPT's. */
function pageAgrees(map: PageStateView, attr: PageAttr): boolean {
  // A shared page is not in the Secure EPT (MapGPA to shared removed it).
  if (map.shared) return !attr.accepted
  if (map.accepted !== attr.accepted) return false
  if (!map.accepted) return true
  return access(map.vm1Attr) === access(attr.vm1) && access(map.vm2Attr) === access(attr.vm2)
}

/**
 * The memory map (`GpaSpace`) equals the software TDX module's Secure-EPT attributes, run by run
 * over the TD's RAM (`module.forEachAttrRun`), and the Secure EPT keeps whole aligned leaves.
 */
export function checkMemoryMap(td: SimTd, log: InvariantLog): void {
  const pages = Number(td.memoryBytes >> 12n)
  const mapRuns = td.space.runs({ start: 0n, end: td.memoryBytes }, { limit: pages }).runs
  let index = 0
  let mismatch: string | undefined
  td.module.forEachAttrRun(0, pages, (start, end, attr) => {
    // Both run lists cover [0, pages): walk the map's runs that overlap [start, end).
    for (let page = start; page < end;) {
      const run = mapRuns[index]
      if (run === undefined) {
        mismatch = `page ${page}: the map ends before the Secure EPT`
        return false
      }
      const runEnd = Number(run.end >> 12n)
      if (!pageAgrees(run.state, attr)) {
        mismatch =
          `pages ${page}..${Math.min(end, runEnd)}: map ` +
          `${JSON.stringify(run.state)} vs Secure EPT ${JSON.stringify(attr)}`
        return false
      }
      if (runEnd <= end) index++
      page = Math.min(end, runEnd)
    }
    return true
  })
  log.check('memory map equals the Secure-EPT attributes', mismatch === undefined, () => {
    return mismatch ?? ''
  })
  let shape: string | undefined
  try {
    td.module.checkInvariants()
  } catch (error) {
    shape = error instanceof Error ? error.message : String(error)
  }
  log.check('Secure EPT keeps whole aligned leaves', shape === undefined, () => shape ?? '')
}

/**
 * Everything a guest call may change, minus what every completed call changes (RIP of the caller's
 * VTLs and the shared RAX, where the result goes) and the host's bookkeeping (the untrusted host
 * keeps a VTL it enabled when a later step fails: it has no "disable"), for "a failed call
 * changed nothing".
 */
export function callableState(td: SimTd): unknown {
  const snapshot = snapshotEngine(td.engine) as {
    partition: Record<string, unknown>
    vps: {
      registers: { rax: bigint; rcx: bigint; rdx: bigint; r8: bigint }
      vtls: { registers: { rip: bigint } }[]
    }[]
  }
  snapshot.partition.HostPartitionVtlEnabled = 0
  for (const vp of snapshot.vps) {
    // The guest set RCX/RDX/R8 (and RAX) to make the call: they are its input, not its effect.
    vp.registers.rax = 0n
    vp.registers.rcx = 0n
    vp.registers.rdx = 0n
    vp.registers.r8 = 0n
    for (const vtl of vp.vtls) vtl.registers.rip = 0n
  }
  const memory = td.space.runs({ start: 0n, end: td.memoryBytes }, { limit: 1 << 20 }).runs
  return { engine: snapshot, memory }
}

/** Checks that a failed call left `before` (a `callableState`) as it was. */
export function checkUnchanged(td: SimTd, before: unknown, what: string, log: InvariantLog): void {
  const after = callableState(td)
  log.check('a failed call changes nothing', isDeepStrictEqual(before, after), () => {
    return `${what} failed but changed ${firstDifference(before, after)}`
  })
}

/** The path of the first difference between two plain values (for a readable violation). */
export function firstDifference(a: unknown, b: unknown, path = '$'): string {
  if (isDeepStrictEqual(a, b)) return '(nothing)'
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    return `${path}: ${String(a)} → ${String(b)}`
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  for (const key of keys) {
    const x: unknown = (a as Record<string, unknown>)[key]
    const y: unknown = (b as Record<string, unknown>)[key]
    if (!isDeepStrictEqual(x, y)) return firstDifference(x, y, `${path}.${key}`)
  }
  return path
}
