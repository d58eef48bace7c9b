// Numbers from libunicorn 2.0.x's public headers (unicorn/unicorn.h, unicorn/x86.h).

export const UC_ARCH_X86 = 4
export const UC_MODE_64 = 1 << 3

/** `uc_prot`: the protections of a mapping. */
export const UcProt = { NONE: 0, READ: 1, WRITE: 2, EXEC: 4, ALL: 7 } as const

/** `uc_hook_type` bits. */
export const UcHook = {
  INTR: 1 << 0,
  INSN: 1 << 1,
  CODE: 1 << 2,
  BLOCK: 1 << 3,
  MEM_READ_UNMAPPED: 1 << 4,
  MEM_WRITE_UNMAPPED: 1 << 5,
  MEM_FETCH_UNMAPPED: 1 << 6,
  MEM_READ_PROT: 1 << 7,
  MEM_WRITE_PROT: 1 << 8,
  MEM_FETCH_PROT: 1 << 9,
  INSN_INVALID: 1 << 14,
} as const

/** Every unmapped and protection event: what `addMemFaultHook` listens to. */
export const UC_HOOK_MEM_INVALID = 0x3f0

/** `uc_mem_type` as a memory-fault hook receives it. */
export const UcMemType = {
  READ_UNMAPPED: 19,
  WRITE_UNMAPPED: 20,
  FETCH_UNMAPPED: 21,
  WRITE_PROT: 22,
  READ_PROT: 23,
  FETCH_PROT: 24,
} as const

/** `uc_control_type`, and the `UC_CTL(type, nr, rw)` encoding. */
export const UC_CTL_CPU_MODEL = 7
export const UC_CTL_TB_FLUSH = 10
export function ucCtlWrite(type: number, args: number): number {
  return type | (args << 26) | (1 << 30)
}

/** `uc_x86_reg` ids the backing uses. */
export const X86Reg = {
  RAX: 35,
  RBX: 37,
  RCX: 38,
  RDX: 40,
  RSI: 43,
  RDI: 39,
  RBP: 36,
  RSP: 44,
  R8: 106,
  R9: 107,
  R10: 108,
  R11: 109,
  R12: 110,
  R13: 111,
  R14: 112,
  R15: 113,
  RIP: 41,
  RFLAGS: 253,
  CR0: 50,
  CR2: 52,
  CR3: 53,
  CR4: 54,
  CR8: 58,
  DR0: 66,
  DR7: 73,
  CS: 11,
  DS: 17,
  ES: 28,
  FS: 32,
  GS: 33,
  SS: 49,
  XMM0: 122,
  IDTR: 242,
  GDTR: 243,
  LDTR: 244,
  TR: 245,
  FPCW: 246,
  MSR: 248,
  MXCSR: 249,
  FS_BASE: 250,
  GS_BASE: 251,
} as const

/** `uc_x86_mmr` (24 bytes): selector u16 @0, base u64 @8, limit u32 @16, flags u32 @20. */
export const X86_MMR_SIZE = 24
/** `uc_x86_msr` (16 bytes): rid u32 @0, value u64 @8. */
export const X86_MSR_SIZE = 16
