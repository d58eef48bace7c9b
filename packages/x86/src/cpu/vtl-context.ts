import { GPR_NAMES, Rflags, VtlError, type GuestVtl } from '@vtl/core'
import { UcMemType, UcProt, X86Reg } from '../unicorn/constants.js'
import { UnicornEngine, type UcMemFault } from '../unicorn/unicorn-engine.js'
import { UnicornError, ucErrName } from '../unicorn/unicorn-error.js'
import { decodeTrap, MAY_TRAP, type TrapInstruction } from './decode.js'
import { deliverEvent, type DeliveryCpu, type LinearAccess } from './idt-delivery.js'
import { PageAccess, type PagePermissionSource } from './page-permissions.js'
import { walkPageTables, type AccessKind } from './page-walk.js'
import { GPR_IDS, SHARED_GPRS_64, SHARED_SSE_CONTROL, SHARED_XMM, type Gprs } from './registers.js'
import type { X86Event, X86Exit } from './x86-exit.js'

const PAGE = 4096
const MSR_EFER = 0xc000_0080
/** EFER bits this CPU model cannot hold (no SYSCALL/NX in its CPUID): kept in a shadow. */
const EFER_SHADOWED = 0x001n | 0x800n // SCE | NXE
const CR0_PG = 1n << 31n
const CR0_WP = 1n << 16n
/** INT3, INT n, INT1: their exception is the instruction's own (no error code, RIP past it). */
const SOFTWARE_INTERRUPTS = new Set([0xcc, 0xcd, 0xf1])
const NEED: Record<AccessKind, number> = {
  read: PageAccess.READ,
  write: PageAccess.WRITE,
  execute: PageAccess.EXECUTE,
}
const FAULT_ACCESS: Record<number, AccessKind> = {
  [UcMemType.READ_UNMAPPED]: 'read',
  [UcMemType.READ_PROT]: 'read',
  [UcMemType.WRITE_UNMAPPED]: 'write',
  [UcMemType.WRITE_PROT]: 'write',
  [UcMemType.FETCH_UNMAPPED]: 'execute',
  [UcMemType.FETCH_PROT]: 'execute',
}

function isCanonical(linear: bigint): boolean {
  const top = linear >> 47n
  return top === 0n || top === 0x1_ffffn
}

export interface VtlContextOptions {
  vtl: GuestVtl
  /** The TD's guest RAM (GPA 0 up), shared by every context; a multiple of 4 KiB. */
  ram: Uint8Array
  /** Per-page R/W/X for this VTL; everything allowed when absent. */
  permissions?: PagePermissionSource
}

export interface EnterResult {
  exit: X86Exit
  /** Instructions the guest executed during this entry. */
  instructions: number
}

type PendingTrap = TrapInstruction & { address: number }

/**
 * The execution context of one VTL of one VP: a Unicorn engine over the TD's guest RAM with this
 * VTL's page permissions, holding the VTL's private register state (VMCS #1 for VTL0, #2 for
 * VTL1). `enter()` runs the guest until the next VM exit; exceptions and interrupts are delivered
 * through the guest's IDT on the way without exiting.
 */
export class VtlContext {
  readonly vtl: GuestVtl
  readonly ram: Uint8Array
  readonly engine: UnicornEngine
  /** Instructions executed since creation, including those a handler completed. */
  retired = 0
  private readonly permissions: PagePermissionSource | undefined
  private readonly applied: Uint8Array
  private appliedVersion = -1
  /**
   * The shared XMM values this context holds while another VTL runs (read when it was switched
   * away from, or copied in since); undefined: unknown. A switch writes only the ones that differ:
   * a register write costs Unicorn several times a read.
   */
  private readonly xmmHeld: (Uint8Array | undefined)[] = []
  private readonly tlb = new Map<number, number>()
  private paging = false
  private cr3 = 0n
  private eferShadow = 0n
  private count = 0
  private limit = 0
  private limitHit = false
  private trap: PendingTrap | undefined
  private interrupt: number | undefined
  private memFault: UcMemFault | undefined
  private lastAddress = Number.NaN
  private lastSize = 0
  private lastFirstByte = -1
  private passAt: number | undefined
  /** A MOV to CR3 at this address ran natively: re-read paging state at the next instruction. */
  private refreshAfter: number | undefined
  private pending: X86Event | undefined
  private readonly deliveryCpu: DeliveryCpu

