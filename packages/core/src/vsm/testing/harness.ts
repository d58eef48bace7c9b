// Test-only fakes and builders for the engine tests (not exported from any barrel).
import { decodeHypercallControl, encodeHypercallControl } from '../../hv/control.js'
import type { HypercallControl } from '../../hv/control.js'
import {
  longModeInitialVpContextX64,
  type InitialVpContextX64,
} from '../../hv/initial-vp-context.js'
import { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF } from '../../hv/hypercall-code.js'
import { HvStatus } from '../../hv/status.js'
import type { GuestVtl } from '../../hv/vtl.js'
import { VsmEngine, type VsmEngineOptions } from '../engine.js'
import { enablePartitionVtl } from '../handlers/enable-partition-vtl.js'
import { enableVpVtl } from '../handlers/enable-vp-vtl.js'
import { vtlCall } from '../handlers/vtl-switch.js'
import { handleWake } from '../wake.js'
import type { HypervisorCallResult, HypervisorPort, InjectedException, VpPort } from '../ports.js'
import type { ProtectionPort, RepOutcome } from '../protection-port.js'
import type { VtlRegisterWrite } from '../registers.js'

export interface HostCall {
  control: bigint
  code: number
  input: Uint8Array
}

/** Records what the hypervisor was told; answers Success unless `answer` says otherwise. */
export class RecordingHypervisor implements HypervisorPort {
  readonly calls: HostCall[] = []
  answer: (code: number, input: Uint8Array) => HvStatus = () => HvStatus.Success

  hypercall(control: bigint, input: Uint8Array): HypervisorCallResult {
    const code = decodeHypercallControl(control).code
    this.calls.push({ control, code, input: input.slice() })
    return { result: BigInt(this.answer(code, input)) }
  }
}

export class RecordingVpPort implements VpPort {
  readonly writes: { vp: number; vtl: GuestVtl; registers: VtlRegisterWrite }[] = []
  readonly wakes: number[] = []
  readonly exceptions: { vp: number; vtl: GuestVtl; exception: InjectedException }[] = []
  writeStatus: HvStatus = HvStatus.Success

  writeVtlRegisters(vp: number, vtl: GuestVtl, registers: VtlRegisterWrite): HvStatus {
    if (this.writeStatus !== HvStatus.Success) return this.writeStatus
    this.writes.push({ vp, vtl, registers })
    return HvStatus.Success
  }
  wakeVp(vp: number): void {
    this.wakes.push(vp)
  }
  injectException(vp: number, vtl: GuestVtl, exception: InjectedException): void {
    this.exceptions.push({ vp, vtl, exception })
  }
}

/** A ProtectionPort whose answers tests set; it records every call. */
export class FakeProtection implements ProtectionPort {
  readonly calls: string[] = []
  defaultStatus: HvStatus = HvStatus.Success
  vtlStatus: HvStatus = HvStatus.Success
  /** Pages the port refuses to share (AccessDenied at that index). */
  readonly unshareable = new Set<bigint>()
  readonly shared = new Set<bigint>()
  /** Pages that are not RAM (the query answers OperationDenied at the first). */
  readonly notRam = new Set<bigint>()
  /** A visibility change stops before this page with Timeout (the host asks for a retry). */
  timeoutAt: bigint | undefined

  changeDefaultVtlProtections(vtl: GuestVtl, flags: number): HvStatus {
    this.calls.push(`default vtl${vtl} 0x${flags.toString(16)}`)
    return this.defaultStatus
  }
  changeVtlProtections(vtl: GuestVtl, gpns: readonly bigint[], flags: number): HvStatus {
    this.calls.push(`protect vtl${vtl} 0x${flags.toString(16)} [${gpns.join(',')}]`)
    return this.vtlStatus
  }
  changeHostVisibility(callerVtl: GuestVtl, gpns: readonly bigint[], shared: boolean): RepOutcome {
    this.calls.push(
      `visibility vtl${callerVtl} ${shared ? 'shared' : 'private'} [${gpns.join(',')}]`
    )
    for (let i = 0; i < gpns.length; i++) {
      const gpn = gpns[i] as bigint
      if (gpn === this.timeoutAt) return { status: HvStatus.Timeout, processed: i }
      if (shared && this.unshareable.has(gpn))
        return { status: HvStatus.AccessDenied, processed: i }
      if (shared) this.shared.add(gpn)
      else this.shared.delete(gpn)
    }
    return { status: HvStatus.Success, processed: gpns.length }
  }
  queryHostVisibility(gpns: readonly bigint[]): { status: HvStatus; shared: boolean[] } {
    const bad = gpns.findIndex((gpn) => this.notRam.has(gpn))
    const answered = bad < 0 ? gpns : gpns.slice(0, bad)
    const shared = answered.map((gpn) => this.shared.has(gpn))
    return { status: bad < 0 ? HvStatus.Success : HvStatus.OperationDenied, shared }
  }
}

