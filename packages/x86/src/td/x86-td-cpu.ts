import { Rflags, VmcsField, endOfInterrupt, type GuestVtl, type L2VmIndex } from '@vtl/core'
import type { L2Cpu, L2Progress, SimTd, VpEnterExit } from '@vtl/sim'
import { eventFromEntryInterruptInfo } from '../cpu/entry-interrupt-info.js'
import {
  PageAccess,
  accessFromGpaAttr,
  type PagePermissionSource,
} from '../cpu/page-permissions.js'
import type { X86Event } from '../cpu/x86-exit.js'
import { X86Backing } from '../backing/x86-backing.js'

/**
 * The L2 VMs of a software TD as real x86-64 CPUs (`SimTd.l2Cpu`): TDG.VP.ENTER into VM #1/#2
 * runs VTL0/VTL1 of the VP on Unicorn over the TD's guest RAM, from and back into the engine's
 * register banks (shared GPRs, per-VTL RIP/RSP/RFLAGS/CRs/segments: VMCS #1/#2, §6.4). Page
 * permissions are the Secure EPT's GPA_ATTR of the VTL's L2 VM (re-read only after the module's
 * Secure EPT changed); an event the paravisor injected (VM-entry interruption information and
 * error code on that VMCS) is delivered through the guest's IDT as the entry starts, and so is
 * an interrupt the entry preparation accepted (the guest ends it with an x2APIC EOI, MSR 0x80B).
 */
export class X86TdCpu implements L2Cpu {
  /** The CPU layer (contexts per VP and VTL, debug ports, budgets). */
  readonly backing: X86Backing
  private readonly td: SimTd
  private event: X86Event | undefined
  /**
   * Per VP and VTL, the vectors the entry preparation accepted that the guest has not taken yet,
   * in acceptance order: each was accepted above every vector then in service, so the last is
   * the one to deliver first.
   */
  private readonly accepted = new Map<string, number[]>()

  constructor(td: SimTd, ram: Uint8Array) {
    this.td = td
    this.backing = new X86Backing({
      ram,
      banks: {
        shared: (vp) => td.engine.vp(vp).shared,
        private: (vp, vtl) => td.engine.vp(vp).vtls[vtl].registers,
      },
      permissions: secureEptPermissions(td),
      entryEvent: () => {
        const event = this.event
        this.event = undefined
        return event
      },
      wrmsr: (vp, vtl, msr) => {
        if (msr !== X2APIC_EOI) return false
        endOfInterrupt(td.engine, vp, vtl)
        return true
      },
    })
  }

  enter(vp: number, vtl: GuestVtl, entryEvent: bigint | undefined): VpEnterExit {
    if (entryEvent !== undefined) {
      const vm = (vtl + 1) as L2VmIndex
      const errorCode = this.td.module.vmcsRead(vp, vm, VmcsField.ENTRY_EXCEPTION_ERROR_CODE) ?? 0n
      this.event = eventFromEntryInterruptInfo(Number(entryEvent & 0xffff_ffffn), Number(errorCode))
    }
    if (this.event === undefined) {
      const vector = this.nextAccepted(vp, vtl)
      if (vector !== undefined) this.event = { vector }
    }
    const exit = this.backing.enter(vp, vtl)
    return {
      exitReason: exit.reason,
      exitQualification: exit.qualification,
      gpa: exit.gpa,
      gla: exit.gla,
      instructionInfo: BigInt(exit.instructionLength) << 32n,
      cpl: exit.cpl,
    }
  }

  /**
   * The accepted vector the guest takes at this entry: an NMI first, whatever RFLAGS.IF; else the
   * last accepted, only when it is the highest vector in service (a higher one's handler has not
   * ended with its EOI) and the guest's RFLAGS.IF is set. The others stay queued. A vector retired
   * before the guest took it (an EOI on the paravisor's side) is dropped.
   */
  private nextAccepted(vp: number, vtl: GuestVtl): number | undefined {
    const queued = this.accepted.get(`${vp}:${vtl}`)
    if (queued === undefined || queued.length === 0) return undefined
    const nmi = queued.indexOf(NMI_VECTOR)
    if (nmi >= 0) {
      queued.splice(nmi, 1)
      return NMI_VECTOR
    }
    const state = this.td.engine.vp(vp).vtls[vtl]
    const inService = state.apic.highestInService()
    while (queued.length > 0 && (queued.at(-1) ?? -1) > inService) queued.pop()
    if (queued.at(-1) !== inService || (state.registers.rflags & Rflags.IF) === 0n) return undefined
    return queued.pop()
  }

  interruptAccepted(vp: number, vtl: GuestVtl, vector: number): void {
    const key = `${vp}:${vtl}`
    const queued = this.accepted.get(key)
    if (queued === undefined) this.accepted.set(key, [vector])
    else queued.push(vector)
  }

  xmm(vp: number): readonly bigint[] {
    return this.backing.xmm(vp)
  }

  startRun(vp: number, maxInstructions: number): void {
    this.backing.setBudget(vp, maxInstructions)
    this.backing.ports(vp).exitCode = undefined
  }

  progress(vp: number): L2Progress {
    const ports = this.backing.ports(vp)
    return {
      console: ports.console,
      instructions: this.backing.vp(vp).retired,
      exitCode: ports.exitCode,
      budgetSpent: this.backing.budgetSpent(vp),
    }
  }

  close(): void {
    this.backing.close()
  }
}

/** The NMI's vector: never in service, taken at the next entry whatever RFLAGS.IF. */
const NMI_VECTOR = 2

/** The x2APIC EOI register (MSR 0x80B): a write retires the highest in-service vector. */
const X2APIC_EOI = 0x80b

/**
 * A VTL's access to a page as its L2 VM's Secure EPT entry grants it: nothing outside RAM or on a
 * page not accepted, else GPA_ATTR's R/W/KX (VM #1 = VTL0, VM #2 = VTL1).
 */
function secureEptPermissions(td: SimTd): PagePermissionSource {
  const pages = Number(td.memoryBytes / 4096n)
  return {
    access: (vtl, gpn) => {
      if (gpn >= pages) return PageAccess.NONE
      const attr = td.module.pageAttr(gpn)
      if (!attr.accepted) return PageAccess.NONE
      return accessFromGpaAttr(vtl === 0 ? attr.vm1 : attr.vm2)
    },
    version: () => td.module.ept.version,
  }
}
