import { smallBigInt } from '../hv/bytes.js'
import type { SegmentRegister } from '../hv/segment-register.js'
import { VmcsField } from '../tdx/vmcs-field.js'
import type { InjectedException } from './ports.js'
import type { VtlRegisterWrite } from './registers.js'

/** One VMCS guest-state field write: the VMX encoding and the value. */
export interface VmcsWrite {
  encoding: number
  value: bigint
}

/** A segment's VMCS fields (selector, base, limit, access rights) and the first one's index. */
interface SegmentFields {
  readonly selector: number
  readonly base: number
  readonly limit: number
  readonly ar: number
  readonly index: number
}

function segmentFields(selector: number, base: number, limit: number, ar: number, index: number) {
  return Object.freeze({ selector, base, limit, ar, index })
}

// The fixed order of `forEachVmcsWrite`, with each field's index: CR0 and its read shadow (0, 1),
// CR3 (2), CR4 and its read shadow (3, 4), EFER, PAT, DR7 (5–7), then ES CS SS DS FS GS LDTR TR
// (four fields each from 8), GDTR and IDTR (base, limit: 40–43), SYSENTER CS/EIP/ESP (44–46).
const ES = segmentFields(
  VmcsField.GUEST_ES_SELECTOR,
  VmcsField.GUEST_ES_BASE,
  VmcsField.GUEST_ES_LIMIT,
  VmcsField.GUEST_ES_AR,
  8
)
const CS = segmentFields(
  VmcsField.GUEST_CS_SELECTOR,
  VmcsField.GUEST_CS_BASE,
  VmcsField.GUEST_CS_LIMIT,
  VmcsField.GUEST_CS_AR,
  12
)
const SS = segmentFields(
  VmcsField.GUEST_SS_SELECTOR,
  VmcsField.GUEST_SS_BASE,
  VmcsField.GUEST_SS_LIMIT,
  VmcsField.GUEST_SS_AR,
  16
)
const DS = segmentFields(
  VmcsField.GUEST_DS_SELECTOR,
  VmcsField.GUEST_DS_BASE,
  VmcsField.GUEST_DS_LIMIT,
  VmcsField.GUEST_DS_AR,
  20
)
const FS = segmentFields(
  VmcsField.GUEST_FS_SELECTOR,
  VmcsField.GUEST_FS_BASE,
  VmcsField.GUEST_FS_LIMIT,
  VmcsField.GUEST_FS_AR,
  24
)
const GS = segmentFields(
  VmcsField.GUEST_GS_SELECTOR,
  VmcsField.GUEST_GS_BASE,
  VmcsField.GUEST_GS_LIMIT,
  VmcsField.GUEST_GS_AR,
  28
)
const LDTR = segmentFields(
  VmcsField.GUEST_LDTR_SELECTOR,
  VmcsField.GUEST_LDTR_BASE,
  VmcsField.GUEST_LDTR_LIMIT,
  VmcsField.GUEST_LDTR_AR,
  32
)
const TR = segmentFields(
  VmcsField.GUEST_TR_SELECTOR,
  VmcsField.GUEST_TR_BASE,
  VmcsField.GUEST_TR_LIMIT,
  VmcsField.GUEST_TR_AR,
  36
)

const GUEST_CR0 = VmcsField.GUEST_CR0
const CR0_READ_SHADOW = VmcsField.CR0_READ_SHADOW
const GUEST_CR3 = VmcsField.GUEST_CR3
const GUEST_CR4 = VmcsField.GUEST_CR4
const CR4_READ_SHADOW = VmcsField.CR4_READ_SHADOW
const GUEST_EFER = VmcsField.GUEST_EFER
const GUEST_PAT = VmcsField.GUEST_PAT
const GUEST_DR7 = VmcsField.GUEST_DR7
const GUEST_GDTR_BASE = VmcsField.GUEST_GDTR_BASE
const GUEST_GDTR_LIMIT = VmcsField.GUEST_GDTR_LIMIT
const GUEST_IDTR_BASE = VmcsField.GUEST_IDTR_BASE
const GUEST_IDTR_LIMIT = VmcsField.GUEST_IDTR_LIMIT
const GUEST_SYSENTER_CS = VmcsField.GUEST_SYSENTER_CS_MSR
const GUEST_SYSENTER_EIP = VmcsField.GUEST_SYSENTER_EIP_MSR
const GUEST_SYSENTER_ESP = VmcsField.GUEST_SYSENTER_ESP_MSR