  constructor(options: VtlContextOptions) {
    if (options.ram.byteLength === 0 || options.ram.byteLength % PAGE !== 0) {
      throw new VtlError(
        'E_UNALIGNED',
        `guest RAM of ${options.ram.byteLength} bytes is not whole pages`,
        {
          field: 'ram',
        }
      )
    }
    this.vtl = options.vtl
    this.ram = options.ram
    this.permissions = options.permissions
    this.applied = new Uint8Array(options.ram.byteLength / PAGE).fill(PageAccess.ALL)
    this.engine = new UnicornEngine()
    this.deliveryCpu = {
      engine: this.engine,
      ram: this.ram,
      linear: (address, access) => this.linear(address, access),
    }
    try {
      this.engine.mapPtr(0n, options.ram, UcProt.ALL)
      this.engine.addCodeHook(this.onInstruction)
      this.engine.addInterruptHook((vector) => {
        this.interrupt = vector
        this.engine.stop()
      })
      this.engine.addMemFaultHook((fault) => {
        this.memFault = fault
        return false
      })
      this.syncPermissions()
    } catch (e) {
      this.engine.close()
      throw e
    }
  }

  /**
   * Runs this VTL until a VM exit, at most `maxInstructions` instructions (then the exit is
   * `instruction-limit`). A pending event is delivered through the IDT first.
   */
  enter(maxInstructions: number): EnterResult {
    if (!Number.isSafeInteger(maxInstructions) || maxInstructions < 0) {
      throw new VtlError('E_FIELD_RANGE', `maxInstructions ${maxInstructions} is not a count`, {
        field: 'maxInstructions',
      })
    }
    this.syncPermissions()
    this.count = 0
    this.limit = maxInstructions
    this.refreshPaging()
    const event = this.pending
    this.pending = undefined
    const first = event === undefined ? undefined : deliverEvent(this.deliveryCpu, event)
    const exit = first ?? this.runUntilExit()
    this.retired += this.count
    return { exit, instructions: this.count }
  }

  /** Queues an event for delivery through the IDT at the next entry (VM-entry injection). */
  inject(event: X86Event): void {
    if (!Number.isInteger(event.vector) || event.vector < 0 || event.vector > 255) {
      throw new VtlError('E_FIELD_RANGE', `vector ${event.vector} is outside 0..255`, {
        field: 'vector',
      })
    }
    this.pending = event
  }

  get pendingEvent(): X86Event | undefined {
    return this.pending
  }

  interruptsEnabled(): boolean {
    return (this.engine.readReg(X86Reg.RFLAGS) & Rflags.IF) !== 0n
  }

  // --- completing exits -------------------------------------------------------------------

  /** Completes a trapping instruction the handler emulated: RIP moves past it. */
  skip(exit: Extract<X86Exit, { length: number }>): void {
    this.engine.writeReg(X86Reg.RIP, exit.rip + BigInt(exit.length))
    this.retired++
  }

  /** Completes IN with the value read: AL/AX keep the rest of RAX, EAX zero-extends. */
  completeIn(exit: Extract<X86Exit, { kind: 'io' }>, value: number): void {
    const rax = this.engine.readReg(X86Reg.RAX)
    const next =
      exit.size === 4
        ? BigInt(value >>> 0)
        : (rax & ~BigInt(exit.size === 1 ? 0xff : 0xffff)) |
          BigInt(value & (exit.size === 1 ? 0xff : 0xffff))
    this.engine.writeReg(X86Reg.RAX, next)
    this.skip(exit)
  }

