; ept.asm: reads, then writes, the page at 0x200000; the test forbids VTL0 the write, so the
; write at 0x100040 exits with an EPT violation for GPA 0x200ff8.
%include "vtl-guest.asm"
bits 64
org 0x100000

start:
    mov rax, [0x200ff8]
    mov rbx, 0x5a5a5a5a
    times 0x40 - ($ - $$) nop
write:                                      ; 0x100040
    mov [0x200ff8], rbx
    VTL_EXIT 0
