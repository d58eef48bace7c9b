; gpa-intercept/vtl0.asm: VTL0 enables VTL1 and calls it once (VTL1 takes VTL0's write access to
; the page at 0x300000), then writes that page: the write exits to the paravisor, becomes a GPA
; intercept message in VTL1's SIMP page, VTL1 gives the access back and returns, and the write
; completes. Exit 0; a failed hypercall exits with its status, a lost write with 0xbad.
%include "vtl-guest.asm"
bits 64
org 0x100000

INPUT equ 0x200000
PROTECTED equ 0x300000

start:
    VTL_PUTS hello
    HV_ENABLE_VTL1 INPUT, 0, 0x400000, 0x500000, fail
    VTL_CALL
    VTL_PUTS writing
    ; An immediate: the GPRs are shared with VTL1, which uses them while it handles the intercept.
    mov qword [PROTECTED + 0x10], 0x1234
    cmp qword [PROTECTED + 0x10], 0x1234
    jne lost
    VTL_PUTS done
    VTL_EXIT 0
lost:
    VTL_EXIT 0xbad
fail:
    and eax, 0xffff
    out VTL_PORT_EXIT, eax

hello:   db "V0 ", 0
writing: db "write ", 0
done:    db " OK", 0
