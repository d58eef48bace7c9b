; vtl-call/vtl1.asm: VTL1 says so on every VtlCall and returns (fast: RAX/RCX as they are).
%include "vtl-guest.asm"
bits 64
org 0x400000

entry:
    VTL_PUTS hello
    VTL_RETURN 1
    jmp entry

hello: db "V1 ", 0
