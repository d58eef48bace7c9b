; vmcall.asm: ModifyVtlProtectionMask with one GPA page number, from an input page at 0x200000;
; ends with the hypercall's status as the exit code.
%include "vtl-guest.asm"
bits 64
org 0x100000

INPUT equ 0x200000

start:
    mov rdi, INPUT
    mov qword [rdi], -1                     ; target_partition_id: HV_PARTITION_ID_SELF
    mov dword [rdi + 8], 1                  ; map_flags: HV_MAP_GPA_READABLE
    mov byte [rdi + 12], 0                  ; target_vtl: the caller's
    mov qword [rdi + 16], 0x300             ; gpa_page_list[0]
    HV_HYPERCALL HvCallModifyVtlProtectionMask | HV_REP_COUNT(1), INPUT, 0
    and eax, 0xffff
    out VTL_PORT_EXIT, eax
