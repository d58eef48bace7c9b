import { VtlError } from '../errors/vtl-error.js'
import { nameIndex } from '../internal/name-index.js'

/**
 * `HvRegisterName` values (u32) for Get/SetVpRegisters, named as the TLFS names them without the
 * `HvRegister` / `HvX64Register` prefix. Numbers from microsoft/openvmm `vm/hv1/hvdef/src/lib.rs`
 * (`HvX64RegisterName`, `HvAllArchRegisterName`) and, for the CR intercept registers that hvdef
 * at the version read does not list, the TLFS header `HV_REGISTER_NAME` (abi.md §4.5).
 */
export const HvRegisterName = {
  // Pending events and interrupt state.
  PendingInterruption: 0x0001_0002,
  InterruptState: 0x0001_0003,
  /** VTL1 queues an exception for VTL0 (vsm-on-tdx.md §7.4). */
  PendingEvent0: 0x0001_0004,
  PendingEvent1: 0x0001_0005,

  // x64 general-purpose registers.
  Rax: 0x0002_0000,
  Rcx: 0x0002_0001,
  Rdx: 0x0002_0002,
  Rbx: 0x0002_0003,
  Rsp: 0x0002_0004,
  Rbp: 0x0002_0005,
  Rsi: 0x0002_0006,
  Rdi: 0x0002_0007,
  R8: 0x0002_0008,
  R9: 0x0002_0009,
  R10: 0x0002_000a,
  R11: 0x0002_000b,
  R12: 0x0002_000c,
  R13: 0x0002_000d,
  R14: 0x0002_000e,
  R15: 0x0002_000f,
  Rip: 0x0002_0010,
  Rflags: 0x0002_0011,

  // Control registers.
  Cr0: 0x0004_0000,
  Cr2: 0x0004_0001,
  Cr3: 0x0004_0002,
  Cr4: 0x0004_0003,
  Cr8: 0x0004_0004,
  /** XCR0. */
  Xfem: 0x0004_0005,

  // Debug registers.
  Dr0: 0x0005_0000,
  Dr1: 0x0005_0001,
  Dr2: 0x0005_0002,
  Dr3: 0x0005_0003,
  Dr6: 0x0005_0004,
  Dr7: 0x0005_0005,

  // Segment registers (value: `SegmentRegister` layout).
  Es: 0x0006_0000,
  Cs: 0x0006_0001,
  Ss: 0x0006_0002,
  Ds: 0x0006_0003,
  Fs: 0x0006_0004,
  Gs: 0x0006_0005,
  Ldtr: 0x0006_0006,
  Tr: 0x0006_0007,

  // Table registers (value: `TableRegister` layout).
  Idtr: 0x0007_0000,
  Gdtr: 0x0007_0001,

  // Virtualised MSRs.
  Tsc: 0x0008_0000,
  Efer: 0x0008_0001,
  KernelGsBase: 0x0008_0002,
  ApicBase: 0x0008_0003,
  Pat: 0x0008_0004,
  SysenterCs: 0x0008_0005,
  SysenterEip: 0x0008_0006,
  SysenterEsp: 0x0008_0007,
  Star: 0x0008_0008,
  Lstar: 0x0008_0009,
  Cstar: 0x0008_000a,
  Sfmask: 0x0008_000b,
  InitialApicId: 0x0008_000c,
  TscAux: 0x0008_007b,
  Bndcfgs: 0x0008_007c,
  DebugCtl: 0x0008_007d,
  SpecCtrl: 0x0008_0084,
  Xss: 0x0008_008b,
  UCet: 0x0008_008c,
  SCet: 0x0008_008d,
  Ssp: 0x0008_008e,
  Pl0Ssp: 0x0008_008f,
  Pl1Ssp: 0x0008_0090,
  Pl2Ssp: 0x0008_0091,
  Pl3Ssp: 0x0008_0092,
  InterruptSspTableAddr: 0x0008_0093,

  // Hypervisor-defined registers.
  Hypercall: 0x0009_0001,
  GuestOsId: 0x0009_0002,
  VpIndex: 0x0009_0003,
  TimeRefCount: 0x0009_0004,
  VpAssistPage: 0x0009_0013,
  ReferenceTsc: 0x0009_0017,
  RegisterPage: 0x0009_001c,
  SevControl: 0x0009_0040,

  // SynIC (one set per VTL).
  Sint0: 0x000a_0000,
  Sint1: 0x000a_0001,
  Sint2: 0x000a_0002,
  Sint3: 0x000a_0003,
  Sint4: 0x000a_0004,
  Sint5: 0x000a_0005,
  Sint6: 0x000a_0006,
  Sint7: 0x000a_0007,
  Sint8: 0x000a_0008,
  Sint9: 0x000a_0009,
  Sint10: 0x000a_000a,
  Sint11: 0x000a_000b,
  Sint12: 0x000a_000c,
  Sint13: 0x000a_000d,
  Sint14: 0x000a_000e,
  Sint15: 0x000a_000f,
  Scontrol: 0x000a_0010,
  Sversion: 0x000a_0011,
  /** hvdef spells it `Sifp`. */
  Siefp: 0x000a_0012,
  /** hvdef spells it `Sipp`. */
  Simp: 0x000a_0013,
  Eom: 0x000a_0014,
  Sirbp: 0x000a_0015,

  // VSM (vsm-on-tdx.md §8).
  VsmCodePageOffsets: 0x000d_0002,
  VsmVpStatus: 0x000d_0003,
  VsmPartitionStatus: 0x000d_0004,
  VsmVina: 0x000d_0005,
  VsmCapabilities: 0x000d_0006,
  VsmPartitionConfig: 0x000d_0007,
  GuestVsmPartitionConfig: 0x000d_0008,
  VsmVpSecureConfigVtl0: 0x000d_0010,
  VsmVpSecureConfigVtl1: 0x000d_0011,
  VsmVpSecureConfigVtl2: 0x000d_0012,
  VsmVpSecureConfigVtl3: 0x000d_0013,
  VsmVpSecureConfigVtl4: 0x000d_0014,
  VsmVpSecureConfigVtl5: 0x000d_0015,
  VsmVpSecureConfigVtl6: 0x000d_0016,
  VsmVpSecureConfigVtl7: 0x000d_0017,
  VsmVpSecureConfigVtl8: 0x000d_0018,
  VsmVpSecureConfigVtl9: 0x000d_0019,
  VsmVpSecureConfigVtl10: 0x000d_001a,
  VsmVpSecureConfigVtl11: 0x000d_001b,
  VsmVpSecureConfigVtl12: 0x000d_001c,
  VsmVpSecureConfigVtl13: 0x000d_001d,
  VsmVpSecureConfigVtl14: 0x000d_001e,
  VsmVpWaitForTlbLock: 0x000d_0020,

  // Secure intercept control (VTL1 only).
  CrInterceptControl: 0x000e_0000,
  CrInterceptCr0Mask: 0x000e_0001,
  CrInterceptCr4Mask: 0x000e_0002,
  CrInterceptIa32MiscEnableMask: 0x000e_0003,
} as const

