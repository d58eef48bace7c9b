import { VtlError, type GuestVtl } from '@vtl/core'
import { X86Reg } from '../unicorn/constants.js'
import type { PagePermissionSource } from '../cpu/page-permissions.js'
import {
  SHARED_STATE_NAMES,
  readPrivateState,
  readSharedState,
  writePrivateState,
  writeSharedState,
  type X86PrivateState,
  type X86SharedState,
} from '../cpu/register-state.js'
import { toVmxExit } from '../cpu/vmx-exit.js'
import type { VtlContext } from '../cpu/vtl-context.js'
import type { X86Event, X86Exit } from '../cpu/x86-exit.js'
import { X86Vp } from '../cpu/x86-vp.js'
import { DEBUG_CONSOLE_PORT, DEBUG_EXIT_PORT, DebugPorts } from '../run/debug-ports.js'
import { DEFAULT_MAX_INSTRUCTIONS } from '../run/run-guest.js'

/**
 * A segment or table register as a VP register bank holds it: the selector the CPU loads, and
 * (when the bank keeps them) the descriptor's base, limit and attributes, filled from the GDT.
 */
interface BankSegment {
  selector: number
  base?: bigint
  limit?: number
  attributes?: number
}
interface BankTable {
  base: bigint
  limit: number
}

/** One VTL's private bank: the plain registers, and the segment state when the bank has it. */
export type PrivateBank = X86PrivateState & {
  cs?: BankSegment
  ds?: BankSegment
  es?: BankSegment
  fs?: BankSegment
  gs?: BankSegment
  ss?: BankSegment
  gdtr?: BankTable
  idtr?: BankTable
}

/** Where the loop keeps a VP's registers (the source of truth the backing copies in and out). */
export interface RegisterBanks {
  shared(vp: number): X86SharedState
  private(vp: number, vtl: GuestVtl): PrivateBank
}

/** An exit in TDG.VP.ENTER's fields, shaped as the core loop's `VpExit`. */
export interface X86BackingExit {
  tdxStatus: number
  reason: number
  qualification: bigint
  gpa: bigint
  /** The guest linear address of an EPT violation. */
  gla: bigint
  instructionLength: number
  cpl: number
}

export interface X86BackingOptions {
  /** The TD's guest RAM (GPA 0 up), shared by every VP and VTL. */
  ram: Uint8Array
  banks: RegisterBanks
  permissions?: PagePermissionSource
  /**
   * The event this VTL's next entry injects, if any (read from its VMCS VM-entry
   * interruption-information field, e.g. with `eventFromEntryInterruptInfo`); delivered through
   * the guest's IDT as the entry starts. The callback consumes it: VM entry clears the valid bit.
   */
  entryEvent?: (vp: number, vtl: GuestVtl) => X86Event | undefined
  /**
   * A WRMSR a device of the platform answers (true: done, the instruction is skipped) instead of
   * the loop; e.g. the x2APIC EOI register.
   */
  wrmsr?: (vp: number, vtl: GuestVtl, msr: number, value: bigint) => boolean
}

const SEGMENTS = [
  ['cs', X86Reg.CS],
  ['ds', X86Reg.DS],
  ['es', X86Reg.ES],
  ['fs', X86Reg.FS],
  ['gs', X86Reg.GS],
  ['ss', X86Reg.SS],
] as const
const CONTROL = ['cr0', 'cr3', 'cr4', 'cr8', 'efer', 'dr7'] as const

/**
 * What the backing last put into (or read out of) one VTL's CPU, to write only changes (a
 * register write costs Unicorn several times a read). Only `load` and `store` touch the
 * registers in between, so this is what the CPU holds; an entry that throws before `store`
 * drops it.
 */
interface Loaded {
  shared: Partial<X86SharedState>
  control: Partial<Record<(typeof CONTROL)[number], bigint>>
  segments: Partial<Record<string, number>>
  gdtr?: BankTable
  idtr?: BankTable
}

