import { HvRegisterName, VtlError } from '@vtl/core'
import {
  FaultInjector,
  SimTd,
  createRandom,
  performStep,
  type GuestAction,
  type Random,
  type StepResult,
} from '@vtl/sim'
import {
  contextAt,
  enablePartitionVtl,
  enableSelf,
  enableVpVtl,
  gpnRange,
  hypercall,
  modifyHostVisibility,
  modifyVtlProtectionMask,
  startVirtualProcessor,
} from './guest-calls.js'
import type { InvariantLog } from './invariant-log.js'
import { callableState, checkMemoryMap, checkUnchanged, checkVsmState } from './invariants.js'
import type { Campaign } from './runner.js'

const VPS = 4
const MEMORY = 32n << 20n
const PAGES = Number(MEMORY >> 12n)
/** HvMapGpaFlags masks VTL1 applies: valid ones, and W without R (refused: a failed call). */
const MASKS = [0, 0x1, 0x3, 0xf, 0x5, 0x9, 0xb, 0x2]
const TDX_STATUSES = ['TDX_OPERAND_BUSY', 'TDX_OPERAND_INVALID', 'TDX_PAGE_SIZE_MISMATCH']
const HV_STATUSES = [
  'InsufficientMemory',
  'InvalidParameter',
  'AccessDenied',
  'InvalidVtlState',
  'OperationDenied',
]

export interface Step {
  vp: number
  action: GuestAction
}

/**
 * The canonical boot (vsm-on-tdx.md §4.6: the BSP enables VTL1 and enters it, VTL1 enables and
 * starts every AP, sets VsmPartitionConfig) followed by a seeded protection sequence: VTL1 changes
 * VTL0's permissions on random page ranges while the APs read and write in VTL0, then VTL0 shares
 * a range with the host and takes it back.
 */
export function faultsProgram(random: Random): Step[] {
  const steps: Step[] = []
  const on = (vp: number, action: GuestAction): void => {
    steps.push({ vp, action })
  }
  on(0, hypercall(enablePartitionVtl()))
  on(0, hypercall(enableSelf(contextAt(0x10_0000n, 0x20_0000n))))
  on(0, { kind: 'vtlCall', input: 0n })
  for (let ap = 1; ap < VPS; ap++) {
    on(0, hypercall(enableVpVtl(ap, contextAt(0x11_0000n + BigInt(ap) * 0x1000n))))
    on(0, hypercall(startVirtualProcessor(ap, 0, contextAt(0x12_0000n))))
    on(ap, { kind: 'run' })
    on(ap, { kind: 'vtlReturn', fast: false })
  }
  const config = HvRegisterName.VsmPartitionConfig
  on(0, { kind: 'setRegister', name: config, value: 0x1fn, targetVtl: undefined })
  const protections = 3 + random.int(8)
  for (let i = 0; i < protections; i++) {
    const count = 1 + random.int(64)
    const first = random.int(PAGES - count)
    on(0, hypercall(modifyVtlProtectionMask(random.pick(MASKS), gpnRange(first, count))))
    const ap = 1 + random.int(VPS - 1)
    const gpa = BigInt(first + random.int(count)) << 12n
    on(
      ap,
      random.int(2) === 0
        ? { kind: 'read', gpa, size: 8 }
        : { kind: 'write', gpa, size: 8, value: 0x5an }
    )
  }
  on(0, { kind: 'vtlReturn', fast: false })
  const count = 1 + random.int(16)
  const first = random.int(PAGES - count)
  on(0, hypercall(modifyHostVisibility(3, gpnRange(first, count))))
  on(0, hypercall(modifyHostVisibility(0, gpnRange(first, count))))
  return steps
}

function newTd(faults?: FaultInjector): SimTd {
  return new SimTd({
    vps: VPS,
    memory: MEMORY,
    startedVps: [0],
    traceEvents: false,
    ...(faults === undefined ? {} : { faults }),
  })
}