/** A context TDX accepts (core's long-mode example), with `overrides` applied. */
export function validContext(overrides: Partial<InitialVpContextX64> = {}): InitialVpContextX64 {
  return longModeInitialVpContextX64(overrides)
}

export interface Harness {
  engine: VsmEngine
  hv: RecordingHypervisor
  vpPort: RecordingVpPort
  protection: FakeProtection
}

export function makeEngine(
  vpCount = 2,
  options: Omit<VsmEngineOptions, 'vpCount' | 'ports'> = {}
): Harness {
  const hv = new RecordingHypervisor()
  const vpPort = new RecordingVpPort()
  const protection = new FakeProtection()
  const engine = new VsmEngine({
    vpCount,
    ports: { hypervisor: hv, vp: vpPort, protection },
    ...options,
  })
  return { engine, hv, vpPort, protection }
}

/** A control word; fields default to a simple memory call. */
export function control(code: number, fields: Partial<HypercallControl> = {}): bigint {
  return encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: 0,
    nested: false,
    repCount: 0,
    repStart: 0,
    ...fields,
  })
}

/** The BSP (VP 0, in VTL0) enables VTL1 on the partition and on itself and handles its wake. */
export function bringUpBsp(h: Harness, mbec = false): void {
  const { engine } = h
  const flags = { enableMbec: mbec, enableSupervisorShadowStack: false, enableHardwareHvpt: false }
  const partition = enablePartitionVtl(engine, {
    partitionId: HV_PARTITION_ID_SELF,
    targetVtl: 1,
    flags: { ...flags, raw: mbec ? 1 : 0 },
  })
  if (partition !== HvStatus.Success) throw new Error(`EnablePartitionVtl: ${partition}`)
  const vp = enableVpVtl(engine, 0, {
    partitionId: HV_PARTITION_ID_SELF,
    vpIndex: HV_VP_INDEX_SELF,
    targetVtl: 1,
    context: validContext({ rip: 0x1_0000n }),
  })
  if (vp !== HvStatus.Success) throw new Error(`EnableVpVtl: ${vp}`)
  handleWake(engine, 0)
}

/** bringUpBsp, then VP 0 enters VTL1 with a VtlCall. */
export function enterVtl1(h: Harness, vp = 0): void {
  h.engine.vp(vp).shared.rax = 0n
  if (!vtlCall(h.engine, vp, 0x11n, 0n)) throw new Error('VtlCall refused')
}

/** A protection port that locks overlay pages, refusing the GPNs in `refused`. */
export class OverlayProtection extends FakeProtection {
  readonly refused = new Set<bigint>()
  registerOverlay(vtl: GuestVtl, gpn: bigint, options: { check?: number; perms?: number }) {
    this.calls.push(`overlay vtl${vtl} ${gpn} check ${options.check} perms ${options.perms}`)
    return { status: this.refused.has(gpn) ? HvStatus.OperationDenied : HvStatus.Success }
  }
  unregisterOverlay(vtl: GuestVtl, gpn: bigint) {
    this.calls.push(`unoverlay vtl${vtl} ${gpn}`)
    return { status: HvStatus.Success }
  }
}

/** A 1-VP engine with an `OverlayProtection` and, unless told otherwise, 512 KiB of guest RAM. */
export function overlayTestbed(withMemory = true) {
  const ram = new Uint8Array(0x80 * 4096)
  const protection = new OverlayProtection()
  const engine = new VsmEngine({
    vpCount: 1,
    ports: {
      hypervisor: new RecordingHypervisor(),
      vp: new RecordingVpPort(),
      protection,
      ...(withMemory
        ? {
            guestMemory: {
              read: (gpa: bigint, length: number) => ram.slice(Number(gpa), Number(gpa) + length),
              write: (gpa: bigint, bytes: Uint8Array) => {
                ram.set(bytes, Number(gpa))
                return true
              },
            },
          }
        : {}),
    },
  })
  const vp = engine.vp(0)
  const page = (gpn: number) => ram.subarray(gpn * 4096, (gpn + 1) * 4096)
  return { engine, vp, protection, ram, page }
}