/**
 * The x86 CPU as a backing of a VP loop whose register banks are the truth: `enter(vp, vtl)`
 * copies the bank into that VTL's CPU (shared registers and RIP/RSP/RFLAGS always, control
 * registers, EFER, descriptor tables and selectors when the bank changed them), runs to the next
 * exit the loop handles, copies the registers back and reports the exit in VMX terms. The loop
 * gets VMCALL, EPT violations, HLT, triple faults, I/O on ports other than the debug ports (DX
 * form), RDMSR/WRMSR and MOV to CR0/CR4 — what the paravisor emulates or VTL1 intercepts
 * (§13.16). Answered here: CPUID (as the CPU would), the debug ports 0xE9/0xF4 (devices nobody
 * intercepts), and I/O with an immediate port (unclaimed: IN reads all ones). A spent budget and
 * a write of the exit code are external interrupts (the host takes the CPU back);
 * `budgetSpent(vp)` and `ports(vp).exitCode` tell the caller which.
 */
export class X86Backing {
  private readonly vps = new Map<number, X86Vp>()
  private readonly debugPorts = new Map<number, DebugPorts>()
  private readonly loaded = new Map<string, Loaded>()
  private readonly budgets = new Map<number, number>()
  private readonly spent = new Set<number>()
  /** The VTL each VP entered last: the one whose SSE registers hold the current values. */
  private readonly entered = new Map<number, GuestVtl>()

  constructor(private readonly options: X86BackingOptions) {}

  /** This VP's CPU (made on first use). */
  vp(vp: number): X86Vp {
    let cpu = this.vps.get(vp)
    if (cpu === undefined) {
      const { ram, permissions } = this.options
      cpu = new X86Vp(permissions === undefined ? { ram } : { ram, permissions })
      this.vps.set(vp, cpu)
    }
    return cpu
  }

  /** The VP's console and exit code (port 0xE9 and 0xF4). */
  ports(vp: number): DebugPorts {
    let ports = this.debugPorts.get(vp)
    if (ports === undefined) {
      ports = new DebugPorts()
      this.debugPorts.set(vp, ports)
    }
    return ports
  }

  /** Instructions the VP may still run (the `run` action's budget); spent by `enter`. */
  setBudget(vp: number, instructions: number): void {
    if (!Number.isSafeInteger(instructions) || instructions < 0) {
      throw new VtlError('E_FIELD_RANGE', `budget ${instructions} is not a count`, {
        field: 'maxInstructions',
      })
    }
    this.budgets.set(vp, instructions)
    this.spent.delete(vp)
  }

  /** The last entry stopped because the budget ran out. */
  budgetSpent(vp: number): boolean {
    return this.spent.has(vp)
  }

  enter(vp: number, vtl: GuestVtl): X86BackingExit {
    const context = this.vp(vp).context(vtl)
    this.copySse(vp, vtl)
    let exit: X86Exit
    try {
      this.load(vp, vtl, context)
      const event = this.options.entryEvent?.(vp, vtl)
      if (event !== undefined) context.inject(event)
      exit = this.runToLoopExit(vp, vtl, context)
    } catch (error) {
      // No `store`: the CPU may hold registers the bank does not. The next entry writes them all.
      this.loaded.delete(`${vp}:${vtl}`)
      throw error
    }
    this.store(vp, vtl, context)
    const vmx = toVmxExit(exit)
    return {
      tdxStatus: 0,
      reason: vmx.reason,
      qualification: vmx.qualification,
      gpa: vmx.gpa,
      gla: vmx.gla,
      instructionLength: vmx.instructionLength,
      cpl: Number(context.engine.readReg(X86Reg.CS) & 3n),
    }
  }

  /** XMM0–XMM5 as 12 u64 (low, high), the fast-hypercall input after R8. */
  xmm(vp: number): readonly bigint[] {
    const context = this.vp(vp).context(this.entered.get(vp) ?? 0)
    const out: bigint[] = []
    for (let i = 0; i < 6; i++) {
      const bytes = Buffer.from(context.readXmm(i))
      out.push(bytes.readBigUInt64LE(0), bytes.readBigUInt64LE(8))
    }
    return out
  }

