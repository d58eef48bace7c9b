/**
 * The 16 general-purpose registers in the x86 encoding order (ModRM/REX, and the GPR numbers of
 * VMX exit qualifications): 0 = RAX … 15 = R15.
 */
export const GPR_NAMES = [
  'rax',
  'rcx',
  'rdx',
  'rbx',
  'rsp',
  'rbp',
  'rsi',
  'rdi',
  'r8',
  'r9',
  'r10',
  'r11',
  'r12',
  'r13',
  'r14',
  'r15',
] as const
export type GprName = (typeof GPR_NAMES)[number]