/**
 * How many distinct fields `forEachVmcsWrite` can write: its third argument to `fn` is below
 * this, one number per VMX encoding, so a caller can keep per-field data in a plain array.
 */
export const VMCS_WRITE_FIELD_COUNT = 47

const SEGMENT_PRESENT = 0x80
const VMX_AR_UNUSABLE = 0x1_0000

const U32_MAX_BIG = 0xffff_ffffn

/**
 * BigInt(n) of a selector, limit or access-rights value: shared below 2^17 (16-bit values, and
 * 16-bit attributes with VMX's unusable bit) and for all-ones.
 */
function big(n: number): bigint {
  if (n >= 0 && n < 0x2_0000 && Number.isInteger(n)) return smallBigInt(n)
  if (n === 0xffff_ffff) return U32_MAX_BIG
  return BigInt(n)
}

/**
 * Hyper-V segment attributes share the VMX access-rights layout in bits 15:0; VMX adds bit 16
 * "unusable", which stands for a segment that is not present (a null LDTR, say): VM entry refuses
 * a usable LDTR that is not present.
 */
export function vmxAccessRights(segment: SegmentRegister): bigint {
  const attributes = segment.attributes
  return big((attributes & SEGMENT_PRESENT) !== 0 ? attributes : attributes | VMX_AR_UNUSABLE)
}

type WriteField = (encoding: number, value: bigint, index: number) => boolean

/** A segment's four writes: how many `fn` accepted (4 = all), or -1 when there is no segment. */
function segmentWrites(
  segment: SegmentRegister | undefined,
  f: SegmentFields,
  fn: WriteField
): number {
  if (segment === undefined) return -1
  if (!fn(f.selector, big(segment.selector), f.index)) return 0
  if (!fn(f.base, segment.base, f.index + 1)) return 1
  if (!fn(f.limit, big(segment.limit), f.index + 2)) return 2
  if (!fn(f.ar, vmxAccessRights(segment), f.index + 3)) return 3
  return 4
}

/**
 * The VMCS guest-state fields that carry a register write on TDX (§4.4, §6.4), in a fixed order:
 * calls `fn` per field until it returns false and returns how many fields it accepted (so a
 * caller can undo exactly those). `fn`'s third argument numbers the field (below
 * `VMCS_WRITE_FIELD_COUNT`, the same for an encoding on every call). RIP, RSP, RFLAGS and the
 * syscall MSRs live in the paravisor's private bank and the run page, not in the VMCS, so they
 * produce no write. CR0 and CR4 are written with their read shadows, which the guest reads back
 * under the guest/host mask (§6.3) and must follow the context too.
 */