  readGuest(gpa: bigint, length: number): Uint8Array | undefined {
    const { ram } = this.options
    if (gpa < 0n || gpa + BigInt(length) > BigInt(ram.byteLength)) return undefined
    return ram.slice(Number(gpa), Number(gpa) + length)
  }

  writeGuest(gpa: bigint, bytes: Uint8Array): boolean {
    const { ram } = this.options
    if (gpa < 0n || gpa + BigInt(bytes.byteLength) > BigInt(ram.byteLength)) return false
    ram.set(bytes, Number(gpa))
    return true
  }

  close(): void {
    for (const cpu of this.vps.values()) cpu.close()
    this.vps.clear()
    // A CPU made after this starts empty: nothing is loaded into it yet.
    this.loaded.clear()
    this.entered.clear()
  }

  /**
   * SSE state is shared by the VTLs but lives in each VTL's CPU (the banks have no place for it):
   * carry it on a switch. The shared GPRs come from the bank in `load`.
   */
  private copySse(vp: number, vtl: GuestVtl): void {
    const last = this.entered.get(vp)
    this.entered.set(vp, vtl)
    if (last === undefined || last === vtl) return
    this.vp(vp).context(last).copySharedSseTo(this.vp(vp).context(vtl))
  }

  private runToLoopExit(vp: number, vtl: GuestVtl, context: VtlContext): X86Exit {
    const ports = this.ports(vp)
    for (;;) {
      const budget = this.budgets.get(vp) ?? DEFAULT_MAX_INSTRUCTIONS
      const before = context.retired
      const { exit } = context.enter(budget)
      this.budgets.set(vp, Math.max(0, budget - (context.retired - before)))
      switch (exit.kind) {
        case 'io': {
          const debug = exit.port === DEBUG_CONSOLE_PORT || exit.port === DEBUG_EXIT_PORT
          if ((!debug && !exit.immediate) || !ports.handle(context, exit)) return exit
          if (ports.exitCode !== undefined) return { kind: 'instruction-limit', rip: exit.rip }
          continue
        }
        case 'cpuid':
          context.executeNatively(exit)
          continue
        case 'wrmsr':
          if (this.options.wrmsr?.(vp, vtl, exit.msr, exit.value) !== true) return exit
          context.skip(exit)
          continue
        case 'instruction-limit':
          this.spent.add(vp)
          return exit
        default:
          return exit
      }
    }
  }

  /** Bank → CPU: what the loop (or the guest through a hypercall) may have changed. */
  private load(vp: number, vtl: GuestVtl, context: VtlContext): void {
    const { banks } = this.options
    const loaded = this.loadedState(vp, vtl)
    const shared = banks.shared(vp)
    const changed: Partial<X86SharedState> = {}
    for (const name of SHARED_STATE_NAMES) {
      if (shared[name] !== loaded.shared[name]) changed[name] = shared[name]
    }
    writeSharedState(context, changed)
    Object.assign(loaded.shared, changed)
    const bank = banks.private(vp, vtl)
    const control: Partial<X86PrivateState> = {}
    for (const name of CONTROL) {
      if (loaded.control[name] !== bank[name]) control[name] = bank[name]
    }
    if (bank.gdtr !== undefined && !sameTable(bank.gdtr, loaded.gdtr)) {
      context.engine.writeTable(X86Reg.GDTR, { selector: 0, flags: 0, ...bank.gdtr })
      loaded.gdtr = { ...bank.gdtr }
    }
    if (bank.idtr !== undefined && !sameTable(bank.idtr, loaded.idtr)) {
      context.engine.writeTable(X86Reg.IDTR, { selector: 0, flags: 0, ...bank.idtr })
      loaded.idtr = { ...bank.idtr }
    }
    writePrivateState(context, { ...control, rip: bank.rip, rsp: bank.rsp, rflags: bank.rflags })
    for (const [name, reg] of SEGMENTS) {
      const selector = bank[name]?.selector
      if (selector !== undefined && loaded.segments[name] !== selector) {
        context.engine.writeSelector(reg, selector)
        loaded.segments[name] = selector
      }
    }
  }

