; vtl-call/vtl0.asm: VTL0 enables VTL1 on the partition and on its VP (VTL1 starts at 0x400000),
; calls into VTL1 twice and exits 0; a failed hypercall exits with its status.
%include "vtl-guest.asm"
bits 64
org 0x100000

INPUT equ 0x200000

start:
    VTL_PUTS hello
    mov rdi, INPUT                          ; HvCallEnablePartitionVtl
    mov qword [rdi], -1                     ; target_partition_id: self
    mov qword [rdi + 8], 1                  ; target_vtl 1, flags 0
    HV_HYPERCALL HvCallEnablePartitionVtl, INPUT, 0
    HV_CHECK fail
    mov rdi, INPUT                          ; HvCallEnableVpVtl
    mov qword [rdi], -1
    mov dword [rdi + 8], 0                  ; vp_index 0
    mov dword [rdi + 12], 1                 ; target_vtl 1
    lea rdi, [rdi + 16]
    VTL_INITIAL_CONTEXT rdi, 0x400000, 0x500000
    HV_HYPERCALL HvCallEnableVpVtl, INPUT, 0
    HV_CHECK fail
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
