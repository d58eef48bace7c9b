import { HvRegisterName } from '../hv/register-name.js'
import { HvStatus } from '../hv/status.js'
import type { SegmentRegister, TableRegister } from '../hv/segment-register.js'
import type { VsmEngine } from './engine.js'
import { writeRegisters } from './handlers/register-access.js'
import { CrInterceptBit } from './instruction-intercept.js'
import { encodeRegisterInterceptMessage } from './intercept-messages.js'
import {
  advance,
  gp,
  intercept,
  interceptHeader,
  registerIntercepts,
  type InstructionOutcome,
} from './instruction-outcome.js'

/** XSETBV (0F 01 D1). */
export const XSETBV_LENGTH = 3

const CR4_OSXSAVE = 1n << 18n
const XFEATURE_X87 = 1n
const U32 = 0xffff_ffffn

/**
 * XSETBV by the VP's current VTL with ECX, EDX:EAX in the engine's bank (§13.16). The value is
 * checked first (`validate_xsetbv_exit`: ECX ≠ 0, CPL ≠ 0, CR4.OSXSAVE clear or x87 missing from
 * XCR0 → #GP); then, from VTL0 with VTL1 Active and `CrInterceptControl.xcr0_write`, a register
 * intercept (0x80010006, name Xfem) goes to VTL1 whatever the value; otherwise XCR0 is written.
 */
export function executeXsetbv(engine: VsmEngine, vpIndex: number): InstructionOutcome {
  const vp = engine.vp(vpIndex)
  const vtl = vp.exitVtl
  const regs = vp.vtls[vtl].registers
  const { rax, rcx, rdx } = vp.shared
  const xfem = ((rdx & U32) << 32n) | (rax & U32)
  const cpl = regs.cs.selector & 3
  if (rcx !== 0n || cpl !== 0 || (regs.cr4 & CR4_OSXSAVE) === 0n || (xfem & XFEATURE_X87) === 0n) {
    return gp(engine, vp, vtl)
  }
  const control = registerIntercepts(vp, vtl)
  if (control !== undefined && (control & CrInterceptBit.Xcr0Write) !== 0n) {
    const header = interceptHeader(vp, XSETBV_LENGTH, 1)
    return intercept(engine, vp, encodeRegisterInterceptMessage(header, HvRegisterName.Xfem, xfem))
  }
  vp.shared.xfem = xfem
  advance(vp, vtl, XSETBV_LENGTH)
  return { kind: 'performed' }
}

/** A descriptor-table load as the host decoded it: the register and the value it loads. */
export type TableLoad =
  | { register: 'gdtr' | 'idtr'; value: TableRegister }
  | { register: 'ldtr' | 'tr'; value: SegmentRegister }

const LOAD_INTERCEPT = {
  gdtr: [CrInterceptBit.GdtrWrite, HvRegisterName.Gdtr],
  idtr: [CrInterceptBit.IdtrWrite, HvRegisterName.Idtr],
  ldtr: [CrInterceptBit.LdtrWrite, HvRegisterName.Ldtr],
  tr: [CrInterceptBit.TrWrite, HvRegisterName.Tr],
} as const

/**
 * LGDT, LIDT, LLDT or LTR by the VP's current VTL, `length` bytes long (§13.16). From VTL0 with
 * VTL1 Active and the register's `CrInterceptControl` bit, a register intercept goes to VTL1 with
 * value 0 (OpenHCL forwards loads without the operand); otherwise the register is loaded. The
 * stores (SGDT, …) are never intercepted and are not modelled here.
 */
export function executeTableLoad(
  engine: VsmEngine,
  vpIndex: number,
  load: TableLoad,
  length: number
): InstructionOutcome {
  const vp = engine.vp(vpIndex)
  const vtl = vp.exitVtl
  const [bit, name] = LOAD_INTERCEPT[load.register]
  const control = registerIntercepts(vp, vtl)
  if (control !== undefined && (control & bit) !== 0n) {
    const header = interceptHeader(vp, length, 1)
    return intercept(engine, vp, encodeRegisterInterceptMessage(header, name, 0n))
  }
  const write = { [load.register]: load.value }
  if (writeRegisters(engine, vp, vtl, write) !== HvStatus.Success) return gp(engine, vp, vtl)
  advance(vp, vtl, length)
  return { kind: 'performed' }
}
