; cr-msr-intercept/vtl0.asm: VTL0 enables VTL1 and calls it once (VTL1 locks CR0.WP and LSTAR),
; then tries to clear CR0.WP and to write LSTAR. Both arrive at VTL1 as intercept messages; VTL1
; skips the instructions, so CR0.WP stays set and LSTAR stays 0. STAR, which VTL1 does not guard,
; is written. Exit 0; a changed register exits 0xbad, a failed hypercall with its status.
%include "vtl-guest.asm"
bits 64
org 0x100000

INPUT equ 0x200000
MSR_STAR equ 0xC0000081
MSR_LSTAR equ 0xC0000082

start:
    VTL_PUTS hello
    HV_ENABLE_VTL1 INPUT, 0, 0x400000, 0x500000, fail
    VTL_CALL
    mov rax, cr0
    btr rax, 16                             ; CR0.WP
    mov cr0, rax                            ; intercepted: VTL1 skips it
    mov rax, cr0
    bt rax, 16
    jnc changed
    VTL_PUTS wp
    mov ecx, MSR_LSTAR
    mov eax, 0x1000
    mov edx, 0xfffff800
    wrmsr                                   ; intercepted: VTL1 skips it
    mov ecx, MSR_LSTAR
    rdmsr
    or eax, edx
    jnz changed
    VTL_PUTS lstar
    mov ecx, MSR_STAR
    mov eax, 0
    mov edx, 0x00230010
    wrmsr                                   ; not guarded: written
    mov ecx, MSR_STAR
    rdmsr
    cmp edx, 0x00230010
    jne changed
    VTL_PUTS star
    VTL_EXIT 0
changed:
    VTL_EXIT 0xbad
fail:
    and eax, 0xffff
    out VTL_PORT_EXIT, eax

hello: db "V0 ", 0
wp:    db "WP kept ", 0
lstar: db "LSTAR kept ", 0
star:  db "STAR written", 0