  completeCpuid(
    exit: Extract<X86Exit, { kind: 'cpuid' }>,
    [eax, ebx, ecx, edx]: readonly [number, number, number, number]
  ): void {
    this.engine.writeRegs(
      [X86Reg.RAX, X86Reg.RBX, X86Reg.RCX, X86Reg.RDX],
      [eax, ebx, ecx, edx].map((v) => BigInt(v >>> 0))
    )
    this.skip(exit)
  }

  completeRdmsr(exit: Extract<X86Exit, { kind: 'rdmsr' }>, value: bigint): void {
    this.engine.writeRegs(
      [X86Reg.RAX, X86Reg.RDX],
      [value & 0xffff_ffffn, (value >> 32n) & 0xffff_ffffn]
    )
    this.skip(exit)
  }

  /**
   * Lets the CPU do what an unintercepted instruction does: CPUID executes natively on the next
   * entry; RDMSR/WRMSR go to the CPU's MSRs; a CR write is applied.
   */
  executeNatively(
    exit: Extract<X86Exit, { kind: 'cpuid' | 'rdmsr' | 'wrmsr' | 'cr-write' }>
  ): void {
    switch (exit.kind) {
      case 'cpuid':
        this.passAt = Number(BigInt.asIntN(64, exit.rip))
        return
      case 'rdmsr':
        this.completeRdmsr(exit, this.readMsr(exit.msr))
        return
      case 'wrmsr':
        this.writeMsr(exit.msr, exit.value)
        this.skip(exit)
        return
      case 'cr-write':
        this.tlb.clear()
        this.engine.writeReg(exit.cr === 0 ? X86Reg.CR0 : X86Reg.CR4, exit.value)
        this.skip(exit)
        return
    }
  }

  // --- registers ------------------------------------------------------------------------------

  readGprs(): Gprs {
    const values = this.engine.readRegs(GPR_NAMES.map((n) => GPR_IDS[n]))
    return Object.fromEntries(GPR_NAMES.map((n, i) => [n, values[i] ?? 0n])) as Gprs
  }

  writeGprs(values: Partial<Gprs>): void {
    const names = GPR_NAMES.filter((n) => values[n] !== undefined)
    this.engine.writeRegs(
      names.map((n) => GPR_IDS[n]),
      names.map((n) => values[n] ?? 0n)
    )
  }

  readRip(): bigint {
    return this.engine.readReg(X86Reg.RIP)
  }

  writeRip(rip: bigint): void {
    this.engine.writeReg(X86Reg.RIP, rip)
  }

  /** XMM0–XMM15 (16 bytes each): fast hypercall input and output. */
  readXmm(index: number): Uint8Array {
    return this.engine.readWide(X86Reg.XMM0 + this.xmmIndex(index), 16)
  }

  writeXmm(index: number, bytes: Uint8Array): void {
    const at = this.xmmIndex(index)
    this.engine.writeWide(X86Reg.XMM0 + at, bytes)
    this.xmmHeld[at] = undefined
  }

  /** An MSR as the guest sees it (EFER with the bits this CPU model cannot hold). */
  readMsr(index: number): bigint {
    const value = this.engine.readMsr(index)
    return index === MSR_EFER ? value | this.eferShadow : value
  }

  writeMsr(index: number, value: bigint): void {
    if (index === MSR_EFER) this.eferShadow = value & EFER_SHADOWED
    this.engine.writeMsr(index, value)
  }

  /**
   * Copies the shared GPRs (all but RSP), CR2 and DR0–3 into `other`, writing only those that
   * differ there: a register write costs Unicorn several times a read.
   */
  copySharedGprsTo(other: VtlContext): void {
    copyChanged(this.engine, other.engine, SHARED_GPRS_64)
  }

  /**
   * Copies the shared SSE state (MXCSR, the x87 control word, XMM0–15) into `other`, writing only
   * what differs there.
   */
  copySharedSseTo(other: VtlContext): void {
    copyChanged(this.engine, other.engine, SHARED_SSE_CONTROL)
    SHARED_XMM.forEach((xmm, i) => {
      const value = this.engine.readWide(xmm, 16)
      this.xmmHeld[i] = value
      const held = other.xmmHeld[i]
      if (held === undefined || !sameBytes(held, value)) other.engine.writeWide(xmm, value)
      other.xmmHeld[i] = value
    })
  }

