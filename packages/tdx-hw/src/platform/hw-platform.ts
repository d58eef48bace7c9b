import { availableParallelism } from 'node:os'
import type { HypervisorPort, TdcallOutput, VpPort } from '@vtl/core'
import type { PlanSink } from '@vtl/memory'
import { defaultAllowedHypercalls } from '../devices/allow-bitmap.js'
import { Cleanup } from '../devices/device-fd.js'
import { HvcallDevice, MSHV_HVCALL_PATH } from '../devices/hvcall-device.js'
import { MSHV_PATH, MshvDevice } from '../devices/mshv-device.js'
import type { TdcallRequest, Vtl0MemoryRange, VtlFd } from '../devices/vtl-fd.js'
import { Errno } from '../sys/errno.js'
import { IoctlError } from '../sys/syscall-error.js'
import type { Syscalls } from '../sys/syscalls.js'
import { MshvCapability, type MshvCapabilityName } from '../uapi/mshv-requests.js'
import { HwHypervisorPort } from './hypervisor-port.js'
import { HwPlanSink } from './plan-sink.js'
import { HwVpPort } from './vp-port.js'
import { VpRunner, type VpRunnerOptions } from './vp-runner.js'
import { HwVpState, checkVp } from './vp-state.js'

export interface HwPlatformOptions {
  sys: Syscalls
  /** VPs of the partition (= CPUs of the paravisor). Default: this host's CPUs. */
  cpuCount?: number
  /** VTL0 RAM handed to the kernel with ADD_VTL0_MEMORY. */
  vtl0Memory?: readonly Vtl0MemoryRange[]
  /** TDX/SNP (default true): adds EnablePartitionVtl, EnableVpVtl, RetargetDeviceInterrupt. */
  hardwareIsolated?: boolean
  /** Exactly the hypercalls to allow; default OpenHCL's list (abi.md §1.8). */
  allowedHypercalls?: readonly number[]
  mshvPath?: string
  hvcallPath?: string
}

/**
 * core's ports on the real kernel interface: `/dev/mshv` → VTL fd (TDCALL pass-through, run
 * pages, run ioctl), `/dev/mshv_hvcall` (hypercalls to the host), plus a plan sink for
 * `@vtl/memory`. Everything opened is released by `close`, or at once if opening fails.
 */
export class HwPlatform {
  readonly sys: Syscalls
  readonly cpuCount: number
  readonly mshv: MshvDevice
  readonly vtl: VtlFd
  readonly hvcall: HvcallDevice
  /** MSHV_CHECK_EXTENSION answers; an extension the kernel does not know is absent. */
  readonly capabilities: Partial<Record<MshvCapabilityName, number>>
  readonly hypervisor: HypervisorPort
  readonly vp: VpPort
  readonly planSink: PlanSink
  private readonly states = new Map<number, HwVpState>()
  private readonly runners = new Map<number, VpRunner>()
  private readonly release: Cleanup

  private constructor(
    sys: Syscalls,
    cpuCount: number,
    devices: {
      mshv: MshvDevice
      vtl: VtlFd
      hvcall: HvcallDevice
      capabilities: Partial<Record<MshvCapabilityName, number>>
    },
    release: Cleanup
  ) {
    this.sys = sys
    this.cpuCount = cpuCount
    this.mshv = devices.mshv
    this.vtl = devices.vtl
    this.hvcall = devices.hvcall
    this.capabilities = devices.capabilities
    this.release = release
    this.hypervisor = new HwHypervisorPort(this.hvcall)
    this.planSink = new HwPlanSink(this.vtl, this.hvcall)
    this.vp = new HwVpPort({
      cpuCount,
      vpState: (vp) => this.vpState(vp),
      wake: (vp) => {
        this.wake(vp)
      },
    })
  }

  static async open(options: HwPlatformOptions): Promise<HwPlatform> {
    const { sys } = options
    const cpuCount = options.cpuCount ?? availableParallelism()
    const release = new Cleanup()
    try {
      const mshv = MshvDevice.open(sys, options.mshvPath ?? MSHV_PATH)
      release.add(() => {
        mshv.close()
      })
      const capabilities = readCapabilities(mshv)
      const vtl = mshv.createVtl({ cpuCount })
      release.add(() => {
        vtl.close()
      })
      const hvcall = HvcallDevice.open(sys, options.hvcallPath ?? MSHV_HVCALL_PATH)
      release.add(() => {
        hvcall.close()
      })
      const isolated = options.hardwareIsolated ?? true
      hvcall.setup(
        options.allowedHypercalls ?? defaultAllowedHypercalls({ hardwareIsolated: isolated })
      )
      for (const range of options.vtl0Memory ?? []) vtl.addVtl0Memory(range)
      return new HwPlatform(sys, cpuCount, { mshv, vtl, hvcall, capabilities }, release)
    } catch (error) {
      await release.run()
      throw error
    }
  }

  vpState(vp: number): HwVpState {
    checkVp(vp, this.cpuCount)
    let state = this.states.get(vp)
    if (state === undefined) {
      state = new HwVpState(vp)
      this.states.set(vp, state)
    }
    return state
  }

  /** A TD-wide TDCALL from the calling thread (ACCEPT, ATTR.WR, VM.RD, SYS.RD …). */
  tdcall(input: TdcallRequest): TdcallOutput {
    return this.vtl.tdcall(input)
  }

  /** The run loop of VP `vp` (one per VP; created on first use). */
  async runner(vp: number, options: VpRunnerOptions = {}): Promise<VpRunner> {
    const existing = this.runners.get(vp)
    if (existing !== undefined) return existing
    const runner = await VpRunner.create(this.sys, this.vtl, this.vpState(vp), options)
    this.runners.set(vp, runner)
    return runner
  }

  /** Cancels VP `vp`'s run: its poll eventfd if it has a runner, else KICK_CPU. */
  wake(vp: number): void {
    checkVp(vp, this.cpuCount)
    const runner = this.runners.get(vp)
    if (runner !== undefined) runner.wake()
    else this.vtl.kickCpus([vp], { cancelRun: true })
  }

  async close(): Promise<void> {
    for (const runner of this.runners.values()) await runner.close()
    this.runners.clear()
    await this.release.run()
  }
}

/** The extensions openvmm checks first (abi.md §1.8 step 1); EOPNOTSUPP means "not there". */
function readCapabilities(mshv: MshvDevice): Partial<Record<MshvCapabilityName, number>> {
  const out: Partial<Record<MshvCapabilityName, number>> = {}
  for (const name of Object.keys(MshvCapability) as MshvCapabilityName[]) {
    try {
      out[name] = mshv.checkExtension(name)
    } catch (error) {
      if (!(IoctlError.isInstance(error) && error.errno === Errno.EOPNOTSUPP)) throw error
    }
  }
  return out
}
