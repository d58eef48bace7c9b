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
