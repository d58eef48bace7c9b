/*
 * vtl-start.S: entry point of a C guest. The loader enters at the image's first byte in long
 * mode with a stack (the scenario's entry.rsp); this clears .bss, calls vtl_main() and ends the
 * run with its return value on port 0xF4.
 */
    .section .text.start, "ax"
    .globl _start
    .code64
_start:
    cld
    lea __bss_start(%rip), %rdi
    lea __bss_end(%rip), %rcx
    sub %rdi, %rcx
    xor %eax, %eax
    rep stosb
    and $-16, %rsp
    call vtl_main
    mov $0xF4, %dx
    out %eax, %dx
1:  hlt
    jmp 1b

    .section .note.GNU-stack, "", @progbits
