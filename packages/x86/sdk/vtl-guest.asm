; vtl-guest.asm: the @vtl/x86 guest SDK for nasm (flat 64-bit images), an include file.
;
; A guest starts in 64-bit long mode at CPL 0 with IF = 0, flat segments (CS 0x08, data 0x10),
; paging on over an identity map of all RAM. Hypercalls follow the TLFS x64 convention: VMCALL
; with RCX = control word, RDX = input GPA, R8 = output GPA, status in RAX.
;
;   %include "vtl-guest.asm"
;   bits 64
;   org 0x100000
;   start:  VTL_PUTS hello
;           VTL_EXIT 0
;   hello:  db "hello", 10, 0

%ifndef VTL_GUEST_ASM
%define VTL_GUEST_ASM

; Debug ports: OUT to 0xE9 appends a byte to the VP's console; a 32-bit OUT to 0xF4 ends the
; run with that exit code.
%define VTL_PORT_CONSOLE 0xE9
%define VTL_PORT_EXIT 0xF4

; Hypercall call codes (control word bits 15:0) and flags.
%define HvCallModifyVtlProtectionMask 0x000C
%define HvCallEnablePartitionVtl 0x000D
%define HvCallEnableVpVtl 0x000F
%define HvCallVtlCall 0x0011
%define HvCallVtlReturn 0x0012
%define HvCallGetVpRegisters 0x0050
%define HvCallSetVpRegisters 0x0051
%define HvCallPostMessage 0x005C
%define HvCallStartVirtualProcessor 0x0099
%define HV_HYPERCALL_FAST (1 << 16)
%define HV_REP_COUNT(n) ((n) << 32)

; Synthetic MSRs.
%define HV_X64_MSR_GUEST_OS_ID 0x40000000
%define HV_X64_MSR_HYPERCALL 0x40000001
%define HV_X64_MSR_VP_INDEX 0x40000002
%define HV_X64_MSR_VP_ASSIST_PAGE 0x40000073
%define HV_X64_MSR_SCONTROL 0x40000080
%define HV_X64_MSR_SIEFP 0x40000082
%define HV_X64_MSR_SIMP 0x40000083
%define HV_X64_MSR_SINT0 0x40000090

; HvVpAssistPage: the VTL-control block.
%define HV_VP_ASSIST_VTL_ENTRY_REASON 8
%define HV_VP_ASSIST_VINA_STATUS 12
%define HV_VP_ASSIST_VTL_RETURN_RAX 16
%define HV_VP_ASSIST_VTL_RETURN_RCX 24
%define HV_VP_ASSIST_INTERCEPT_MESSAGE 112
%define HvVtlEntryReasonVtlCall 1
%define HvVtlEntryReasonInterrupt 2

; HvMessage (256 bytes; the SIMP page holds one per SINT): MessageType u32 @0, PayloadSize u8
; @4, MessageFlags u8 @5, reserved u16 @6, sender u64 @8, payload (240 bytes) @16.
%define HV_MESSAGE_SIZE 256
%define HV_MESSAGE_TYPE 0
%define HV_MESSAGE_PAYLOAD_SIZE 4
%define HV_MESSAGE_FLAGS 5
%define HV_MESSAGE_PAYLOAD 16
%define HvMessageTypeNone 0x00000000
%define HvMessageTypeGpaIntercept 0x80000001

; Hypercall status values (RAX bits 15:0).
%define HV_STATUS_SUCCESS 0x0000
%define HV_STATUS_INVALID_HYPERCALL_CODE 0x0002
%define HV_STATUS_ACCESS_DENIED 0x0006

