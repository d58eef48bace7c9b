import {
  VmcsField,
  vmcsFieldBits,
  type InjectedException,
  type SegmentRegister,
  type VtlRegisterWrite,
} from '@vtl/core'

/** One VMCS field write: the VMX encoding and the value. */
export interface VmcsWrite {
  encoding: number
  value: bigint
}

/**
 * Registers that live in the run page, not in the VMCS: the kernel loads them around
 * TDG.VP.ENTER (RIP/RSP/RFLAGS in `l2_enter_guest_state`, the syscall MSRs in `vp_state`).
 * CSTAR and CR8 have no TDX slot (Intel never uses CSTAR in long mode; CR8 is the APIC TPR), so
 * they are kept only in this bank.
 */
export interface RunPageBank {
  rip: bigint
  rsp: bigint
  rflags: bigint
  kernelGsBase: bigint
  star: bigint
  lstar: bigint
  sfmask: bigint
  tscAux: bigint
  cstar: bigint
  cr8: bigint
}

export const RUN_PAGE_BANK_KEYS = [
  'rip',
  'rsp',
  'rflags',
  'kernelGsBase',
  'star',
  'lstar',
  'sfmask',
  'tscAux',
  'cstar',
  'cr8',
] as const satisfies readonly (keyof RunPageBank)[]

export function resetRunPageBank(): RunPageBank {
  return {
    rip: 0xfff0n,
    rsp: 0n,
    rflags: 2n,
    kernelGsBase: 0n,
    star: 0n,
    lstar: 0n,
    sfmask: 0n,
    tscAux: 0n,
    cstar: 0n,
    cr8: 0n,
  }
}

const SEGMENTS = {
  es: ['GUEST_ES_SELECTOR', 'GUEST_ES_BASE', 'GUEST_ES_LIMIT', 'GUEST_ES_AR'],
  cs: ['GUEST_CS_SELECTOR', 'GUEST_CS_BASE', 'GUEST_CS_LIMIT', 'GUEST_CS_AR'],
  ss: ['GUEST_SS_SELECTOR', 'GUEST_SS_BASE', 'GUEST_SS_LIMIT', 'GUEST_SS_AR'],
  ds: ['GUEST_DS_SELECTOR', 'GUEST_DS_BASE', 'GUEST_DS_LIMIT', 'GUEST_DS_AR'],
  fs: ['GUEST_FS_SELECTOR', 'GUEST_FS_BASE', 'GUEST_FS_LIMIT', 'GUEST_FS_AR'],
  gs: ['GUEST_GS_SELECTOR', 'GUEST_GS_BASE', 'GUEST_GS_LIMIT', 'GUEST_GS_AR'],
  ldtr: ['GUEST_LDTR_SELECTOR', 'GUEST_LDTR_BASE', 'GUEST_LDTR_LIMIT', 'GUEST_LDTR_AR'],
  tr: ['GUEST_TR_SELECTOR', 'GUEST_TR_BASE', 'GUEST_TR_LIMIT', 'GUEST_TR_AR'],
} as const

const SEGMENT_PRESENT = 0x80
const VMX_AR_UNUSABLE = 0x1_0000

/**
 * Hyper-V segment attributes share the VMX access-rights layout for bits 15:0; VMX adds bit 16
 * "unusable", which stands for a segment that is not present.
 */
export function vmxAccessRights(segment: SegmentRegister): bigint {
  const unusable = (segment.attributes & SEGMENT_PRESENT) === 0 ? VMX_AR_UNUSABLE : 0
  return BigInt(segment.attributes | unusable)
}

/** The VMCS writes a register write needs, in a fixed order (the engine's write order). */
export function vmcsWritesFor(write: VtlRegisterWrite): VmcsWrite[] {
  const out: VmcsWrite[] = []
  const put = (field: keyof typeof VmcsField, value: bigint): void => {
    out.push({ encoding: VmcsField[field], value })
  }
  // The read shadow is what the guest reads back; without a guest/host mask both hold the value.
  if (write.cr0 !== undefined) {
    put('GUEST_CR0', write.cr0)
    put('CR0_READ_SHADOW', write.cr0)
  }
  if (write.cr3 !== undefined) put('GUEST_CR3', write.cr3)
  if (write.cr4 !== undefined) {
    put('GUEST_CR4', write.cr4)
    put('CR4_READ_SHADOW', write.cr4)
  }
  if (write.efer !== undefined) put('GUEST_EFER', write.efer)
  if (write.pat !== undefined) put('GUEST_PAT', write.pat)
  if (write.dr7 !== undefined) put('GUEST_DR7', write.dr7)
  for (const name of Object.keys(SEGMENTS) as (keyof typeof SEGMENTS)[]) {
    const segment = write[name]
    if (segment === undefined) continue
    const [selector, base, limit, ar] = SEGMENTS[name]
    put(selector, BigInt(segment.selector))
    put(base, segment.base)
    put(limit, BigInt(segment.limit))
    put(ar, vmxAccessRights(segment))
  }
  if (write.gdtr !== undefined) {
    put('GUEST_GDTR_BASE', write.gdtr.base)
    put('GUEST_GDTR_LIMIT', BigInt(write.gdtr.limit))
  }
  if (write.idtr !== undefined) {
    put('GUEST_IDTR_BASE', write.idtr.base)
    put('GUEST_IDTR_LIMIT', BigInt(write.idtr.limit))
  }
  if (write.sysenterCs !== undefined) put('GUEST_SYSENTER_CS_MSR', write.sysenterCs)
  if (write.sysenterEip !== undefined) put('GUEST_SYSENTER_EIP_MSR', write.sysenterEip)
  if (write.sysenterEsp !== undefined) put('GUEST_SYSENTER_ESP_MSR', write.sysenterEsp)
  return out
}

/** The full-width write mask of a field. */
export function vmcsWriteMask(encoding: number): bigint {
  return (1n << BigInt(vmcsFieldBits(encoding))) - 1n
}

const INTERRUPTION_TYPE_HW_EXCEPTION = 3
const ERROR_CODE_VALID = 1 << 11
const INTERRUPTION_VALID = 1 << 31

/** VM-entry event injection of a hardware exception (SDM 24.8.3). */
export function exceptionInjectionWrites(exception: InjectedException): VmcsWrite[] {
  const withCode = exception.errorCode !== undefined
  const info =
    (exception.vector & 0xff) |
    (INTERRUPTION_TYPE_HW_EXCEPTION << 8) |
    (withCode ? ERROR_CODE_VALID : 0) |
    INTERRUPTION_VALID
  const out: VmcsWrite[] = []
  if (exception.errorCode !== undefined) {
    out.push({
      encoding: VmcsField.ENTRY_EXCEPTION_ERROR_CODE,
      value: BigInt(exception.errorCode >>> 0),
    })
  }
  out.push({ encoding: VmcsField.ENTRY_INTERRUPT_INFO, value: BigInt(info >>> 0) })
  return out
}
