; start-vp/vtl0.asm: a two-VP boot. VP 0 (the BSP) starts VP 1 with HvCallStartVirtualProcessor
; in VTL0 at `ap` with its own stack, and exits 0. VP 1 then runs `ap`: it reads its stack
; pointer to show it got its own context, and exits 0x41. A failed hypercall exits with its
; status.
%include "vtl-guest.asm"
bits 64
org 0x100000

INPUT equ 0x200000
AP_STACK equ 0x90000

bsp:
    VTL_PUTS hello
    mov rdi, INPUT
    mov qword [rdi], -1                     ; partition: self
    mov dword [rdi + 8], 1                  ; vp_index 1
    mov dword [rdi + 12], 0                 ; target_vtl 0
    add rdi, 16
    VTL_INITIAL_CONTEXT rdi, ap, AP_STACK
    HV_HYPERCALL HvCallStartVirtualProcessor, INPUT, 0
    HV_CHECK fail
    VTL_PUTS started
    VTL_EXIT 0
fail:
    and eax, 0xffff
    out VTL_PORT_EXIT, eax

ap:
    VTL_PUTS ap_hello
    mov rbx, rsp
    VTL_PUTHEX rbx
    VTL_EXIT 0x41

hello:    db "BSP ", 0
started:  db "started VP 1", 0
ap_hello: db "AP rsp=", 0
