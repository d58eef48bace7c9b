/**
 * The hypercall page (TLFS §3.13; `hv1_emulator` `hv.rs`): `HV_X64_MSR_HYPERCALL` of a VTL maps
 * it at a guest page, which the paravisor fills with its calling stubs. The stubs sit at the
 * offsets `HvRegisterVsmCodePageOffsets` reports, and the rest of the page is INT3 so that a jump
 * anywhere else traps.
 */
export const HV_X64_MSR_HYPERCALL = 0x4000_0001

/** `HvMsrHypercallContents`: enable (bit 0), locked (bit 1), reserved (11:2), GPN (63:12). */
export const HypercallMsrBits = {
  enable: 1n,
  locked: 2n,
  reserved: 0xffcn,
  gpn: ~0xfffn & 0xffff_ffff_ffff_ffffn,
} as const

/** What the rest of the page holds: INT3. */
export const HYPERCALL_PAGE_FILL = 0xcc

/** VMCALL on Intel (the TDX L2's hypercall instruction). */
const VMCALL = [0x0f, 0x01, 0xc1] as const
/** `mov ecx, eax` / `mov rax, rcx` then `mov eax|ecx, imm32` of a VTL call (0x11) or return (0x12). */
const stub32 = (code: number): number[] => [0x89, 0xc1, 0xb8, code, 0, 0, 0, ...VMCALL, 0xc3]
const stub64 = (code: number): number[] => [0x48, 0x89, 0xc8, 0xb9, code, 0, 0, 0, ...VMCALL, 0xc3]

/**
 * The stubs at the start of the page (50 bytes): the normal entry (`vmcall; ret`) at 0, then the
 * 32-bit VTL call at 0x04, the 64-bit VTL call at 0x0f, the 32-bit VTL return at 0x1b and the
 * 64-bit VTL return at 0x26 (`VSM_CODE_PAGE_OFFSETS_X86`/`_X64`).
 */
export const HYPERCALL_PAGE_CODE: readonly number[] = [
  ...VMCALL,
  0xc3,
  ...stub32(0x11),
  ...stub64(0x11),
  ...stub32(0x12),
  ...stub64(0x12),
]

/** The whole 4 KiB page as the paravisor writes it when the page is mapped. */
export function hypercallPageBytes(): Uint8Array {
  const page = new Uint8Array(4096).fill(HYPERCALL_PAGE_FILL)
  page.set(HYPERCALL_PAGE_CODE)
  return page
}
