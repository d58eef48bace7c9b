import {
  TdxOperandId,
  TdxStatus,
  decodeTdxExtendedFieldCode,
  TdVpsClassCode,
  TdxContextCode,
  VmcsField,
  vmcsTdxFieldSize,
  type TdcallOutput,
  type TdxExtendedFieldCode,
} from '@vtl/core'
import { fail } from './tdcall-output.js'

/** A metadata field the module knows: where it is stored, its width, writable bits, reset value. */
export interface FieldSpec {
  /** Storage key (unique per field within its scope). */
  key: string
  bits: 8 | 16 | 32 | 64
  /** Bits the L1 VMM may write; 0n = read-only (TDX_METADATA_FIELD_NOT_WRITABLE). */
  writable: bigint
  reset: bigint
  /** `writable` is a non-zero run of low bits (2^k − 1): a value in `[0, writable]` is whole. */
  lowMask: boolean
  /** The key's storage slot (`fieldSlot(key)`): per-VP state is an array indexed by it. */
  slot: number
}

/** Storage keys by slot, and slots by key: numbered in order of first use, never reused. */
const slotKeys: string[] = []
/** A spec made for each slot (every spec of one key has the same width, writable bits and reset). */
const slotSpecs: (FieldSpec | undefined)[] = []
const keySlots = new Map<string, number>()

/** The storage slot of `key`, numbered on first use. */
export function fieldSlot(key: string): number {
  let slot = keySlots.get(key)
  if (slot === undefined) {
    slot = slotKeys.length
    slotKeys.push(key)
    keySlots.set(key, slot)
  }
  return slot
}

/** The slot of `key` if it has one (a key never stored or specified has none). */
export function existingFieldSlot(key: string): number | undefined {
  return keySlots.get(key)
}

/** The spec of `slot`'s field, once one was made (undefined before). */
export function slotSpec(slot: number): FieldSpec | undefined {
  return slotSpecs[slot]
}

/** The storage key of `slot`. */
export function fieldKey(slot: number): string {
  return slotKeys[slot] ?? ''
}

/** Slots numbered so far (a per-VP array this long holds every known field without growing). */
export function fieldSlotCount(): number {
  return slotKeys.length
}

function makeSpec(
  key: string,
  bits: FieldSpec['bits'],
  writable: bigint,
  reset: bigint
): FieldSpec {
  const spec: FieldSpec = {
    slot: fieldSlot(key),
    key,
    bits,
    writable,
    reset,
    lowMask: writable !== 0n && (writable & (writable + 1n)) === 0n,
  }
  slotSpecs[spec.slot] ??= spec
  return spec
}

const ALL64 = 0xffff_ffff_ffff_ffffn
const SIZE_BITS = [8, 16, 32, 64] as const

export function fieldMask(bits: number): bigint {
  return (1n << BigInt(bits)) - 1n
}

/**
 * VMX encodings the software VMCS holds: core's `VmcsField` list plus the guest RIP/RSP/RFLAGS
 * and the exit-information fields a guest runner may report. Anything else is
 * TDX_METADATA_FIELD_ID_INCORRECT, which keeps typos from silently creating state.
 */
const VMCS_EXTRA: readonly number[] = [
  0x681c, // GUEST_RSP
  0x681e, // GUEST_RIP
  0x6820, // GUEST_RFLAGS
  0x2400, // GUEST_PHYSICAL_ADDRESS (exit information, read-only)
  0x4402, // VM_EXIT_REASON (read-only)
  0x440c, // VM_EXIT_INSTRUCTION_LENGTH (read-only)
  0x6400, // EXIT_QUALIFICATION (read-only)
]
const VMCS_ENCODINGS = new Set<number>([...Object.values(VmcsField), ...VMCS_EXTRA])

/** OpenHCL asserts each L2 VMCS starts with CR0 = PE|NE and CR4 = MCE|VMXE (§6.3). */
const VMCS_RESET = new Map<number, bigint>([
  [VmcsField.GUEST_CR0, 0x21n],
  [VmcsField.GUEST_CR4, 0x2040n],
])

function decode(id: bigint): TdxExtendedFieldCode | undefined {
  try {
    const f = decodeTdxExtendedFieldCode(id)
    // Sequences and multi-element reads are not modelled: single fields only.
    if (f.lastElement !== 0 || f.lastField !== 0 || f.incrementSize) return undefined
    return f
  } catch {
    return undefined
  }
}

const VMCS_CLASSES: readonly number[] = [
  TdVpsClassCode.VMCS_1,
  TdVpsClassCode.VMCS_2,
  TdVpsClassCode.VMCS_3,
]
const MSR_BITMAP_CLASSES: readonly number[] = [
  TdVpsClassCode.MSR_BITMAPS_1,
  TdVpsClassCode.MSR_BITMAPS_2,
  // VM #3's bitmap class follows the 8-apart pattern of VMCS_1/2/3 (no source names it).
  TdVpsClassCode.MSR_BITMAPS_2 + 8,
]

/** Built VMCS field specs by `vm * 0x10000 + encoding` (the set of encodings is fixed). */
const vmcsSpecCache = new Map<number, FieldSpec>()

/**
 * A VMCS field spec for `vm`'s VMCS, or undefined when the encoding is not one we hold. The spec
 * returned is shared: do not change it.
 */
export function vmcsFieldSpec(vm: number, encoding: number): FieldSpec | undefined {
  if (!VMCS_ENCODINGS.has(encoding)) return undefined
  const slot = vm * 0x10000 + encoding
  let spec = vmcsSpecCache.get(slot)
  if (spec === undefined) {
    spec = buildVmcsFieldSpec(vm, encoding)
    vmcsSpecCache.set(slot, spec)
  }
  return spec
}

