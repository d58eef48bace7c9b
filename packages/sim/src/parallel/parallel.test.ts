import { PartitionField, PlainSharedVsmState } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { runParallel, type ParallelRunResult } from './runner.js'
import { flagsForVersion, protectionPage } from './workload.js'

/** Every check of the issue, on a finished run. */
function checkRun(run: ParallelRunResult): void {
  const { counters: c, shared, control, channel, td } = run
  expect(run.violations).toEqual([])
  // Exactly one EnablePartitionVtl and one first VTL0 EnableVpVtl win; every other VTL0 enable
  // was AccessDenied (anything else is a violation above).
  expect(c.PartitionEnableSuccess).toBe(1)
  expect(c.Vtl0EnableSuccess).toBe(1)
  expect(c.Vtl0EnableDenied).toBeGreaterThan(0)
  expect(shared.partitionField(PartitionField.EnabledOnAnyVp)).toBe(1)
  expect(td.hypervisor.counts.get('EnablePartitionVtl')).toBe(1)

  let enabled = 0
  for (const vp of run.vps) {
    const wins = control.enableWins(vp.vp)
    const called = shared.vtl1EnableCalled(vp.vp)
    // One successful EnableVpVtl per enabled VP, none for the others.
    expect(wins, `VP ${vp.vp} enable wins`).toBe(called ? 1 : 0)
    if (called) enabled++
    // No VP is Active without its enable (its context is checked in the worker); an enabled VP
    // is Active unless a StartVp(VTL1) overwrote its pending EnableVpVtl context (§13.8).
    if (vp.active) expect(called, `VP ${vp.vp} Active without enable`).toBe(true)
    if (called && !vp.active) expect(vp.vtl1StartedInactive, `VP ${vp.vp}`).toBe(true)
    // started: once per VP, by the CAS.
    const starts = control.startWins(vp.vp)
    expect(starts).toBeLessThanOrEqual(1)
    expect(shared.started(vp.vp)).toBe(vp.vp === 0 || starts === 1)
    // Every acknowledged protection change is in the snapshot and in the GPA space.
    const version = control.acknowledged(vp.vp)
    const page = protectionPage(vp.vp)
    expect(channel.permission(0, page)).toEqual({ version, flags: flagsForVersion(version) })
    expect(td.space.stateOf(BigInt(page) * 4096n).vtl0).toBe(flagsForVersion(version))
  }
  expect(c.Vtl0EnableSuccess + c.Vtl1EnableSuccess).toBe(enabled)
  expect(td.hypervisor.counts.get('EnableVpVtl')).toBe(enabled)
  // The plain layout over the same buffer agrees (post-mortem tools can read it).
  const plain = new PlainSharedVsmState(shared.vpCount, shared.buffer)
  expect(plain.partitionField(PartitionField.GuestVsmState)).toBe(
    shared.partitionField(PartitionField.GuestVsmState)
  )
}

describe('parallel mode', () => {
  it('thousands of racing enables, starts, VTL calls and protection changes on 3 workers', async () => {
    const run = await runParallel({
      vps: 12,
      workers: 3,
      workload: { stepsPerVp: 400, seed: 7 },
    })
    checkRun(run)
    const c = run.counters
    const racing =
      c.Vtl0EnableSuccess +
      c.Vtl0EnableDenied +
      c.Vtl1EnableSuccess +
      c.Vtl1EnableAlready +
      c.StartSuccess +
      c.StartRefused +
      c.VtlCalls +
      c.ProtectSuccess
    expect(racing).toBeGreaterThan(2000)
    expect(c.ProtectSuccess).toBeGreaterThan(200)
    expect(c.Accesses).toBeGreaterThan(c.ProtectSuccess)
    // Every AP got started exactly once (VP 0 runs from creation).
    expect(c.StartSuccess).toBe(11)
  }, 60_000)

  it('all VPs running from the start, 2 workers reused after a warm-up run on another TD', async () => {
    const run = await runParallel({
      vps: 8,
      workers: 2,
      warmupRuns: 1,
      workload: { stepsPerVp: 300, seed: 11, allRunning: true, protectShare: 0.5 },
    })
    checkRun(run)
    expect(run.steps).toBe(8 * 300)
  }, 60_000)

  it('refuses a worker count or a workload mix it cannot use', async () => {
    await expect(
      runParallel({ vps: 2, workers: 3, workload: { stepsPerVp: 1, seed: 0 } })
    ).rejects.toThrow(/workers/)
    await expect(
      runParallel({
        vps: 2,
        workers: 1,
        workload: { stepsPerVp: 1, seed: 0, protectShare: 0.6, crossShare: 0.6 },
      })
    ).rejects.toThrow(/protectShare/)
  })
})
