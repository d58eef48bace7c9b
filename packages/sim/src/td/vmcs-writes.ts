import {
  VmcsField,
  type SegmentRegister,
  type TableRegister,
  type VtlRegisterWrite,
} from '@vtl/core'

type SegmentName = 'cs' | 'ds' | 'es' | 'fs' | 'gs' | 'ss' | 'tr' | 'ldtr'

const SEGMENTS: readonly [SegmentName, number, number, number, number][] = [
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

const TABLES: readonly ['gdtr' | 'idtr', number, number][] = [
  ['gdtr', VmcsField.GUEST_GDTR_BASE, VmcsField.GUEST_GDTR_LIMIT],
  ['idtr', VmcsField.GUEST_IDTR_BASE, VmcsField.GUEST_IDTR_LIMIT],
]

const SCALARS: readonly [keyof VtlRegisterWrite, number][] = [
  ['cr0', VmcsField.GUEST_CR0],
  ['cr3', VmcsField.GUEST_CR3],
  ['cr4', VmcsField.GUEST_CR4],
  ['efer', VmcsField.GUEST_EFER],
  ['pat', VmcsField.GUEST_PAT],
  ['dr7', VmcsField.GUEST_DR7],
  ['sysenterCs', VmcsField.GUEST_SYSENTER_CS_MSR],
  ['sysenterEsp', VmcsField.GUEST_SYSENTER_ESP_MSR],
  ['sysenterEip', VmcsField.GUEST_SYSENTER_EIP_MSR],
]

/** Bigints of the 16-bit values (selectors, attributes, limits), made on first use and shared. */
const SMALL: (bigint | undefined)[] = []
const U32_MAX = 0xffff_ffff
const U32_MAX_BIG = 0xffff_ffffn

/** `BigInt(n)` for a register field: small and all-ones values come from one shared object. */
function big(n: number): bigint {
  if (n === U32_MAX) return U32_MAX_BIG
  if (n >= 0 && n < 0x10000 && Number.isInteger(n)) return (SMALL[n] ??= BigInt(n))
  return BigInt(n)
}

/**
 * The VMCS guest-state fields (encoding, value) that carry a register write on TDX (§4.4, §6.4).
 * RIP, RSP, RFLAGS and the syscall MSRs live in the paravisor's `TdxPrivateRegs` bank, not the
 * VMCS, so they produce no TDG.VP.WR.
 */
export function vmcsWrites(write: VtlRegisterWrite): [number, bigint][] {
  const out: [number, bigint][] = []
  forEachVmcsWrite(write, (encoding, value) => {
    out.push([encoding, value])
    return true
  })
  return out
}

/**
 * `vmcsWrites` without the list: calls `fn` per field in the same order until it returns false;
 * returns how many fields `fn` accepted.
 */
export function forEachVmcsWrite(
  write: VtlRegisterWrite,
  fn: (encoding: number, value: bigint) => boolean
): number {
  let done = 0
  for (let i = 0; i < SEGMENTS.length; i++) {
    const [name, selector, base, limit, ar] = SEGMENTS[i] as (typeof SEGMENTS)[number]
    const seg: SegmentRegister | undefined = write[name]
    if (seg === undefined) continue
    if (!fn(selector, big(seg.selector))) return done
    if (!fn(base, seg.base)) return done + 1
    if (!fn(limit, big(seg.limit))) return done + 2
    if (!fn(ar, big(seg.attributes))) return done + 3
    done += 4
  }
  for (let i = 0; i < TABLES.length; i++) {
    const [key, base, limit] = TABLES[i] as (typeof TABLES)[number]
    const table: TableRegister | undefined = write[key]
    if (table === undefined) continue
    if (!fn(base, table.base)) return done
    if (!fn(limit, big(table.limit))) return done + 1
    done += 2
  }
  for (let i = 0; i < SCALARS.length; i++) {
    const [name, field] = SCALARS[i] as (typeof SCALARS)[number]
    const value = write[name]
    if (typeof value !== 'bigint') continue
    if (!fn(field, value)) return done
    done++
  }
  return done
}