; HvInitialVpContext offsets (224 bytes; HvX64SegmentRegister: base u64, limit u32, selector
; u16, attributes u16; HvX64TableRegister: pad u16 x3, limit u16, base u64).
%define HV_CONTEXT_RIP 0
%define HV_CONTEXT_RSP 8
%define HV_CONTEXT_RFLAGS 16
%define HV_CONTEXT_CS 24
%define HV_CONTEXT_DS 40
%define HV_CONTEXT_ES 56
%define HV_CONTEXT_FS 72
%define HV_CONTEXT_GS 88
%define HV_CONTEXT_SS 104
%define HV_CONTEXT_TR 120
%define HV_CONTEXT_LDTR 136
%define HV_CONTEXT_IDTR 152
%define HV_CONTEXT_GDTR 168
%define HV_CONTEXT_EFER 184
%define HV_CONTEXT_CR0 192
%define HV_CONTEXT_CR3 200
%define HV_CONTEXT_CR4 208
%define HV_CONTEXT_PAT 216
%define HV_CONTEXT_SIZE 224

; HV_SEGMENT dst, selector, attributes: a flat segment (base 0, limit 4 GiB - 1).
%macro HV_SEGMENT 3
    mov qword [%1], 0
    mov dword [%1 + 8], 0xFFFFFFFF
    mov word [%1 + 12], %2
    mov word [%1 + 14], %3
%endmacro

; VTL_INITIAL_CONTEXT dst, rip, rsp: an HvInitialVpContext at [dst] (a register) for a context
; that runs like the start state: the same GDT (SGDT), page tables (CR3), CR0, CR4 and EFER,
; flat CS 0x08 / data 0x10, IF = 0, no IDT. Clobbers RAX, RCX, RDX.
%macro VTL_INITIAL_CONTEXT 3
    mov rax, %2
    mov [%1 + HV_CONTEXT_RIP], rax
    mov rax, %3
    mov [%1 + HV_CONTEXT_RSP], rax
    mov qword [%1 + HV_CONTEXT_RFLAGS], 2
    HV_SEGMENT %1 + HV_CONTEXT_CS, 0x08, 0xA09B
    HV_SEGMENT %1 + HV_CONTEXT_DS, 0x10, 0xC093
    HV_SEGMENT %1 + HV_CONTEXT_ES, 0x10, 0xC093
    HV_SEGMENT %1 + HV_CONTEXT_FS, 0x10, 0xC093
    HV_SEGMENT %1 + HV_CONTEXT_GS, 0x10, 0xC093
    HV_SEGMENT %1 + HV_CONTEXT_SS, 0x10, 0xC093
    mov qword [%1 + HV_CONTEXT_TR], 0
    mov dword [%1 + HV_CONTEXT_TR + 8], 0x67
    mov word [%1 + HV_CONTEXT_TR + 12], 0x18
    mov word [%1 + HV_CONTEXT_TR + 14], 0x8B
    mov qword [%1 + HV_CONTEXT_LDTR], 0
    mov qword [%1 + HV_CONTEXT_LDTR + 8], 0
    mov word [%1 + HV_CONTEXT_LDTR + 14], 0x82
    mov qword [%1 + HV_CONTEXT_IDTR], 0
    mov qword [%1 + HV_CONTEXT_IDTR + 8], 0
    mov qword [%1 + HV_CONTEXT_GDTR], 0
    sgdt [%1 + HV_CONTEXT_GDTR + 6]
    mov ecx, 0xC0000080
    rdmsr
    mov [%1 + HV_CONTEXT_EFER], eax
    mov [%1 + HV_CONTEXT_EFER + 4], edx
    mov rax, cr0
    mov [%1 + HV_CONTEXT_CR0], rax
    mov rax, cr3
    mov [%1 + HV_CONTEXT_CR3], rax
    mov rax, cr4
    mov [%1 + HV_CONTEXT_CR4], rax
    mov rax, 0x0007040600070406
    mov [%1 + HV_CONTEXT_PAT], rax
%endmacro

; HV_CHECK: jump to %1 unless the hypercall status in RAX[15:0] is HV_STATUS_SUCCESS.
%macro HV_CHECK 1
    test ax, ax
    jnz %1
%endmacro

; HV_HYPERCALL control, input_gpa, output_gpa: a memory hypercall; status in RAX.
; Clobbers RCX, RDX, R8.
%macro HV_HYPERCALL 3
    mov rcx, %1
    mov rdx, %2
    mov r8, %3
    vmcall