/** What a guest call's result says: failed with nothing completed (so nothing may change). */
function failedWhole(result: StepResult): boolean {
  if (result.enterStatus !== undefined || result.exception !== undefined) return true
  const status = result.status
  return typeof status === 'string' && status !== 'Success' && !(Number(result.repsCompleted) > 0)
}

/** Typed errors that stand for OpenHCL's panics (the run ends there). */
const PANICS = new Set(['E_TDX_STATUS', 'E_HV_STATUS'])

const CALL_KINDS = new Set(['hypercall', 'vtlCall', 'vtlReturn', 'setRegister', 'getRegister'])

/**
 * Arms 1–3 one-shot failures at points the fault-free run reaches: a TDCALL leaf or forwarded
 * hypercall it issued, failing its (after+1)-th call with a status drawn from the lists above.
 */
function armFaults(random: Random, program: Step[], faults: FaultInjector): void {
  const dry = newTd()
  for (const { vp, action } of program) performStep(dry, vp, action)
  const stats = dry.stats()
  const points = [
    ...Object.entries(stats.tdcalls).map(([at, n]) => ({ at, n, statuses: TDX_STATUSES })),
    ...Object.entries(stats.hypervisorCalls).map(([at, n]) => ({ at, n, statuses: HV_STATUSES })),
  ]
  const count = 1 + random.int(3)
  for (let i = 0; i < count; i++) {
    const point = random.pick(points)
    faults.arm({ at: point.at, status: random.pick(point.statuses), after: random.int(point.n) })
  }
}

export interface FaultsOptions {
  /** Called after each step (tests plant violations through it). */
  tamper?: (td: SimTd, step: number) => void
}

/**
 * `faults`: seeded runs of the canonical boot and protection sequences, each with one or more
 * injected TDCALL or hypercall failures at random points. After every step: the enable state
 * machine and enabled sets hold, the memory map equals the Secure EPT, and a call that failed
 * (with nothing completed) changed nothing.
 */
export function createFaultsCampaign(options: FaultsOptions = {}): Campaign {
  return {
    name: 'faults',
    unit: 'faulted run',
    defaultRuns: 10_000,
    defaultBudgetSeconds: Number.POSITIVE_INFINITY,
    run(seed: number, log: InvariantLog): number {
      const random = createRandom(seed)
      const program = faultsProgram(random.fork('program'))
      const faults = new FaultInjector(seed)
      armFaults(random.fork('faults'), program, faults)
      const td = newTd(faults)
      for (const [index, { vp, action }] of program.entries()) {
        let before: unknown
        try {
          // The VP handles its wakes first (as performStep would), so that only the call itself
          // is between the two states compared.
          td.actingVtl(vp)
          // A wake the entry could not complete (a failed context write) is retried by the entry
          // after the call: that change is not the call's, so such calls are not compared.
          const { shared } = td.engine
          const pendingWake = shared.wakeReasons(vp, 0) !== 0 || shared.wakeReasons(vp, 1) !== 0
          if (CALL_KINDS.has(action.kind) && !pendingWake) before = callableState(td)
          const { result } = performStep(td, vp, action)
          if (before !== undefined && failedWhole(result)) {
            log.tally('failed calls')
            checkUnchanged(td, before, `step ${index} (${action.kind} on VP ${vp})`, log)
          }
        } catch (error) {
          // Where OpenHCL panics, the TD stops with a typed error: a memory plan whose undo also
          // failed (E_TDX_STATUS), a host refusing a private→shared change (E_HV_STATUS).
          if (VtlError.isInstance(error) && PANICS.has(error.code)) {
            log.tally(`panics (${error.code})`)
            break
          }
          throw error
        }
        options.tamper?.(td, index)
        checkVsmState(td.engine, log)
        checkMemoryMap(td, log)
      }
      for (const fault of faults.fired) log.tally(`fault ${fault.at} ${fault.status}`)
      log.check('a fault fired', faults.fired.length > 0, () => 'no armed fault was reached')
      return 1
    },
  }
}
