; triple.asm: loads an IDT whose #PF gate is not present, then touches memory outside the
; identity map: #PF → #DF (no gate either) → triple fault.
%include "vtl-guest.asm"
bits 64
org 0x100000

start:
    lidt [idtr]
    mov rax, 0x4000000000                   ; 256 GiB: no page table maps it
    mov rax, [rax]
    VTL_EXIT 0xbad

idtr:
    dw 16 * 32 - 1
    dq idt
align 16
idt:
    times 32 dq 0, 0