export type HvRegisterNameKey = keyof typeof HvRegisterName

/** Other spellings accepted on input: hvdef's SynIC names and the short mask names. */
export const HV_REGISTER_NAME_ALIASES: Readonly<Record<string, HvRegisterNameKey>> = {
  Sipp: 'Simp',
  Sifp: 'Siefp',
  Cr0Mask: 'CrInterceptCr0Mask',
  Cr4Mask: 'CrInterceptCr4Mask',
  Ia32MiscEnableMask: 'CrInterceptIa32MiscEnableMask',
  MiscEnableMask: 'CrInterceptIa32MiscEnableMask',
  Xcr0: 'Xfem',
}

/** `VsmVpSecureConfigVtlN` = 0x000D0010 + N, N in 0..14. */
export function vsmVpSecureConfigRegister(vtl: number): number {
  if (!Number.isInteger(vtl) || vtl < 0 || vtl > 14) {
    throw new VtlError('E_FIELD_RANGE', `VsmVpSecureConfigVtlN: N must be 0..14, got ${vtl}`, {
      field: 'vtl',
    })
  }
  return HvRegisterName.VsmVpSecureConfigVtl0 + vtl
}

/** `SintN` = 0x000A0000 + N, N in 0..15. */
export function sintRegister(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index > 15) {
    throw new VtlError('E_FIELD_RANGE', `SintN: N must be 0..15, got ${index}`, { field: 'sint' })
  }
  return HvRegisterName.Sint0 + index
}

const keys = Object.keys(HvRegisterName) as HvRegisterNameKey[]
const registers = nameIndex(HvRegisterName)
const keyByLowerName = new Map<string, HvRegisterNameKey>([
  ...keys.map((k): [string, HvRegisterNameKey] => [k.toLowerCase(), k]),
  ...Object.entries(HV_REGISTER_NAME_ALIASES).map(([alias, k]): [string, HvRegisterNameKey] => [
    alias.toLowerCase(),
    k,
  ]),
])

/** The canonical name of a register number, or `undefined` if the table does not list it. */
export function registerName(value: number): HvRegisterNameKey | undefined {
  return registers.nameOf(value)
}

/**
 * Case-insensitive lookup of a name or alias (`simp`, `Sipp`, `RIP`), also with the TLFS prefixes
 * `HvRegister`, `HvX64Register` or `HvX64RegisterCrIntercept` written out.
 */
export function registerNumberFromName(name: string): number | undefined {
  const lower = name.toLowerCase()
  const key =
    keyByLowerName.get(lower) ??
    keyByLowerName.get(stripPrefix(lower, 'hvx64register')) ??
    keyByLowerName.get(stripPrefix(lower, 'hvregister'))
  return key === undefined ? undefined : HvRegisterName[key]
}

/** Like `registerNumberFromName`, but throws `E_UNKNOWN_NAME` for a name that is not listed. */
export function parseRegisterName(name: string): number {
  const value = registerNumberFromName(name)
  if (value === undefined) {
    throw new VtlError('E_UNKNOWN_NAME', `unknown register name '${name}'`, { field: 'name' })
  }
  return value
}

/** Canonical name for a listed register, `0x000A0013`-style hex otherwise. */
export function formatRegisterName(value: number): string {
  return registerName(value) ?? `0x${value.toString(16).padStart(8, '0')}`
}

function stripPrefix(lower: string, prefix: string): string {
  return lower.startsWith(prefix) ? lower.slice(prefix.length) : lower
}
