; gpa-intercept/vtl1.asm: on the first VtlCall VTL1 installs an IDT with SINT0's vector (0x31),
; enables interrupts, turns VTL protections on, unmasks SINT0, maps its SIMP page at 0x700000,
; leaves VTL0 only read access to 0x300000 and returns. It runs again when VTL0's write arrives:
; SINT0's interrupt is taken and ended (EOI), then VTL1 checks the message in SINT0's slot (type,
; access, GPA), prints the GPA, frees the slot, gives VTL0 its access back and returns.
%include "vtl-guest.asm"
bits 64
org 0x400000

INPUT equ 0x600000
SIMP equ 0x700000
PROTECTED equ 0x300000
IDT equ 0x410000
SINT0_VECTOR equ 0x31

entry:
    VTL_IDT_GATE IDT, SINT0_VECTOR, sint0
    VTL_LOAD_IDT IDT, 256 * 16 - 1
    sti
    HV_SET_VP_REGISTER INPUT, 0, HvRegisterVsmPartitionConfig, 0x1f
    HV_CHECK fail
    HV_SET_VP_REGISTER INPUT, 0, HvRegisterSint0, SINT0_VECTOR
    HV_CHECK fail
    HV_SET_VP_REGISTER INPUT, 0, HvRegisterSimp, SIMP | 1
    HV_CHECK fail
    HV_PROTECT INPUT, HV_MAP_GPA_READABLE, PROTECTED
    HV_CHECK fail
    VTL_PUTS armed
    VTL_RETURN 1

intercept:
    cmp dword [SIMP + HV_MESSAGE_TYPE], HvMessageTypeGpaIntercept
    jne wrong
    cmp byte [SIMP + HV_INTERCEPT_ACCESS], 1    ; HV_INTERCEPT_ACCESS_WRITE
    jne wrong
    VTL_PUTS got
    mov rbx, [SIMP + HV_MEMORY_INTERCEPT_GPA]
    VTL_PUTHEX rbx
    mov dword [SIMP + HV_MESSAGE_TYPE], HvMessageTypeNone
    HV_PROTECT INPUT, HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE | HV_MAP_GPA_KERNEL_EXECUTABLE | HV_MAP_GPA_USER_EXECUTABLE, PROTECTED
    HV_CHECK fail
    VTL_RETURN 1
wrong:
    VTL_EXIT 0x1bad

sint0:                                      ; SINT0's interrupt: count it, end it
    push rax
    push rcx
    push rdx
    push rsi
    VTL_PUTS irq
    VTL_EOI
    pop rsi
    pop rdx
    pop rcx
    pop rax
    iretq
fail:
    and eax, 0xffff
    or eax, 0x100
    out VTL_PORT_EXIT, eax

armed: db "V1 armed ", 0
got:   db "V1 got ", 0
irq:   db "SINT0 ", 0
