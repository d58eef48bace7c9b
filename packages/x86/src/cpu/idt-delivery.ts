import { Rflags } from '@vtl/core'
import { X86Reg } from '../unicorn/constants.js'
import type { UnicornEngine } from '../unicorn/unicorn-engine.js'
import type { AccessKind } from './page-walk.js'
import type { X86Event, X86Exit } from './x86-exit.js'

/** Where a linear access of the delivery lands: RAM, a fault (→ #DF), or a VTL's EPT refusal. */
export type LinearAccess =
  | { kind: 'ok'; gpa: number }
  | { kind: 'fault' }
  | { kind: 'ept-violation'; gpa: bigint; gla: bigint; access: AccessKind; pageAccess: number }

export interface DeliveryCpu {
  readonly engine: UnicornEngine
  readonly ram: Uint8Array
  /** Translates one naturally aligned 8- or 16-byte access (paging + the VTL's permissions). */
  linear(address: bigint, access: AccessKind): LinearAccess
}

/** Exceptions that push an error code (SDM Vol. 3 Table 6-1). */
const HAS_ERROR_CODE = new Set([8, 10, 11, 12, 13, 14, 17, 21])
const DOUBLE_FAULT = 8
const GENERAL_PROTECTION = 13
const RFLAGS_CLEARED = Rflags.TF | Rflags.NT | Rflags.RF | Rflags.VM
const INTERRUPT_GATE = 0xe
const TRAP_GATE = 0xf

type Attempt = { kind: 'delivered' } | { kind: 'fault'; next?: X86Event } | X86Exit

/**
 * Delivers an exception or interrupt through the guest's 64-bit IDT as the CPU does: gate checks,
 * IST / RSP0 stack switch from the TSS, the SS:RSP, RFLAGS, CS:RIP [, error code] frame, IF
 * cleared for interrupt gates. A failure while delivering becomes #DF, and a failure while
 * delivering #DF a triple fault (the benign/contributory table is not modelled: any nested
 * failure escalates). A push the VTL's permissions refuse is an EPT-violation exit.
 */
export function deliverEvent(cpu: DeliveryCpu, event: X86Event): X86Exit | undefined {
  let current = event
  for (;;) {
    const attempt = deliverOnce(cpu, current)
    if (attempt.kind === 'delivered') return undefined
    if (attempt.kind !== 'fault') return attempt
    if (current.vector === DOUBLE_FAULT) {
      return { kind: 'triple-fault', rip: cpu.engine.readReg(X86Reg.RIP) }
    }
    current = attempt.next ?? { vector: DOUBLE_FAULT, errorCode: 0 }
  }
}

function deliverOnce(cpu: DeliveryCpu, event: X86Event): Attempt {
  const { engine } = cpu
  const idtr = engine.readTable(X86Reg.IDTR)
  const offset = event.vector * 16
  if (offset + 15 > idtr.limit) return { kind: 'fault' }
  const gate = readLinear(cpu, idtr.base + BigInt(offset), 16, 'read')
  if (!(gate instanceof Uint8Array)) return gate
  const view = new DataView(gate.buffer)
  const attributes = view.getUint8(5)
  const type = attributes & 0xf
  const present = (attributes & 0x80) !== 0
  if (!present || (type !== INTERRUPT_GATE && type !== TRAP_GATE)) return { kind: 'fault' }
  const cs = Number(engine.readReg(X86Reg.CS))
  const cpl = cs & 3
  if (event.software === true && ((attributes >> 5) & 3) < cpl) {
    return {
      kind: 'fault',
      next: { vector: GENERAL_PROTECTION, errorCode: event.vector * 8 + 2 },
    }
  }
  const selector = view.getUint16(2, true)
  const ist = view.getUint8(4) & 7
  const handler =
    BigInt(view.getUint16(0, true)) |
    (BigInt(view.getUint16(6, true)) << 16n) |
    (BigInt(view.getUint32(8, true)) << 32n)
  const newCpl = selector & 3
  const [rip, rsp, rflags, ss] = engine.readRegs([
    X86Reg.RIP,
    X86Reg.RSP,
    X86Reg.RFLAGS,
    X86Reg.SS,
  ]) as [bigint, bigint, bigint, bigint]
  let stack = rsp
  if (ist !== 0 || newCpl < cpl) {
    const tss = engine.readTable(X86Reg.TR).base
    const slot = ist !== 0 ? 0x24 + (ist - 1) * 8 : 4 + newCpl * 8
    const bytes = readLinear(cpu, tss + BigInt(slot), 8, 'read')
    if (!(bytes instanceof Uint8Array)) return bytes
    stack = new DataView(bytes.buffer).getBigUint64(0, true)
  }
  const frame = [ss, rsp, rflags, BigInt(cs), rip]
  if (HAS_ERROR_CODE.has(event.vector) && event.software !== true) {
    frame.push(BigInt(event.errorCode ?? 0))
  }
  let top = stack & ~0xfn
  for (const value of frame) {
    top = BigInt.asUintN(64, top - 8n)
    const at = cpu.linear(top, 'write')
    if (at.kind === 'fault') return at
    if (at.kind === 'ept-violation') {
      return { ...at, kind: 'ept-violation', rip, length: 0, deliveringVector: event.vector }
    }
    new DataView(cpu.ram.buffer, cpu.ram.byteOffset).setBigUint64(at.gpa, value, true)
  }
  let flags = rflags & ~RFLAGS_CLEARED
  if (type === INTERRUPT_GATE) flags &= ~Rflags.IF
  engine.writeRegs([X86Reg.RSP, X86Reg.RIP, X86Reg.RFLAGS], [top, handler, flags])
  if (selector !== cs) engine.writeSelector(X86Reg.CS, selector)
  if (newCpl !== cpl) engine.writeSelector(X86Reg.SS, newCpl)
  return { kind: 'delivered' }
}

function readLinear(
  cpu: DeliveryCpu,
  address: bigint,
  size: 8 | 16,
  access: AccessKind
): Uint8Array | { kind: 'fault' } | X86Exit {
  const at = cpu.linear(address, access)
  if (at.kind === 'fault') return at
  if (at.kind === 'ept-violation') {
    return { ...at, kind: 'ept-violation', rip: cpu.engine.readReg(X86Reg.RIP), length: 0 }
  }
  return Uint8Array.from(cpu.ram.subarray(at.gpa, at.gpa + size))
}