export function forEachVmcsWrite(write: VtlRegisterWrite, fn: WriteField): number {
  // Each register by name (no table of names: a keyed load per register costs more than the
  // write), `fn` straight from here (no helper closure): a 1024-VP boot writes ~2,000 contexts.
  let done = 0
  const { cr0, cr3, cr4, efer, pat, dr7 } = write
  if (cr0 !== undefined) {
    if (!fn(GUEST_CR0, cr0, 0)) return done
    if (!fn(CR0_READ_SHADOW, cr0, 1)) return done + 1
    done += 2
  }
  if (cr3 !== undefined) {
    if (!fn(GUEST_CR3, cr3, 2)) return done
    done++
  }
  if (cr4 !== undefined) {
    if (!fn(GUEST_CR4, cr4, 3)) return done
    if (!fn(CR4_READ_SHADOW, cr4, 4)) return done + 1
    done += 2
  }
  if (efer !== undefined) {
    if (!fn(GUEST_EFER, efer, 5)) return done
    done++
  }
  if (pat !== undefined) {
    if (!fn(GUEST_PAT, pat, 6)) return done
    done++
  }
  if (dr7 !== undefined) {
    if (!fn(GUEST_DR7, dr7, 7)) return done
    done++
  }
  let n = segmentWrites(write.es, ES, fn)
  if (n >= 0) {
    done += n
    if (n < 4) return done
  }
  n = segmentWrites(write.cs, CS, fn)
  if (n >= 0) {
    done += n
    if (n < 4) return done
  }
  n = segmentWrites(write.ss, SS, fn)
  if (n >= 0) {
    done += n
    if (n < 4) return done
  }
  n = segmentWrites(write.ds, DS, fn)
  if (n >= 0) {
    done += n
    if (n < 4) return done
  }
  n = segmentWrites(write.fs, FS, fn)
  if (n >= 0) {
    done += n
    if (n < 4) return done
  }
  n = segmentWrites(write.gs, GS, fn)
  if (n >= 0) {
    done += n
    if (n < 4) return done
  }
  n = segmentWrites(write.ldtr, LDTR, fn)
  if (n >= 0) {
    done += n
    if (n < 4) return done
  }
  n = segmentWrites(write.tr, TR, fn)
  if (n >= 0) {
    done += n
    if (n < 4) return done
  }
  const { gdtr, idtr, sysenterCs, sysenterEip, sysenterEsp } = write
  if (gdtr !== undefined) {
    if (!fn(GUEST_GDTR_BASE, gdtr.base, 40)) return done
    if (!fn(GUEST_GDTR_LIMIT, big(gdtr.limit), 41)) return done + 1
    done += 2
  }
  if (idtr !== undefined) {
    if (!fn(GUEST_IDTR_BASE, idtr.base, 42)) return done
    if (!fn(GUEST_IDTR_LIMIT, big(idtr.limit), 43)) return done + 1
    done += 2
  }
  if (sysenterCs !== undefined) {
    if (!fn(GUEST_SYSENTER_CS, sysenterCs, 44)) return done
    done++
  }
  if (sysenterEip !== undefined) {
    if (!fn(GUEST_SYSENTER_EIP, sysenterEip, 45)) return done
    done++
  }
  if (sysenterEsp !== undefined) {
    if (!fn(GUEST_SYSENTER_ESP, sysenterEsp, 46)) return done
    done++
  }
  return done
}

/** `forEachVmcsWrite`'s calls for one write, in order: encoding, value and field index. */
export interface VmcsWritePlan {
  readonly encodings: readonly number[]
  readonly values: readonly bigint[]
  readonly indices: readonly number[]
}

const plans = new WeakMap<VtlRegisterWrite, VmcsWritePlan>()

const isFrozenOrAbsent = (value: object | undefined): boolean =>
  value === undefined || Object.isFrozen(value)

/** Nothing in `write` can change: it, its segments and its tables are frozen. */
function immutable(write: VtlRegisterWrite): boolean {
  return (
    Object.isFrozen(write) &&
    isFrozenOrAbsent(write.es) &&
    isFrozenOrAbsent(write.cs) &&
    isFrozenOrAbsent(write.ss) &&
    isFrozenOrAbsent(write.ds) &&
    isFrozenOrAbsent(write.fs) &&
    isFrozenOrAbsent(write.gs) &&
    isFrozenOrAbsent(write.ldtr) &&
    isFrozenOrAbsent(write.tr) &&
    isFrozenOrAbsent(write.gdtr) &&
    isFrozenOrAbsent(write.idtr)
  )
}

/**
 * The calls `forEachVmcsWrite(write, fn)` makes when `fn` accepts every field, worked out once
 * per immutable write (a shared initial context, applied on every AP of a boot); undefined for a
 * write that could change between calls (use `forEachVmcsWrite`).
 */
export function vmcsWritePlan(write: VtlRegisterWrite): VmcsWritePlan | undefined {
  let plan = plans.get(write)
  if (plan !== undefined) return plan
  if (!immutable(write)) return undefined
  const encodings: number[] = []
  const values: bigint[] = []
  const indices: number[] = []
  forEachVmcsWrite(write, (encoding, value, index) => {
    encodings.push(encoding)
    values.push(value)
    indices.push(index)
    return true
  })
  plan = Object.freeze({
    encodings: Object.freeze(encodings),
    values: Object.freeze(values),
    indices: Object.freeze(indices),
  })
  plans.set(write, plan)
  return plan
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