function buildVmcsFieldSpec(vm: number, encoding: number): FieldSpec {
  const bits = SIZE_BITS[vmcsTdxFieldSize(encoding)]
  // VMX encoding bits 11:10 = 1: VM-exit information, read-only for everyone.
  const readOnly = ((encoding >>> 10) & 3) === 1
  return makeSpec(
    `v${vm}:${encoding}`,
    bits,
    readOnly ? 0n : fieldMask(bits),
    VMCS_RESET.get(encoding) ?? 0n
  )
}

/**
 * Decoded TDG.VP.RD/WR field ids, per `numL2Vms` (index 1..3): the decode is pure, so each id
 * is decoded once. Unknown ids are cached too (as null), up to a bound so that a campaign of
 * random ids cannot grow the table without limit.
 */
const vpSpecCache = Array.from({ length: 4 }, () => new Map<bigint, FieldSpec | null>())
const VP_SPEC_CACHE_LIMIT = 4096

/** TDG.VP.RD/WR field ids (context TD_VCPU). The spec returned is shared: do not change it. */
export function vpFieldSpec(id: bigint, numL2Vms: number): FieldSpec | undefined {
  const cache = vpSpecCache[numL2Vms]
  if (cache === undefined) return decodeVpFieldSpec(id, numL2Vms)
  const hit = cache.get(id)
  if (hit !== undefined) return hit ?? undefined
  const spec = decodeVpFieldSpec(id, numL2Vms)
  if (cache.size < VP_SPEC_CACHE_LIMIT) cache.set(id, spec ?? null)
  return spec
}

function decodeVpFieldSpec(id: bigint, numL2Vms: number): FieldSpec | undefined {
  const f = decode(id)
  if (f?.contextCode !== TdxContextCode.TD_VCPU) return undefined
  const size = SIZE_BITS[f.fieldSize]
  const vmcs = VMCS_CLASSES.indexOf(f.classCode)
  if (vmcs >= 0) {
    if (vmcs + 1 > numL2Vms) return undefined
    const spec = vmcsFieldSpec(vmcs + 1, f.fieldCode)
    return spec?.bits === size ? spec : undefined
  }
  const msr = MSR_BITMAP_CLASSES.indexOf(f.classCode)
  if (msr >= 0) {
    if (msr + 1 > numL2Vms || f.fieldCode >= 512 || size !== 64) return undefined
    // The default bitmap intercepts every MSR.
    return makeSpec(`m${msr + 1}:${f.fieldCode}`, 64, ALL64, ALL64)
  }
  if (f.classCode === TdVpsClassCode.MANAGEMENT && size === 64) {
    const code = f.fieldCode
    if (code >= 0x51 && code < 0x51 + numL2Vms) {
      // L2_CTLS: bit 0 ENABLE_SHARED_EPTP, bit 1 ENABLE_TDVMCALL, the rest reserved.
      return makeSpec(`g:${code}`, 64, 3n, 0n)
    }
    if (code >= 0x59 && code < 0x59 + numL2Vms) {
      // TSC_DEADLINE: all ones = disarmed.
      return makeSpec(`g:${code}`, 64, ALL64, ALL64)
    }
  }
  return undefined
}

/** The TD-scope fields of TDG.VM.RD/WR that the paravisor uses. */
export type TdFieldName = 'CONFIG_FLAGS' | 'TD_CTLS' | 'NUM_L2_VMS'

export function vmFieldName(id: bigint): TdFieldName | undefined {
  const f = decode(id)
  if (f?.contextCode !== TdxContextCode.TD) return undefined
  if (f.classCode === 0x11 && f.fieldSize === 3 && f.fieldCode === 0x16) return 'CONFIG_FLAGS'
  if (f.classCode === 0x11 && f.fieldSize === 3 && f.fieldCode === 0x17) return 'TD_CTLS'
  if (f.classCode === 0x10 && f.fieldSize === 1 && f.fieldCode === 0x05) return 'NUM_L2_VMS'
  return undefined
}

/** TD_CTLS bits a guest may change (PENDING_VE_DISABLE … ENABLE_HW_SEAL_KEYS). */
export const TD_CTLS_WRITABLE = 0x1fn

/** TDG.SYS.RD: only TDX_FEATURES0 (context PLATFORM, class 0x0A, field 8). */
export function isTdxFeatures0(id: bigint): boolean {
  const f = decode(id)
  return (
    f?.contextCode === TdxContextCode.PLATFORM &&
    f.classCode === 0x0a &&
    f.fieldCode === 8 &&
    f.fieldSize === 3
  )
}

/**
 * Metadata write checks as the module's md_*_write_element does them: the bits written are
 * `writable & mask`; none → TDX_METADATA_FIELD_NOT_WRITABLE (RDX). Mask bits over bits the guest
 * may not write (read-only bits, or bits beyond the field's width) must carry the current value,
 * else TDX_METADATA_FIELD_VALUE_NOT_VALID (R8) — so an all-ones mask works on any field as long
 * as the value leaves those bits as they are.
 */
export function checkWrite(
  old: bigint,
  writable: bigint,
  value: bigint,
  mask: bigint
): TdcallOutput | undefined {
  if ((writable & mask) === 0n) {
    return fail(TdxStatus.TDX_METADATA_FIELD_NOT_WRITABLE, TdxOperandId.RDX)
  }
  const forbidden = mask & ~writable
  if ((old & forbidden) !== (value & forbidden)) {
    return fail(TdxStatus.TDX_METADATA_FIELD_VALUE_NOT_VALID, TdxOperandId.R8)
  }
  return undefined
}
