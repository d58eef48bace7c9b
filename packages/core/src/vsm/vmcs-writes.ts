import type { SegmentRegister } from '../hv/segment-register.js'
import { VmcsField } from '../tdx/vmcs-field.js'
import type { InjectedException } from './ports.js'
import type { VtlRegisterWrite } from './registers.js'

/** One VMCS guest-state field write: the VMX encoding and the value. */
export interface VmcsWrite {
  encoding: number
  value: bigint
}

type SegmentName = 'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs' | 'ldtr' | 'tr'

const SEGMENTS: readonly (readonly [SegmentName, number, number, number, number])[] = [
  [
    'es',
    VmcsField.GUEST_ES_SELECTOR,
    VmcsField.GUEST_ES_BASE,
    VmcsField.GUEST_ES_LIMIT,
    VmcsField.GUEST_ES_AR,
  ],
  [
    'cs',
    VmcsField.GUEST_CS_SELECTOR,
    VmcsField.GUEST_CS_BASE,
    VmcsField.GUEST_CS_LIMIT,
    VmcsField.GUEST_CS_AR,
  ],
  [
    'ss',
    VmcsField.GUEST_SS_SELECTOR,
    VmcsField.GUEST_SS_BASE,
    VmcsField.GUEST_SS_LIMIT,
    VmcsField.GUEST_SS_AR,
  ],
  [
    'ds',
    VmcsField.GUEST_DS_SELECTOR,
    VmcsField.GUEST_DS_BASE,
    VmcsField.GUEST_DS_LIMIT,
    VmcsField.GUEST_DS_AR,
  ],
  [
    'fs',
    VmcsField.GUEST_FS_SELECTOR,
    VmcsField.GUEST_FS_BASE,
    VmcsField.GUEST_FS_LIMIT,
    VmcsField.GUEST_FS_AR,
  ],
  [
    'gs',
    VmcsField.GUEST_GS_SELECTOR,
    VmcsField.GUEST_GS_BASE,
    VmcsField.GUEST_GS_LIMIT,
    VmcsField.GUEST_GS_AR,
  ],
  [
    'ldtr',
    VmcsField.GUEST_LDTR_SELECTOR,
    VmcsField.GUEST_LDTR_BASE,
    VmcsField.GUEST_LDTR_LIMIT,
    VmcsField.GUEST_LDTR_AR,
  ],
  [
    'tr',
    VmcsField.GUEST_TR_SELECTOR,
    VmcsField.GUEST_TR_BASE,
    VmcsField.GUEST_TR_LIMIT,
    VmcsField.GUEST_TR_AR,
  ],
]

// Registers written before the segments: the value field and, for CR0/CR4, the read shadow the
// guest reads back under the guest/host mask (§6.3), which must follow the context too.
const LEADING: readonly (readonly [
  'cr0' | 'cr3' | 'cr4' | 'efer' | 'pat' | 'dr7',
  number,
  number?,
])[] = [
  ['cr0', VmcsField.GUEST_CR0, VmcsField.CR0_READ_SHADOW],
  ['cr3', VmcsField.GUEST_CR3],
  ['cr4', VmcsField.GUEST_CR4, VmcsField.CR4_READ_SHADOW],
  ['efer', VmcsField.GUEST_EFER],
  ['pat', VmcsField.GUEST_PAT],
  ['dr7', VmcsField.GUEST_DR7],
]

const TABLES: readonly (readonly ['gdtr' | 'idtr', number, number])[] = [
  ['gdtr', VmcsField.GUEST_GDTR_BASE, VmcsField.GUEST_GDTR_LIMIT],
  ['idtr', VmcsField.GUEST_IDTR_BASE, VmcsField.GUEST_IDTR_LIMIT],
]

const TRAILING: readonly (readonly ['sysenterCs' | 'sysenterEip' | 'sysenterEsp', number])[] = [
  ['sysenterCs', VmcsField.GUEST_SYSENTER_CS_MSR],
  ['sysenterEip', VmcsField.GUEST_SYSENTER_EIP_MSR],
  ['sysenterEsp', VmcsField.GUEST_SYSENTER_ESP_MSR],
]

const SEGMENT_PRESENT = 0x80
const VMX_AR_UNUSABLE = 0x1_0000

// Bigints of 16-bit values (selectors, attributes, limits) and of the all-ones limit, made once:
// a 1024-VP boot writes tens of thousands of them.
const SMALL: (bigint | undefined)[] = []
const U32_MAX_BIG = 0xffff_ffffn

function big(n: number): bigint {
  if (n === 0xffff_ffff) return U32_MAX_BIG
  if (n >= 0 && n < 0x1_0000 && Number.isInteger(n)) return (SMALL[n] ??= BigInt(n))
  return BigInt(n)
}

/**
 * Hyper-V segment attributes share the VMX access-rights layout in bits 15:0; VMX adds bit 16
 * "unusable", which stands for a segment that is not present (a null LDTR, say): VM entry refuses
 * a usable LDTR that is not present.
 */
export function vmxAccessRights(segment: SegmentRegister): bigint {
  return (segment.attributes & SEGMENT_PRESENT) === 0
    ? BigInt(segment.attributes | VMX_AR_UNUSABLE)
    : big(segment.attributes)
}

/**
 * The VMCS guest-state fields that carry a register write on TDX (§4.4, §6.4), in a fixed order:
 * calls `fn` per field until it returns false and returns how many fields it accepted (so a
 * caller can undo exactly those). RIP, RSP, RFLAGS and the syscall MSRs live in the paravisor's
 * private bank and the run page, not in the VMCS, so they produce no write.
 */
export function forEachVmcsWrite(
  write: VtlRegisterWrite,
  fn: (encoding: number, value: bigint) => boolean
): number {
  // `fn` straight from each loop (no helper closure): a 1024-VP boot writes ~2,000 contexts.
  let done = 0
  for (const [name, field, shadow] of LEADING) {
    const value = write[name]
    if (value === undefined) continue
    if (!fn(field, value)) return done
    done++
    if (shadow === undefined) continue
    if (!fn(shadow, value)) return done
    done++
  }
  for (const [name, selector, base, limit, ar] of SEGMENTS) {
    const segment = write[name]
    if (segment === undefined) continue
    if (!fn(selector, big(segment.selector))) return done
    if (!fn(base, segment.base)) return done + 1
    if (!fn(limit, big(segment.limit))) return done + 2
    if (!fn(ar, vmxAccessRights(segment))) return done + 3
    done += 4
  }
  for (const [name, base, limit] of TABLES) {
    const table = write[name]
    if (table === undefined) continue
    if (!fn(base, table.base)) return done
    if (!fn(limit, big(table.limit))) return done + 1
    done += 2
  }
  for (const [name, field] of TRAILING) {
    const value = write[name]
    if (value === undefined) continue
    if (!fn(field, value)) return done
    done++
  }
  return done
}

/** `forEachVmcsWrite` as a list. */
export function vmcsWrites(write: VtlRegisterWrite): VmcsWrite[] {
  const out: VmcsWrite[] = []
  forEachVmcsWrite(write, (encoding, value) => out.push({ encoding, value }) > 0)
  return out
}

const INTERRUPTION_TYPE_HW_EXCEPTION = 3
const ERROR_CODE_VALID = 1 << 11
const INTERRUPTION_VALID = 1 << 31

/**
 * VM-entry event injection of a hardware exception (SDM 24.8.3): what a TDX host writes to the
 * VTL's VMCS to inject it (the entry delivers it and clears the valid bit).
 */
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