  /** Re-applies this VTL's page permissions when the source changed since the last time. */
  syncPermissions(): void {
    const source = this.permissions
    if (source === undefined) return
    const version = source.version()
    if (version === this.appliedVersion) return
    const pages = this.applied.length
    let gpn = 0
    while (gpn < pages) {
      const access = source.access(this.vtl, gpn) & PageAccess.ALL
      if (access === this.applied[gpn]) {
        gpn++
        continue
      }
      let end = gpn + 1
      while (
        end < pages &&
        (source.access(this.vtl, end) & PageAccess.ALL) === access &&
        this.applied[end] !== access
      ) {
        end++
      }
      this.engine.protect(BigInt(gpn * PAGE), (end - gpn) * PAGE, access)
      this.applied.fill(access, gpn, end)
      gpn = end
    }
    this.appliedVersion = version
  }

  close(): void {
    this.engine.close()
  }

  // --- the run loop ---------------------------------------------------------------------------

  private runUntilExit(): X86Exit {
    for (;;) {
      this.trap = undefined
      this.limitHit = false
      this.interrupt = undefined
      this.memFault = undefined
      // QEMU's exception-in-flight record survives every stop (see exception-state.ts).
      this.engine.resetExceptionState()
      const err = this.engine.start(this.engine.readReg(X86Reg.RIP))
      // Set by the hooks during start(): TypeScript cannot see that.
      if (this.limitHit as boolean) return { kind: 'instruction-limit', rip: this.readRip() }
      const trap = this.trap as PendingTrap | undefined
      if (trap !== undefined) {
        if (trap.kind === 'mov-to-cr' && trap.cr !== 0 && trap.cr !== 4) {
          // CR3/CR8 writes run natively; the cached paging state is re-read right after.
          this.passAt = trap.address
          this.refreshAfter = trap.address
          continue
        }
        return this.trapExit(trap)
      }
      const fault = this.memFault as UcMemFault | undefined
      if (fault !== undefined) {
        const exit = this.resolveMemFault(fault)
        if (exit !== undefined) return exit
        continue
      }
      const vector = this.interrupt as number | undefined
      if (vector !== undefined || ucErrName(err) === 'UC_ERR_INSN_INVALID') {
        const exit = deliverEvent(this.deliveryCpu, this.classifyEvent(vector ?? 6))
        if (exit !== undefined) return exit
        continue
      }
      if (err !== 0) throw new UnicornError('uc_emu_start', err, ucErrName(err))
      throw new VtlError('E_INTERNAL', 'the CPU stopped without a reason')
    }
  }

  private readonly onInstruction = (address: number, size: number): void => {
    if (this.refreshAfter !== undefined && this.refreshAfter !== address) {
      this.refreshAfter = undefined
      this.tlb.clear()
      this.refreshPaging()
    }
    if (this.count >= this.limit) {
      this.limitHit = true
      this.engine.stop()
      return
    }
    const first = this.byteAt(address)
    this.lastAddress = address
    this.lastSize = size
    this.lastFirstByte = first
    if (first >= 0 && MAY_TRAP[first] === 1) {
      if (this.passAt === address) {
        this.passAt = undefined
      } else {
        const trap = decodeTrap((i) => this.byteAt(address + i))
        if (trap?.kind === 'invlpg') {
          this.tlb.clear()
        } else if (trap !== undefined) {
          this.trap = { ...trap, address }
          this.engine.stop()
          return
        }
      }
    }
    this.count++
  }

