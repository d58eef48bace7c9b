; vina/vtl1.asm: VTL1 maps its VP assist page, enables VINA (HvRegisterVsmVina: vector 0xF0,
; enabled, auto-reset) and halts with interrupts on. A VTL0 interrupt that waits while VTL1 runs
; sends it the VINA vector: its handler reports vina_status from the assist page, and VTL1
; returns to VTL0.
%include "vtl-guest.asm"
bits 64
org 0x400000

INPUT equ 0x600000
ASSIST equ 0x710000
IDT equ 0x410000
VINA_VECTOR equ 0xF0
HvRegisterVsmVina equ 0x000D0005
HvRegisterVpAssistPage equ 0x00090013

entry:
    VTL_IDT_GATE IDT, VINA_VECTOR, vina
    VTL_LOAD_IDT IDT, 256 * 16 - 1
    HV_SET_VP_REGISTER INPUT, 0, HvRegisterVpAssistPage, ASSIST | 1
    HV_CHECK fail
    HV_SET_VP_REGISTER INPUT, 0, HvRegisterVsmVina, VINA_VECTOR | (1 << 8) | (1 << 9)
    HV_CHECK fail
    VTL_PUTS waits
    sti
    hlt                                     ; until the VINA vector arrives
    VTL_PUTS status
    movzx ebx, byte [ASSIST + HV_VP_ASSIST_VINA_STATUS]
    add bl, '0'
    VTL_PUTC bl
    VTL_PUTC ' '
    VTL_RETURN 1
    VTL_EXIT 0x1bad
fail:
    and eax, 0xffff
    or eax, 0x100
    out VTL_PORT_EXIT, eax

vina:
    push rax
    push rcx
    push rdx
    push rsi
    VTL_PUTS vina_msg
    VTL_EOI
    pop rsi
    pop rdx
    pop rcx
    pop rax
    iretq

waits:    db "V1 waits ", 0
vina_msg: db "V1 VINA ", 0
status:   db "vina_status=", 0
