// A worker thread of the parallel runner: its own VsmEngine over the shared state, for the VPs
// a contiguous block of VPs (`ownedVps`). Loaded through boot.mjs (TypeScript via tsx).
import { parentPort } from 'node:worker_threads'
import { HvStatus, VsmEngine, type GuestVtl, type VpPort, type VtlRegisterWrite } from '@vtl/core'
import { AtomicSharedVsmState } from './atomic-shared-state.js'
import { HostClient } from './host-channel.js'
import { RunControl } from './run-control.js'
import { ownedVps, workerOf, type WorkerInput, type WorkerResult } from './runner.js'
import { VpDriver } from './workload.js'

/**
 * Step every owned VP until each ran `stepsPerVp` guest steps. A VP that is not started idles;
 * when all the worker's remaining VPs idle it sleeps until kicked, and gives up on them once every
 * other worker has finished (nobody is left to start them). A VP that was started and still waits
 * for SIPI in VTL0 is done: it was started into VTL1, returned to a VTL0 that never started, and
 * no StartVp can succeed again (`started` is once-only; the workload sends no INIT/SIPI). Without
 * that, workers that all hold such VPs waited for each other forever (campaign concurrency, seed 27).
 */
function steps(
  input: WorkerInput,
  control: RunControl,
  driver: VpDriver,
  engine: VsmEngine,
  mine: number[]
): void {
  const goal = input.workload.stepsPerVp
  const done = new Map(mine.map((vp) => [vp, 0]))
  let remaining = goal > 0 ? mine.length : 0
  while (remaining > 0) {
    const kicks = control.kicks(input.index)
    let ran = false
    for (const vp of mine) {
      const count = done.get(vp) ?? goal
      if (count >= goal) continue
      // Read before the step's entry: a start win is counted after its context was queued, so
      // the entry below has applied it.
      const started = control.startWins(vp) > 0
      if (!driver.step(vp)) {
        const state = engine.vp(vp)
        if (started && state.exitVtl === 0 && state.vtls[0].apic.activity === 'wait-for-sipi') {
          done.set(vp, goal)
          remaining--
        }
        continue
      }
      ran = true
      done.set(vp, count + 1)
      if (count + 1 === goal) remaining--
    }
    if (ran) continue
    if (control.opsDone() >= input.workers - 1) break
    control.waitKick(input.index, kicks, 5)
  }
}

function run(input: WorkerInput): WorkerResult {
  const shared = new AtomicSharedVsmState(input.vpCount, input.stateBuffer)
  const host = new HostClient(input.channelBuffer)
  const control = new RunControl(input.vpCount, input.controlBuffer)
  // The VpPort needs the driver, which needs the engine, which needs the VpPort.
  const box: { driver?: VpDriver } = {}
  const exceptions: string[] = []
  const vpPort: VpPort = {
    writeVtlRegisters(vp: number, vtl: GuestVtl, registers: VtlRegisterWrite): HvStatus {
      box.driver?.registersWritten(vp, vtl, registers.rip)
      return HvStatus.Success
    },
    // The target's worker steps it in turn; the kick only ends an idle wait there.
    wakeVp(vp: number): void {
      control.kick(workerOf(vp, input.workers, input.vpCount))
    },
    injectException(vp: number, vtl: GuestVtl, exception): void {
      exceptions.push(`VP ${vp} VTL${vtl}: exception ${exception.vector}`)
    },
  }
  const engine = new VsmEngine({
    vpCount: input.vpCount,
    ports: { hypervisor: host, vp: vpPort, protection: host },
    shared,
    initializeShared: false,
  })
  const driver = new VpDriver(engine, host, control, input.workload)
  box.driver = driver
  const mine = ownedVps(input.index, input.workers, input.vpCount)
  if (input.workload.allRunning === true) {
    for (const vp of mine) engine.vp(vp).vtls[0].apic.activity = 'running'
  }

  parentPort?.postMessage({ kind: 'ready' })
  control.waitForStart()
  try {
    steps(input, control, driver, engine, mine)
  } finally {
    control.finished()
    control.arriveOpsDone()
    host.kickOwner()
  }
  control.waitOpsDone(input.workers)
  const vps = mine.map((vp) => driver.finish(vp))
  driver.flushCounters()
  control.arriveFinalDone()
  return {
    kind: 'result',
    index: input.index,
    vps,
    violations: [...driver.violations, ...exceptions],
    hostCalls: host.calls,
  }
}

// One run per message: the thread (and its JIT state) stays for the runner's next run.
parentPort?.on('message', (input: WorkerInput) => {
  try {
    parentPort?.postMessage(run(input))
  } catch (error) {
    parentPort?.postMessage({
      kind: 'error',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    })
  }
})