  private trapExit(trap: PendingTrap): X86Exit {
    const rip = this.readRip()
    const { length } = trap
    switch (trap.kind) {
      case 'vmcall':
        return { kind: 'vmcall', rip, length }
      case 'hlt':
        return { kind: 'hlt', rip, length, interruptsEnabled: this.interruptsEnabled() }
      case 'io': {
        const [rax, rdx] = this.engine.readRegs([X86Reg.RAX, X86Reg.RDX]) as [bigint, bigint]
        const mask = trap.size === 4 ? 0xffff_ffffn : trap.size === 2 ? 0xffffn : 0xffn
        return {
          kind: 'io',
          rip,
          length,
          direction: trap.direction,
          port: trap.port ?? Number(rdx & 0xffffn),
          size: trap.size,
          value: trap.direction === 'out' && !trap.string ? Number(rax & mask) : undefined,
          string: trap.string,
          rep: trap.rep,
          immediate: trap.port !== undefined,
        }
      }
      case 'cpuid': {
        const [rax, rcx] = this.engine.readRegs([X86Reg.RAX, X86Reg.RCX]) as [bigint, bigint]
        return {
          kind: 'cpuid',
          rip,
          length,
          leaf: Number(rax & 0xffff_ffffn),
          subleaf: Number(rcx & 0xffff_ffffn),
        }
      }
      case 'rdmsr':
        return {
          kind: 'rdmsr',
          rip,
          length,
          msr: Number(this.engine.readReg(X86Reg.RCX) & 0xffff_ffffn),
        }
      case 'wrmsr': {
        const [rax, rcx, rdx] = this.engine.readRegs([X86Reg.RAX, X86Reg.RCX, X86Reg.RDX]) as [
          bigint,
          bigint,
          bigint,
        ]
        return {
          kind: 'wrmsr',
          rip,
          length,
          msr: Number(rcx & 0xffff_ffffn),
          value: ((rdx & 0xffff_ffffn) << 32n) | (rax & 0xffff_ffffn),
        }
      }
      case 'mov-to-cr': {
        const name = GPR_NAMES[trap.gpr] ?? 'rax'
        return {
          kind: 'cr-write',
          rip,
          length,
          cr: trap.cr === 0 ? 0 : 4,
          gpr: trap.gpr,
          value: this.engine.readReg(GPR_IDS[name]),
        }
      }
      case 'invlpg':
        throw new VtlError('E_INTERNAL', 'INVLPG does not exit')
    }
  }

  /** An access Unicorn refused: a guest #PF, or an EPT violation for this VTL. */
  private resolveMemFault(fault: UcMemFault): X86Exit | undefined {
    const access = FAULT_ACCESS[fault.type] ?? 'read'
    const rip = this.readRip()
    const started = this.startedAt(rip)
    this.uncountFaultingInstruction(rip)
    const violation = (gpa: bigint, kind: AccessKind, pageAccess: number): X86Exit => ({
      kind: 'ept-violation',
      rip,
      gpa,
      gla: fault.address,
      access: kind,
      pageAccess,
      length: started ? this.lastSize : 0,
    })
    if (!isCanonical(fault.address)) {
      // A non-canonical linear address is #GP(0) (#SS for stack accesses, not told apart here).
      return deliverEvent(this.deliveryCpu, { vector: 13, errorCode: 0 })
    }
    let gpa = fault.address
    if (this.paging) {
      const walk = walkPageTables(this.ram, fault.address, access, this.walkOptions())
      if (walk.kind === 'page-fault') {
        this.engine.writeReg(X86Reg.CR2, fault.address)
        return deliverEvent(this.deliveryCpu, { vector: 14, errorCode: walk.errorCode })
      }
      if (walk.kind === 'table-outside-ram') return violation(walk.gpa, 'read', 0)
      gpa = walk.gpa
    }
    if (gpa >= BigInt(this.ram.byteLength)) return violation(gpa, access, 0)
    const pageAccess = this.applied[Number(gpa) >> 12] ?? 0
    if ((pageAccess & NEED[access]) !== 0) {
      throw new VtlError(
        'E_INTERNAL',
        `the CPU refused a ${access} at 0x${gpa.toString(16)} that VTL${this.vtl} may make`
      )
    }
    return violation(gpa, access, pageAccess)
  }

