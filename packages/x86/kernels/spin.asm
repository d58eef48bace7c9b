; spin.asm: counts forever; the run ends at its instruction limit.
%include "vtl-guest.asm"
bits 64
org 0x100000

start:
    xor eax, eax
.loop:
    inc rax
    jmp .loop
