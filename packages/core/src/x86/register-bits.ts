/** CR0 bits (Intel SDM vol. 3 §2.5). */
export const Cr0 = {
  PE: 1n << 0n,
  MP: 1n << 1n,
  EM: 1n << 2n,
  TS: 1n << 3n,
  ET: 1n << 4n,
  NE: 1n << 5n,
  WP: 1n << 16n,
  AM: 1n << 18n,
  NW: 1n << 29n,
  CD: 1n << 30n,
  PG: 1n << 31n,
} as const

/** CR0's reserved bits in the low half (`X64_CR0_RSVDZ_MASK`): ignored by MOV to CR0. */
export const CR0_RESERVED_LOW = 0x1ffa_ffc0n
/** CR0 bits 63:32: reserved, a 1 there is #GP (MOV) or InvalidRegisterValue (SetVpRegisters). */
export const CR0_HIGH_HALF = 0xffff_ffff_0000_0000n

/** CR4 bits used by the rules here. */
export const Cr4 = {
  PAE: 1n << 5n,
  LA57: 1n << 12n,
  VMXE: 1n << 13n,
  PCIDE: 1n << 17n,
  SMEP: 1n << 20n,
  CET: 1n << 23n,
} as const

/**
 * CR4 bits a CVM guest may never set (`X64_CR4_INVALID_MASK`): VMXE, SMXE, bit 15, KL, PKE and
 * bits 24–63 (§13.13).
 */
export const CR4_INVALID = 0xffff_ffff_ff48_e000n

/** RFLAGS bits (Intel SDM vol. 1 §3.4.3). */
export const Rflags = {
  TF: 1n << 8n,
  /** Maskable interrupts are taken. */
  IF: 1n << 9n,
  NT: 1n << 14n,
  RF: 1n << 16n,
  VM: 1n << 17n,
} as const

/** EFER bits. */
export const Efer = {
  SCE: 1n << 0n,
  LME: 1n << 8n,
  LMA: 1n << 10n,
  NXE: 1n << 11n,
  SVME: 1n << 12n,
  FFXSR: 1n << 14n,
  TCE: 1n << 15n,
} as const

/**
 * OpenHCL's TDX `write_efer` refuses an EFER with SVME or FFXSR set or NXE clear: the rule for an
 * initial context (§13.11) and for a lower VTL's WRMSR alike.
 */
export function isTdxEfer(efer: bigint): boolean {
  return (efer & (Efer.SVME | Efer.FFXSR)) === 0n && (efer & Efer.NXE) !== 0n
}

/** EFER bits a CVM guest may set (`X64_EFER_VALID_MASK`): SCE LME LMA NXE SVME FFXSR TCE. */
export const EFER_VALID = 0xdd01n

/** IA32_FMASK: only the low 32 bits are defined. */
export const SFMASK_RESERVED = 0xffff_ffff_0000_0000n
/** IA32_PLx_SSP: shadow-stack pointers are 4-byte aligned. */
export const PLX_SSP_RESERVED = 0x3n
/** IA32_XSS bits a CVM accepts at most (`XSS_VALID_MASK`): PASID (10), CET_U (11), CET_S (12). */
export const XSS_VALID = 0x1c00n

/**
 * IA32_PAT: each of the eight entries a valid memory type (0 UC, 1 WC, 4 WT, 5 WP, 6 WB, 7 UC-),
 * the top five bits of each byte zero.
 */
export function isValidPat(pat: bigint): boolean {
  for (let i = 0n; i < 64n; i += 8n) {
    const entry = (pat >> i) & 0xffn
    if (entry > 7n || entry === 2n || entry === 3n) return false
  }
  return true
}
