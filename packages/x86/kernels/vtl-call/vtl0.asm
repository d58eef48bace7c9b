; vtl-call/vtl0.asm: VTL0 enables VTL1 on the partition and on its VP (VTL1 starts at 0x400000),
; calls into VTL1 twice and exits 0; a failed hypercall exits with its status.
%include "vtl-guest.asm"
bits 64
org 0x100000

INPUT equ 0x200000

start:
    VTL_PUTS hello
    HV_ENABLE_VTL1 INPUT, 0, 0x400000, 0x500000, fail
    VTL_CALL
    VTL_PUTS back
    VTL_CALL
    VTL_PUTS done
    VTL_EXIT 0
fail:
    and eax, 0xffff
    out VTL_PORT_EXIT, eax

hello: db "V0 ", 0
back:  db "back ", 0
done:  db "OK", 0