  /**
   * CPU → bank: after every exit, and once after the loader put a VTL in its start state (so the
   * bank starts from what the CPU holds).
   */
  syncBankFromCpu(vp: number, vtl: GuestVtl): void {
    this.store(vp, vtl, this.vp(vp).context(vtl))
  }

  private store(vp: number, vtl: GuestVtl, context: VtlContext): void {
    const { banks } = this.options
    const loaded = this.loadedState(vp, vtl)
    const shared = readSharedState(context)
    Object.assign(banks.shared(vp), shared)
    loaded.shared = shared
    const bank = banks.private(vp, vtl)
    const state = readPrivateState(context)
    Object.assign(bank, state)
    for (const name of CONTROL) loaded.control[name] = state[name]
    for (const [name, reg] of [
      ['gdtr', X86Reg.GDTR],
      ['idtr', X86Reg.IDTR],
    ] as const) {
      const { base, limit } = context.engine.readTable(reg)
      // Registers are replaced whole, never changed in place: a bank may share them (frozen).
      const table = bank[name]
      if (table !== undefined && (table.base !== base || table.limit !== limit)) {
        bank[name] = { ...table, base, limit }
      }
      loaded[name] = { base, limit }
    }
    for (const [name, reg] of SEGMENTS) {
      const selector = Number(context.engine.readReg(reg))
      const segment = bank[name]
      if (segment !== undefined && selector !== loaded.segments[name]) {
        // The hidden part is what the CPU loaded from the GDT with the selector.
        bank[name] = { ...segment, ...this.descriptor(loaded.gdtr, selector, segment), selector }
      } else if (segment !== undefined && segment.selector !== selector) {
        bank[name] = { ...segment, selector }
      }
      loaded.segments[name] = selector
    }
  }

  /**
   * A code or data descriptor of the GDT at `gdtr` (read from guest RAM: the loader's identity
   * map makes its linear address physical): base, limit (granularity applied) and the attributes
   * in the TLFS segment layout (access byte, then AVL/L/DB/G in bits 12–15). A null or
   * out-of-table selector keeps the fields it had.
   */
  private descriptor(
    gdtr: BankTable | undefined,
    selector: number,
    current: BankSegment
  ): Partial<BankSegment> {
    const index = selector & ~7
    const { ram } = this.options
    if (gdtr === undefined || index === 0 || index + 7 > gdtr.limit) return {}
    const at = Number(gdtr.base) + index
    if (at < 0 || at + 8 > ram.byteLength || current.attributes === undefined) return {}
    const d = new DataView(ram.buffer, ram.byteOffset + at, 8).getBigUint64(0, true)
    const access = Number((d >> 40n) & 0xffn)
    const flags = Number((d >> 52n) & 0xfn)
    const rawLimit = Number((d & 0xffffn) | (((d >> 48n) & 0xfn) << 16n))
    const base = ((d >> 16n) & 0xff_ffffn) | (((d >> 56n) & 0xffn) << 24n)
    return {
      base,
      limit: (flags & 8) !== 0 ? rawLimit * 0x1000 + 0xfff : rawLimit,
      attributes: access | (flags << 12),
    }
  }

  private loadedState(vp: number, vtl: GuestVtl): Loaded {
    const key = `${vp}:${vtl}`
    let loaded = this.loaded.get(key)
    if (loaded === undefined) {
      loaded = { shared: {}, control: {}, segments: {} }
      this.loaded.set(key, loaded)
    }
    return loaded
  }
}

function sameTable(a: BankTable, b: BankTable | undefined): boolean {
  return b !== undefined && a.base === b.base && a.limit === b.limit
}
