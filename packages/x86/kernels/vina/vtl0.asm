; vina/vtl0.asm: VTL0 takes vector 0x41 through its IDT (interrupts on), enables VTL1 and calls
; it. VTL1 waits; the scenario asserts 0x41 for VTL0 meanwhile. When VTL1 returns, VTL0's handler
; runs first, then VTL0 exits 0. A failed hypercall exits with its status.
%include "vtl-guest.asm"
bits 64
org 0x100000

INPUT equ 0x200000
IDT equ 0x210000

start:
    VTL_IDT_GATE IDT, 0x41, irq
    VTL_LOAD_IDT IDT, 256 * 16 - 1
    sti
    VTL_PUTS hello
    HV_ENABLE_VTL1 INPUT, 0, 0x400000, 0x500000, fail
    VTL_CALL
    VTL_PUTS back
    VTL_EXIT 0
fail:
    and eax, 0xffff
    out VTL_PORT_EXIT, eax

irq:
    push rax
    push rcx
    push rdx
    push rsi
    VTL_PUTS irq_msg
    VTL_EOI
    pop rsi
    pop rdx
    pop rcx
    pop rax
    iretq

hello:   db "V0 ", 0
back:    db "V0 back", 0
irq_msg: db "V0 irq 0x41 ", 0
