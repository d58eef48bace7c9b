; cr-msr-intercept/vtl1.asm: VTL1 (HVCI-like) takes SINT0's interrupt through its IDT, maps its
; SIMP page, and sets CrInterceptControl to guard CR0 writes that change WP and LSTAR writes.
; For each intercept message it names the register, then moves VTL0's RIP past the instruction
; (RIP + instruction length from the message, through SetVpRegisters on VTL0), frees the slot and
; returns: the write never happens.
%include "vtl-guest.asm"
bits 64
org 0x400000

INPUT equ 0x600000
SIMP equ 0x700000
IDT equ 0x410000
SINT0_VECTOR equ 0x31
CR0_WP equ 0x10000
CR_INTERCEPT_CR0_WRITE equ 1 << 0
CR_INTERCEPT_MSR_LSTAR_WRITE equ 1 << 6

entry:
    VTL_IDT_GATE IDT, SINT0_VECTOR, sint0
    VTL_LOAD_IDT IDT, 256 * 16 - 1
    sti
    HV_SET_VP_REGISTER INPUT, 0, HvRegisterSint0, SINT0_VECTOR
    HV_CHECK fail
    HV_SET_VP_REGISTER INPUT, 0, HvRegisterSimp, SIMP | 1
    HV_CHECK fail
    HV_SET_VP_REGISTER INPUT, 0, HvRegisterCrInterceptCr0Mask, CR0_WP
    HV_CHECK fail
    HV_SET_VP_REGISTER INPUT, 0, HvRegisterCrInterceptControl, CR_INTERCEPT_CR0_WRITE | CR_INTERCEPT_MSR_LSTAR_WRITE
    HV_CHECK fail
    VTL_PUTS armed
next:
    VTL_RETURN 1
    mov eax, [SIMP + HV_MESSAGE_TYPE]
    cmp eax, HvMessageTypeRegisterIntercept
    je cr
    cmp eax, HvMessageTypeMsrIntercept
    je msr
    VTL_EXIT 0x1bad
cr:
    VTL_PUTS cr_msg
    jmp skip
msr:
    VTL_PUTS msr_msg
skip:                                       ; VTL0's RIP past the instruction it tried
    movzx ebx, byte [SIMP + HV_INTERCEPT_LENGTH]
    and ebx, 0xf
    add rbx, [SIMP + HV_INTERCEPT_RIP]
    mov dword [SIMP + HV_MESSAGE_TYPE], HvMessageTypeNone
    HV_SET_VP_REGISTER INPUT, HV_INPUT_VTL(0), HvRegisterRip, rbx
    HV_CHECK fail
    jmp next
fail:
    and eax, 0xffff
    or eax, 0x100
    out VTL_PORT_EXIT, eax

sint0:
    push rax
    push rcx
    push rdx
    VTL_EOI
    pop rdx
    pop rcx
    pop rax
    iretq

armed:   db "V1 armed ", 0
cr_msg:  db "V1 denies CR0 ", 0
msr_msg: db "V1 denies LSTAR ", 0
