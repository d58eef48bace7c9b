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

/**
 * The VMCS guest-state fields (encoding, value) that carry a register write on TDX (§4.4, §6.4).
 * RIP, RSP, RFLAGS and the syscall MSRs live in the paravisor's `TdxPrivateRegs` bank, not the
 * VMCS, so they produce no TDG.VP.WR.
 */
export function vmcsWrites(write: VtlRegisterWrite): [number, bigint][] {
  const out: [number, bigint][] = []
  for (const [name, selector, base, limit, ar] of SEGMENTS) {
    const seg: SegmentRegister | undefined = write[name]
    if (seg === undefined) continue
    out.push(
      [selector, BigInt(seg.selector)],
      [base, seg.base],
      [limit, BigInt(seg.limit)],
      [ar, BigInt(seg.attributes)]
    )
  }
  const tables: [TableRegister | undefined, number, number][] = [
    [write.gdtr, VmcsField.GUEST_GDTR_BASE, VmcsField.GUEST_GDTR_LIMIT],
    [write.idtr, VmcsField.GUEST_IDTR_BASE, VmcsField.GUEST_IDTR_LIMIT],
  ]
  for (const [table, base, limit] of tables) {
    if (table !== undefined) out.push([base, table.base], [limit, BigInt(table.limit)])
  }
  for (const [name, field] of SCALARS) {
    const value = write[name]
    if (typeof value === 'bigint') out.push([field, value])
  }
  return out
}
