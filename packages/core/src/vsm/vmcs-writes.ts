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

/** A segment's four fields and the index of the first in `forEachVmcsWrite`'s fixed order. */
const SEGMENTS: readonly (readonly [SegmentName, number, number, number, number, number])[] = (
  [
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
  ] as const
).map(
  ([name, selector, base, limit, ar], i) => [name, selector, base, limit, ar, 8 + i * 4] as const
)

// Registers written before the segments: the value field and, for CR0/CR4, the read shadow the
// guest reads back under the guest/host mask (§6.3), which must follow the context too. The last
// two numbers are the indices of the field and of its shadow in the fixed order.
const LEADING: readonly (readonly [
  'cr0' | 'cr3' | 'cr4' | 'efer' | 'pat' | 'dr7',
  number,
  number | undefined,
  number,
])[] = [
  ['cr0', VmcsField.GUEST_CR0, VmcsField.CR0_READ_SHADOW, 0],
  ['cr3', VmcsField.GUEST_CR3, undefined, 2],
  ['cr4', VmcsField.GUEST_CR4, VmcsField.CR4_READ_SHADOW, 3],
  ['efer', VmcsField.GUEST_EFER, undefined, 5],
  ['pat', VmcsField.GUEST_PAT, undefined, 6],
  ['dr7', VmcsField.GUEST_DR7, undefined, 7],
]
const TABLES: readonly (readonly ['gdtr' | 'idtr', number, number, number])[] = [
  ['gdtr', VmcsField.GUEST_GDTR_BASE, VmcsField.GUEST_GDTR_LIMIT, 40],
  ['idtr', VmcsField.GUEST_IDTR_BASE, VmcsField.GUEST_IDTR_LIMIT, 42],
]

const TRAILING: readonly (readonly [
  'sysenterCs' | 'sysenterEip' | 'sysenterEsp',
  number,
  number,
])[] = [
  ['sysenterCs', VmcsField.GUEST_SYSENTER_CS_MSR, 44],
  ['sysenterEip', VmcsField.GUEST_SYSENTER_EIP_MSR, 45],
  ['sysenterEsp', VmcsField.GUEST_SYSENTER_ESP_MSR, 46],
]

/**
 * How many distinct fields `forEachVmcsWrite` can write: its third argument to `fn` is below
 * this, one number per VMX encoding, so a caller can keep per-field data in a plain array.
 */
export const VMCS_WRITE_FIELD_COUNT = 47

const SEGMENT_PRESENT = 0x80
const VMX_AR_UNUSABLE = 0x1_0000

// Bigints of 16-bit values (selectors, attributes, limits) and of the all-ones limit, made once:
// a 1024-VP boot writes tens of thousands of them.
const SMALL: (bigint | undefined)[] = []
/** The same for 16-bit attributes with VMX's unusable bit. */
const SMALL_UNUSABLE: (bigint | undefined)[] = []
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
  const attributes = segment.attributes
  if ((attributes & SEGMENT_PRESENT) !== 0) return big(attributes)
  // Unusable values too come from a table when the attributes are 16-bit (they always are).
  if (attributes >= 0 && attributes < 0x1_0000 && Number.isInteger(attributes)) {
    return (SMALL_UNUSABLE[attributes] ??= BigInt(attributes | VMX_AR_UNUSABLE))
  }
  return BigInt(attributes | VMX_AR_UNUSABLE)
}

/**
 * The VMCS guest-state fields that carry a register write on TDX (§4.4, §6.4), in a fixed order:
 * calls `fn` per field until it returns false and returns how many fields it accepted (so a
 * caller can undo exactly those). `fn`'s third argument numbers the field (below
 * `VMCS_WRITE_FIELD_COUNT`, the same for an encoding on every call). RIP, RSP, RFLAGS and the
 * syscall MSRs live in the paravisor's private bank and the run page, not in the VMCS, so they
 * produce no write.
 */
export function forEachVmcsWrite(
  write: VtlRegisterWrite,
  fn: (encoding: number, value: bigint, index: number) => boolean
): number {
  // `fn` straight from each loop (no helper closure): a 1024-VP boot writes ~2,000 contexts.
  let done = 0
  for (const [name, field, shadow, index] of LEADING) {
    const value = write[name]
    if (value === undefined) continue
    if (!fn(field, value, index)) return done
    done++
    if (shadow === undefined) continue
    if (!fn(shadow, value, index + 1)) return done
    done++
  }
  for (const [name, selector, base, limit, ar, index] of SEGMENTS) {
    const segment = write[name]
    if (segment === undefined) continue
    if (!fn(selector, big(segment.selector), index)) return done
    if (!fn(base, segment.base, index + 1)) return done + 1
    if (!fn(limit, big(segment.limit), index + 2)) return done + 2
    if (!fn(ar, vmxAccessRights(segment), index + 3)) return done + 3
    done += 4
  }
  for (const [name, base, limit, index] of TABLES) {
    const table = write[name]
    if (table === undefined) continue
    if (!fn(base, table.base, index)) return done
    if (!fn(limit, big(table.limit), index + 1)) return done + 1
    done += 2
  }
  for (const [name, field, index] of TRAILING) {
    const value = write[name]
    if (value === undefined) continue
    if (!fn(field, value, index)) return done
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