%endmacro

; HV_FAST_HYPERCALL control, input0, input1: a fast hypercall (inputs in RDX and R8).
%macro HV_FAST_HYPERCALL 3
    mov rcx, (%1) | HV_HYPERCALL_FAST
    mov rdx, %2
    mov r8, %3
    vmcall
%endmacro

; Register names (HvRegisterName) the kernels use.
%define HvRegisterRip 0x00020010
%define HvRegisterCr0 0x00040000
%define HvRegisterLstar 0x00080009
%define HvRegisterSint0 0x000A0000
%define HvRegisterScontrol 0x000A0010
%define HvRegisterSimp 0x000A0013
%define HvRegisterVsmPartitionConfig 0x000D0007
%define HvRegisterCrInterceptControl 0x000E0000
%define HvRegisterCrInterceptCr0Mask 0x000E0001

; HvMapGpaFlags.
%define HV_MAP_GPA_READABLE (1 << 0)
%define HV_MAP_GPA_WRITABLE (1 << 1)
%define HV_MAP_GPA_KERNEL_EXECUTABLE (1 << 2)
%define HV_MAP_GPA_USER_EXECUTABLE (1 << 3)

; HvInputVtl: bit 4 says bits 3:0 name the target VTL (0: the caller's own VTL).
%define HV_INPUT_VTL(vtl) (0x10 | (vtl))

; Intercept messages in a SIMP slot: HvMessage header (16 bytes), then the payload, which starts
; with HvX64InterceptMessageHeader (vp_index u32 @0, instruction_length u8 @4 (bits 3:0),
; access type u8 @5, execution state u16 @6, CS @8, RIP @24, RFLAGS @32).
%define HvMessageTypeMsrIntercept 0x80010001
%define HvMessageTypeRegisterIntercept 0x80010006
%define HV_INTERCEPT_LENGTH (HV_MESSAGE_PAYLOAD + 4)
%define HV_INTERCEPT_ACCESS (HV_MESSAGE_PAYLOAD + 5)
%define HV_INTERCEPT_RIP (HV_MESSAGE_PAYLOAD + 24)
; HvX64MemoryInterceptMessage: the GPA @56 of the payload.
%define HV_MEMORY_INTERCEPT_GPA (HV_MESSAGE_PAYLOAD + 56)

; HV_SET_VP_REGISTER input_gpa, input_vtl, name, value: HvCallSetVpRegisters of one register of
; this VP (HvRegisterAssoc: name u32 @0, value u128 @16); status in RAX. Clobbers RCX, RDX, R8,
; RDI.
%macro HV_SET_VP_REGISTER 4
    mov rdi, %1
    mov qword [rdi], -1                     ; partition: self
    mov dword [rdi + 8], -2                 ; vp_index: HV_VP_INDEX_SELF
    mov dword [rdi + 12], %2                ; target VTL (HvInputVtl), reserved
    mov dword [rdi + 16], %3
    mov dword [rdi + 20], 0
    mov qword [rdi + 24], 0
    mov rax, %4
    mov [rdi + 32], rax
    mov qword [rdi + 40], 0
    HV_HYPERCALL HvCallSetVpRegisters | HV_REP_COUNT(1), %1, 0
%endmacro

; HV_PROTECT input_gpa, map_flags, gpa: HvCallModifyVtlProtectionMask of one page for the VTLs
; below the caller; status in RAX. Clobbers RCX, RDX, R8, RDI.
%macro HV_PROTECT 3
    mov rdi, %1
    mov qword [rdi], -1
    mov dword [rdi + 8], %2
    mov dword [rdi + 12], 0
    mov qword [rdi + 16], (%3) >> 12
    HV_HYPERCALL HvCallModifyVtlProtectionMask | HV_REP_COUNT(1), %1, 0
%endmacro

; HV_ENABLE_VTL1 input_gpa, vp_index, vtl1_rip, vtl1_rsp: HvCallEnablePartitionVtl (VTL1, no
; flags), then HvCallEnableVpVtl for the VP with a context like the start state. Jumps to %5 with
; the status in RAX when either fails. Clobbers RAX, RCX, RDX, R8, RDI.
%macro HV_ENABLE_VTL1 5
    mov rdi, %1
    mov qword [rdi], -1
    mov qword [rdi + 8], 1                  ; target_vtl 1, flags 0
    HV_HYPERCALL HvCallEnablePartitionVtl, %1, 0
    HV_CHECK %5
    mov rdi, %1
    mov qword [rdi], -1
    mov dword [rdi + 8], %2
    mov dword [rdi + 12], 1                 ; target_vtl 1
    add rdi, 16
    VTL_INITIAL_CONTEXT rdi, %3, %4
    HV_HYPERCALL HvCallEnableVpVtl, %1, 0
    HV_CHECK %5
%endmacro

; x2APIC EOI (MSR 0x80B): a write ends the highest in-service interrupt.
%define X2APIC_MSR_EOI 0x80B

; VTL_IDT_GATE idt, vector, handler: a 64-bit interrupt gate (CS 0x08, DPL 0, no IST) for
; `vector` in the IDT at `idt` (an address). Clobbers RAX, RDI.
%macro VTL_IDT_GATE 3
    mov rdi, (%1) + (%2) * 16
    lea rax, [rel %3]
    mov [rdi], ax
    mov word [rdi + 2], 0x08
    mov word [rdi + 4], 0x8E00
    shr rax, 16
    mov [rdi + 6], ax
    shr rax, 16
    mov [rdi + 8], eax
    mov dword [rdi + 12], 0
%endmacro

; VTL_LOAD_IDT idt, limit: LIDT of the table at `idt` (uses 10 bytes of stack). Clobbers RAX.
%macro VTL_LOAD_IDT 2
    sub rsp, 16
    mov word [rsp], %2
    mov rax, %1
    mov [rsp + 2], rax
    lidt [rsp]
    add rsp, 16
%endmacro

; VTL_EOI: end the interrupt being handled (x2APIC EOI write). Clobbers RAX, RCX, RDX.
%macro VTL_EOI 0
    mov ecx, X2APIC_MSR_EOI
    xor eax, eax
    xor edx, edx
    wrmsr
%endmacro

; VTL_CALL: enter the next higher VTL (VMCALL with RCX = 0x11, input 0 in RAX).
%macro VTL_CALL 0
    xor eax, eax
    mov ecx, HvCallVtlCall
    vmcall
%endmacro

; VTL_RETURN fast: return to the lower VTL (RAX bit 0 = fast: keep RAX/RCX instead of restoring
; them from the VP assist page).
%macro VTL_RETURN 1
    mov eax, %1
    mov ecx, HvCallVtlReturn
    vmcall
%endmacro

; VTL_PUTC byte: one byte to the console. Clobbers AL.
%macro VTL_PUTC 1
    mov al, %1
    out VTL_PORT_CONSOLE, al
%endmacro

; VTL_PUTS label: a NUL-terminated string to the console. Clobbers RSI, AL.
%macro VTL_PUTS 1
    lea rsi, [rel %1]
%%next:
    lodsb
    test al, al
    jz %%done
    out VTL_PORT_CONSOLE, al
    jmp %%next
%%done:
%endmacro

; VTL_PUTHEX reg64: the register as 16 hex digits. Clobbers RAX, RCX, RDX.
%macro VTL_PUTHEX 1
    mov rdx, %1
    mov ecx, 16
%%digit:
    rol rdx, 4
    mov eax, edx
    and eax, 0xF
    add al, '0'
    cmp al, '9'
    jbe %%out
    add al, 'a' - '0' - 10
%%out:
    out VTL_PORT_CONSOLE, al
    dec ecx
    jnz %%digit
%endmacro

; VTL_EXIT code: end the run with this exit code (32-bit OUT to 0xF4).
%macro VTL_EXIT 1
    mov eax, %1
    out VTL_PORT_EXIT, eax
%endmacro

%endif
