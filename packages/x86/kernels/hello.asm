; hello.asm: prints over the debug console and ends with exit code 0.
%include "vtl-guest.asm"
bits 64
org 0x100000

start:
    VTL_PUTS message
    VTL_EXIT 0

message: db "hello from VTL0", 10, 0