  private classifyEvent(vector: number): X86Event {
    const rip = this.readRip()
    const software =
      SOFTWARE_INTERRUPTS.has(this.lastFirstByte) &&
      rip === BigInt.asUintN(64, BigInt(this.lastAddress + this.lastSize))
    if (software) return { vector, software: true }
    this.uncountFaultingInstruction(rip)
    if (vector !== 14) return { vector, errorCode: 0 }
    // A #PF Unicorn raised itself is a protection fault on a present page (a missing one comes
    // back as an unmapped access): find which access by walking again.
    const cr2 = this.engine.readReg(X86Reg.CR2)
    for (const access of ['write', 'read'] as const) {
      const walk = walkPageTables(this.ram, cr2, access, this.walkOptions())
      if (walk.kind === 'page-fault') return { vector, errorCode: walk.errorCode }
    }
    return { vector, errorCode: 1 }
  }

  /** Whether the code hook saw the instruction at `rip` start (it decoded: its length is known). */
  private startedAt(rip: bigint): boolean {
    return BigInt.asUintN(64, BigInt(this.lastAddress)) === rip
  }

  /** A faulting instruction did not retire: it runs again after the fault is handled. */
  private uncountFaultingInstruction(rip: bigint): void {
    if (this.count > 0 && this.startedAt(rip)) this.count--
  }

  private linear(address: bigint, access: AccessKind): LinearAccess {
    let gpa = address
    if (this.paging) {
      const walk = walkPageTables(this.ram, address, access, this.walkOptions())
      if (walk.kind !== 'ok') return { kind: 'fault' }
      gpa = walk.gpa
    }
    if (gpa >= BigInt(this.ram.byteLength)) return { kind: 'fault' }
    const pageAccess = this.applied[Number(gpa) >> 12] ?? 0
    if ((pageAccess & NEED[access]) === 0) {
      return { kind: 'ept-violation', gpa, gla: address, access, pageAccess }
    }
    return { kind: 'ok', gpa: Number(gpa) }
  }

  /** Re-reads CR0.PG and CR3; the translation cache survives while neither changed. */
  private refreshPaging(): void {
    const paging = (this.engine.readReg(X86Reg.CR0) & CR0_PG) !== 0n
    const cr3 = this.engine.readReg(X86Reg.CR3)
    if (paging !== this.paging || cr3 !== this.cr3) this.tlb.clear()
    this.paging = paging
    this.cr3 = cr3
  }

  private walkOptions(): { cr3: bigint; writeProtect: boolean; user: boolean } {
    const [cr0, cs] = this.engine.readRegs([X86Reg.CR0, X86Reg.CS]) as [bigint, bigint]
    return { cr3: this.cr3, writeProtect: (cr0 & CR0_WP) !== 0n, user: (cs & 3n) === 3n }
  }

  /** The byte at a linear address, through the guest's page tables; -1 when unreachable. */
  private byteAt(linear: number): number {
    const page = Math.floor(linear / PAGE)
    let base = this.tlb.get(page)
    if (base === undefined) {
      let gpa = BigInt.asUintN(64, BigInt(page * PAGE))
      if (this.paging) {
        const walk = walkPageTables(this.ram, gpa, 'read', {
          cr3: this.cr3,
          writeProtect: false,
          user: false,
        })
        if (walk.kind !== 'ok') return -1
        gpa = walk.gpa
      }
      if (gpa >= BigInt(this.ram.byteLength)) return -1
      base = Number(gpa)
      this.tlb.set(page, base)
    }
    return this.ram[base + (linear - page * PAGE)] ?? -1
  }

  private xmmIndex(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index > 15) {
      throw new VtlError('E_FIELD_RANGE', `XMM${index} does not exist`, { field: 'xmm' })
    }
    return index
  }
}

/** `regs` of `from` written into `to`, only those whose values differ. */
function copyChanged(from: UnicornEngine, to: UnicornEngine, regs: readonly number[]): void {
  const values = from.readRegs(regs)
  const held = to.readRegs(regs)
  const changed = regs.flatMap((_, i) => (values[i] === held[i] ? [] : [i]))
  if (changed.length === 0) return
  to.writeRegs(
    changed.map((i) => regs[i] ?? 0),
    changed.map((i) => values[i] ?? 0n)
  )
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
