import { GuestVsmState, PartitionField } from '@vtl/core'
import {
  createRandom,
  flagsForVersion,
  protectionPage,
  runParallel,
  type ParallelRunOptions,
  type ParallelRunResult,
} from '@vtl/sim'
import type { InvariantLog } from './invariant-log.js'
import { checkMemoryMap } from './invariants.js'
import type { Campaign } from './runner.js'

/** Worker threads per round: the many-VP contention of a 2-core machine. */
const WORKERS = 2

/** A round's geometry and operation mix, from its seed. */
export function roundOptions(seed: number): ParallelRunOptions {
  const random = createRandom(seed)
  return {
    vps: 4 + random.int(13),
    workers: WORKERS,
    timeoutMs: 60_000,
    workload: {
      seed,
      stepsPerVp: 100 + random.int(301),
      protectShare: random.pick([0, 0.1, 0.3, 0.5]),
      crossShare: random.pick([0.1, 0.2, 0.4]),
      allRunning: random.int(3) === 0,
    },
  }
}

/**
 * The sim issue's invariants on a finished round (what parallel.test.ts asserts, as checks):
 * one EnablePartitionVtl and one first VTL0 EnableVpVtl win; per VP, EnableVpVtl wins equal
 * `vtl1_enable_called` and their sum the host's EnableVpVtl count; no VP Active without its
 * enable; `started` once per VP; every acknowledged protection change is in the permission
 * snapshot and the GPA space; the memory map equals the Secure EPT; the workers saw no violation.
 */
export function checkRound(run: ParallelRunResult, log: InvariantLog): void {
  const { counters: c, shared, control, channel, td } = run
  for (const violation of run.violations) log.fail('no violation seen by a worker', violation)
  log.check('workers saw no violation', run.violations.length === 0)
  const partitionOn = c.PartitionEnableSuccess > 0
  log.check('at most one EnablePartitionVtl wins', c.PartitionEnableSuccess <= 1, () => {
    return `${c.PartitionEnableSuccess} wins`
  })
  log.check(
    'at most one first VTL0 EnableVpVtl wins',
    c.Vtl0EnableSuccess <= (partitionOn ? 1 : 0),
    () => {
      return `${c.Vtl0EnableSuccess} wins`
    }
  )
  const hostPartition = td.hypervisor.counts.get('EnablePartitionVtl') ?? 0
  log.check(
    'the host heard each partition enable once',
    hostPartition === c.PartitionEnableSuccess,
    () => {
      return `host ${hostPartition}, wins ${c.PartitionEnableSuccess}`
    }
  )
  let enabled = 0
  for (const vp of run.vps) {
    const wins = control.enableWins(vp.vp)
    const called = shared.vtl1EnableCalled(vp.vp)
    if (called) enabled++
    log.check('EnableVpVtl wins equal vtl1_enable_called', wins === (called ? 1 : 0), () => {
      return `VP ${vp.vp}: ${wins} wins, enable called ${called}`
    })
    log.check('no half-enabled VP', !vp.active || called, () => `VP ${vp.vp} Active without enable`)
    log.check(
      'an enabled VP is Active unless StartVp(VTL1) overwrote its context',
      !called || vp.active || vp.vtl1StartedInactive,
      () => {
        return `VP ${vp.vp} enabled, not Active, context not overwritten`
      }
    )
    const starts = control.startWins(vp.vp)
    log.check(
      'started once per VP',
      starts <= 1 && shared.started(vp.vp) === (vp.vp === 0 || starts === 1),
      () => {
        return `VP ${vp.vp}: ${starts} start wins, started ${shared.started(vp.vp)}`
      }
    )
    const version = control.acknowledged(vp.vp)
    const page = protectionPage(vp.vp)
    const snapshot = channel.permission(0, page)
    log.check(
      'acknowledged protection changes are in the snapshot',
      snapshot.version === version && snapshot.flags === flagsForVersion(version),
      () => {
        return `VP ${vp.vp}: acknowledged ${version}, snapshot ${JSON.stringify(snapshot)}`
      }
    )
    const space = td.space.stateOf(BigInt(page) * 4096n).vtl0
    log.check(
      'acknowledged protection changes are in the GPA space',
      space === flagsForVersion(version),
      () => {
        return `VP ${vp.vp}: acknowledged ${version}, GPA space flags ${String(space)}`
      }
    )
  }
  log.check(
    'EnableVpVtl wins sum to the enabled VPs',
    c.Vtl0EnableSuccess + c.Vtl1EnableSuccess === enabled,
    () => {
      return `${c.Vtl0EnableSuccess} + ${c.Vtl1EnableSuccess} wins, ${enabled} enabled`
    }
  )
  const hostVp = td.hypervisor.counts.get('EnableVpVtl') ?? 0
  log.check(
    'the host heard each VP enable once',
    hostVp === enabled,
    () => `host ${hostVp}, enabled ${enabled}`
  )
  log.check(
    'EnabledOnAnyVp matches the VPs',
    (shared.partitionField(PartitionField.EnabledOnAnyVp) === 1) === enabled > 0
  )
  log.check(
    'VPs enabled only in an Enabled partition',
    enabled === 0 || shared.partitionField(PartitionField.GuestVsmState) === GuestVsmState.Enabled
  )
  checkMemoryMap(td, log)
  log.tally('guest steps', run.steps)
  log.tally('host requests', run.hostRequests)
  log.tally('protection changes', c.ProtectSuccess)
  log.tally(
    'racing enables',
    c.Vtl0EnableSuccess + c.Vtl0EnableDenied + c.Vtl1EnableSuccess + c.Vtl1EnableAlready
  )
}

export interface ConcurrencyOptions {
  /** Called on each finished round before the checks (tests plant violations through it). */
  tamper?: (run: ParallelRunResult) => void
}

/**
 * `concurrency`: rounds of the parallel simulator (VPs on worker threads over one
 * SharedArrayBuffer engine state, the host owner on the main thread) with many VPs racing
 * enables, starts, VTL switches and protection changes, for a fixed time; each round's geometry
 * and mix come from its seed, and the sim issue's invariants must hold at the end of every round.
 */
export function createConcurrencyCampaign(options: ConcurrencyOptions = {}): Campaign {
  return {
    name: 'concurrency',
    unit: 'parallel round',
    defaultRuns: Number.POSITIVE_INFINITY,
    defaultBudgetSeconds: 120,
    async run(seed: number, log: InvariantLog): Promise<number> {
      const run = await runParallel(roundOptions(seed))
      options.tamper?.(run)
      checkRound(run, log)
      return 1
    },
  }
}
