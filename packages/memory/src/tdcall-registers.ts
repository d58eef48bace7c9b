import {
  attrWriteOperands,
  encodeGpaOperand,
  GPA_VM_ATTR_MASK_ALL_CHANGED,
  GpaVmAttr,
  packAttrSlot,
  sharedBit,
  vmIndexForVtl,
  type GpaWidth,
} from '@vtl/core'
import type { PlanOp } from './plan.js'
import {
  LEAF_TDG_MEM_PAGE_ACCEPT,
  LEAF_TDG_MEM_PAGE_ATTR_WR,
  LEAF_TDG_MEM_PAGE_RELEASE,
  LEAF_TDG_VP_VMCALL,
  TDVMCALL_MAP_GPA,
} from './tdx-status.js'

/** The registers of the TDCALL that carries `op` (unused ones are 0). */
export interface TdcallRegisters {
  rax: bigint
  rcx: bigint
  rdx: bigint
  r8: bigint
  r10: bigint
  r11: bigint
  r12: bigint
  r13: bigint
}

/**
 * The TDCALL registers for an op, for a hardware sink. ATTR.WR uses core's `attrWriteOperands`
 * whenever the op sets VALID with the ALL_CHANGED mask (every forward plan), so RDX/R8 are exactly
 * OpenHCL's. Rolling back a never-mapped slot (attr 0) writes VALID with no permissions: the
 * module skips a slot whose value is 0, so that is the only way to take the access away. MapGPA is
 * TDG.VP.VMCALL with R12 = the GPA (shared alias for the shared target) and R13 = the size.
 */
export function tdcallRegisters(op: PlanOp, gpaWidth: GpaWidth = 48): TdcallRegisters {
  const regs: TdcallRegisters = {
    rax: 0n,
    rcx: 0n,
    rdx: 0n,
    r8: 0n,
    r10: 0n,
    r11: 0n,
    r12: 0n,
    r13: 0n,
  }
  switch (op.kind) {
    case 'accept':
      regs.rax = BigInt(LEAF_TDG_MEM_PAGE_ACCEPT)
      regs.rcx = encodeGpaOperand({ level: op.level, gpn: op.gpn })
      break
    case 'release':
      regs.rax = BigInt(LEAF_TDG_MEM_PAGE_RELEASE)
      regs.rcx = encodeGpaOperand({ level: op.level, gpn: op.gpn })
      break
    case 'attr-write': {
      regs.rax = BigInt(LEAF_TDG_MEM_PAGE_ATTR_WR)
      regs.rcx = encodeGpaOperand({ level: op.level, gpn: op.gpn })
      if (
        (op.attr === 0 || op.attr & GpaVmAttr.VALID) &&
        op.mask === GPA_VM_ATTR_MASK_ALL_CHANGED
      ) {
        const { rdx, r8 } = attrWriteOperands(op.vtl, op.attr & 0xf)
        regs.rdx = rdx
        regs.r8 = r8
      } else {
        const slot = vmIndexForVtl(op.vtl)
        regs.rdx = packAttrSlot(slot, op.attr)
        regs.r8 = packAttrSlot(slot, op.mask)
      }
      break
    }
    case 'map-gpa':
      regs.rax = BigInt(LEAF_TDG_VP_VMCALL)
      regs.rcx = 0x3c00n
      regs.r11 = BigInt(TDVMCALL_MAP_GPA)
      regs.r12 = (op.gpn << 12n) | (op.shared ? sharedBit(gpaWidth) : 0n)
      regs.r13 = op.pages << 12n
      break
  }
  return regs
}
