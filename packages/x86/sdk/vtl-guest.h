/*
 * vtl-guest.h: the @vtl/x86 guest SDK for freestanding C (gcc or clang, -ffreestanding -nostdlib).
 *
 * A guest starts in 64-bit long mode at CPL 0 with IF = 0, flat segments (CS 0x08, data 0x10),
 * paging on over an identity map of all RAM. vtl-start.S calls `int vtl_main(void)` and ends the
 * run with its return value as the exit code. Hypercalls follow the TLFS x64 convention: VMCALL
 * with RCX = control word, RDX = input GPA, R8 = output GPA, status in RAX (GPA = address: the
 * identity map makes them equal).
 */
#ifndef VTL_GUEST_H
#define VTL_GUEST_H

#include <stdarg.h>
#include <stdint.h>

/* Debug ports. */
#define VTL_PORT_CONSOLE 0xE9
#define VTL_PORT_EXIT 0xF4

/* Hypercall call codes (control word bits 15:0) and control fields. */
#define HvCallModifyVtlProtectionMask 0x000C
#define HvCallEnablePartitionVtl 0x000D
#define HvCallEnableVpVtl 0x000F
#define HvCallVtlCall 0x0011
#define HvCallVtlReturn 0x0012
#define HvCallGetVpRegisters 0x0050
#define HvCallSetVpRegisters 0x0051
#define HvCallPostMessage 0x005C
#define HvCallStartVirtualProcessor 0x0099
#define HV_HYPERCALL_FAST (1ull << 16)
#define HV_HYPERCALL_REP_COUNT(n) ((uint64_t)(n) << 32)
#define HV_HYPERCALL_REP_START(n) ((uint64_t)(n) << 48)
#define HV_PARTITION_ID_SELF 0xFFFFFFFFFFFFFFFFull

/* Status (RAX bits 15:0) and reps completed (RAX bits 43:32). */
#define HV_STATUS_SUCCESS 0x0000
#define HV_STATUS_INVALID_HYPERCALL_CODE 0x0002
#define HV_STATUS_INVALID_PARAMETER 0x0005
#define HV_STATUS_ACCESS_DENIED 0x0006
#define HV_STATUS(result) ((uint16_t)(result))
#define HV_REPS_COMPLETED(result) ((uint16_t)(((result) >> 32) & 0xFFF))

/* Synthetic MSRs. */
#define HV_X64_MSR_GUEST_OS_ID 0x40000000u
#define HV_X64_MSR_HYPERCALL 0x40000001u
#define HV_X64_MSR_VP_INDEX 0x40000002u
#define HV_X64_MSR_VP_ASSIST_PAGE 0x40000073u
#define HV_X64_MSR_SCONTROL 0x40000080u
#define HV_X64_MSR_SIEFP 0x40000082u
#define HV_X64_MSR_SIMP 0x40000083u
#define HV_X64_MSR_SINT0 0x40000090u

/* HvMapGpaFlags. */
#define HV_MAP_GPA_READABLE (1u << 0)
#define HV_MAP_GPA_WRITABLE (1u << 1)
#define HV_MAP_GPA_KERNEL_EXECUTABLE (1u << 2)
#define HV_MAP_GPA_USER_EXECUTABLE (1u << 3)

/* HvInputVtl: bits 3:0 target VTL, bit 4 use it (0 = the caller's VTL). */
#define HV_INPUT_VTL(vtl) ((uint8_t)(0x10u | ((vtl) & 0xFu)))

/* HvVtlEntryReason. */
#define HV_VTL_ENTRY_REASON_VTL_CALL 1
#define HV_VTL_ENTRY_REASON_INTERRUPT 2

/* HvMessageType. */
#define HV_MESSAGE_TYPE_NONE 0x00000000u
#define HV_MESSAGE_TYPE_GPA_INTERCEPT 0x80000001u

#define VTL_STATIC_ASSERT(expr) _Static_assert(expr, #expr)

typedef struct hv_message_header {
  uint32_t message_type;
  uint8_t payload_size;
  uint8_t message_flags;
  uint16_t reserved;
  uint64_t sender; /* partition id or port id */
} hv_message_header;

/* HvMessage: 256 bytes; the SIMP page holds one per SINT (16). */
typedef struct hv_message {
  hv_message_header header;
  uint64_t payload[30];
} hv_message;
VTL_STATIC_ASSERT(sizeof(hv_message) == 256);

typedef struct hv_simp_page {
  volatile hv_message sint[16];
} hv_simp_page;
VTL_STATIC_ASSERT(sizeof(hv_simp_page) == 4096);

/* HvVpVtlControl (24 bytes). */
typedef struct hv_vp_vtl_control {
  uint32_t entry_reason;
  uint8_t vina_status;
  uint8_t reserved[3];
  uint64_t registers[2]; /* RAX, RCX restored by a non-fast VtlReturn */
} hv_vp_vtl_control;

/* HvVpAssistPage (4 KiB, one per VTL; MSR 0x40000073). */
typedef struct hv_vp_assist_page {
  uint32_t apic_assist;
  uint32_t reserved0;
  hv_vp_vtl_control vtl_control;                    /* @8 */
  uint64_t nested_enlightenments_control[2];        /* @32 */
  uint8_t enlighten_vm_entry;                       /* @48 */
  uint8_t reserved1[7];
  uint64_t current_nested_vmcs;                     /* @56 */
  uint8_t synthetic_time_unhalted_timer_expired;    /* @64 */
  uint8_t reserved2[7];
  uint8_t virtualization_fault_information[40];     /* @72 */
  hv_message intercept_message;                     /* @112 */
  uint8_t vtl_return_actions[256];                  /* @368 */
  uint8_t reserved3[4096 - 624];
} hv_vp_assist_page;
VTL_STATIC_ASSERT(__builtin_offsetof(hv_vp_assist_page, vtl_control) == 8);
VTL_STATIC_ASSERT(__builtin_offsetof(hv_vp_assist_page, intercept_message) == 112);
VTL_STATIC_ASSERT(__builtin_offsetof(hv_vp_assist_page, vtl_return_actions) == 368);
VTL_STATIC_ASSERT(sizeof(hv_vp_assist_page) == 4096);

/* HvX64SegmentRegister and HvX64TableRegister (16 bytes each). */
typedef struct hv_x64_segment_register {
  uint64_t base;
  uint32_t limit;
  uint16_t selector;
  uint16_t attributes;
} hv_x64_segment_register;

typedef struct hv_x64_table_register {
  uint16_t pad[3];
  uint16_t limit;
  uint64_t base;
} hv_x64_table_register;

/* HvInitialVpContext (224 bytes). */
typedef struct hv_initial_vp_context {
  uint64_t rip, rsp, rflags;
  hv_x64_segment_register cs, ds, es, fs, gs, ss, tr, ldtr;
  hv_x64_table_register idtr, gdtr;
  uint64_t efer, cr0, cr3, cr4, msr_cr_pat;
} hv_initial_vp_context;
VTL_STATIC_ASSERT(sizeof(hv_initial_vp_context) == 224);

/* HvCallEnablePartitionVtl input (16 bytes). */
typedef struct hv_input_enable_partition_vtl {
  uint64_t target_partition_id;
  uint8_t target_vtl;
  uint8_t flags;
  uint16_t reserved_z0;
  uint32_t reserved_z1;
} hv_input_enable_partition_vtl;
VTL_STATIC_ASSERT(sizeof(hv_input_enable_partition_vtl) == 16);

/* HvCallEnableVpVtl input (240 bytes). */
typedef struct hv_input_enable_vp_vtl {
  uint64_t target_partition_id;
  uint32_t vp_index;
  uint8_t target_vtl;
  uint8_t reserved[3];
  hv_initial_vp_context vp_vtl_context;
} hv_input_enable_vp_vtl;
VTL_STATIC_ASSERT(sizeof(hv_input_enable_vp_vtl) == 240);

/* HvCallModifyVtlProtectionMask input header (16 bytes), then rep GPA page numbers. */
typedef struct hv_input_modify_vtl_protection_mask {
  uint64_t target_partition_id;
  uint32_t map_flags;
  uint8_t target_vtl; /* HvInputVtl */
  uint8_t reserved[3];
  uint64_t gpa_page_list[];
} hv_input_modify_vtl_protection_mask;
VTL_STATIC_ASSERT(sizeof(hv_input_modify_vtl_protection_mask) == 16);

/* --- instructions ------------------------------------------------------------------------- */

static inline void vtl_outb(uint16_t port, uint8_t value) {
  __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static inline void vtl_outl(uint16_t port, uint32_t value) {
  __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port));
}

static inline uint8_t vtl_inb(uint16_t port) {
  uint8_t value;
  __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}

static inline uint64_t vtl_rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}

static inline void vtl_wrmsr(uint32_t msr, uint64_t value) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
}

/* A memory hypercall: status in bits 15:0 of the result, reps completed in 43:32. */
static inline uint64_t hv_hypercall(uint64_t control, const void *input, void *output) {
  uint64_t status;
  register uint64_t r8 __asm__("r8") = (uint64_t)(uintptr_t)output;
  __asm__ volatile("vmcall"
                   : "=a"(status), "+c"(control), "+d"(input), "+r"(r8)
                   :
                   : "memory", "r9", "r10", "r11");
  return status;
}

/* A fast hypercall with two register inputs (RDX, R8). */
static inline uint64_t hv_fast_hypercall(uint64_t control, uint64_t input0, uint64_t input1) {
  uint64_t status;
  register uint64_t r8 __asm__("r8") = input1;
  control |= HV_HYPERCALL_FAST;
  __asm__ volatile("vmcall"
                   : "=a"(status), "+c"(control), "+d"(input0), "+r"(r8)
                   :
                   : "memory", "r9", "r10", "r11");
  return status;
}

/*
 * The general registers (all but RSP) are shared with the other VTL, which may change any of
 * them while it runs: the VTL switches below keep the callee-saved ones on this VTL's own stack
 * and tell the compiler every other one is clobbered.
 */
#define VTL_SWITCH_ASM(call)                                                                     \
  "push %%rbx\n\tpush %%rbp\n\tpush %%r12\n\tpush %%r13\n\tpush %%r14\n\tpush %%r15\n\t" call    \
  "\n\tpop %%r15\n\tpop %%r14\n\tpop %%r13\n\tpop %%r12\n\tpop %%rbp\n\tpop %%rbx"
#define VTL_SWITCH_CLOBBERS "memory", "cc", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"

/* VtlCall: enter the next higher VTL; returns when it VtlReturns. */
static inline void vtl_call(void) {
  uint64_t rax = 0, rcx = HvCallVtlCall;
  __asm__ volatile(VTL_SWITCH_ASM("vmcall") : "+a"(rax), "+c"(rcx) : : VTL_SWITCH_CLOBBERS);
}

/*
 * VtlReturn to the lower VTL; fast = 1 keeps RAX/RCX instead of the assist page's values. Returns
 * when the lower VTL calls in again (or an intercept or interrupt enters this VTL).
 */
static inline void vtl_return(int fast) {
  uint64_t rax = fast ? 1 : 0, rcx = HvCallVtlReturn;
  __asm__ volatile(VTL_SWITCH_ASM("vmcall") : "+a"(rax), "+c"(rcx) : : VTL_SWITCH_CLOBBERS);
}

/* --- console and exit --------------------------------------------------------------------- */

__attribute__((noreturn)) static inline void vtl_exit(uint32_t code) {
  for (;;) {
    vtl_outl(VTL_PORT_EXIT, code);
    __asm__ volatile("hlt");
  }
}

static inline void vtl_putc(char c) { vtl_outb(VTL_PORT_CONSOLE, (uint8_t)c); }

static inline void vtl_puts(const char *s) {
  while (*s) vtl_putc(*s++);
}

static inline void vtl_put_unsigned(uint64_t value, unsigned base, int width) {
  char digits[24];
  int n = 0;
  do {
    unsigned d = (unsigned)(value % base);
    digits[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    value /= base;
  } while (value != 0);
  while (width-- > n) vtl_putc('0');
  while (n > 0) vtl_putc(digits[--n]);
}

/* printf to port 0xE9: %c %s %d %u %x %p, the l/ll size prefixes and a zero-padded width. */
static inline void vtl_vprintf(const char *format, va_list args) {
  for (const char *p = format; *p; p++) {
    if (*p != '%') {
      vtl_putc(*p);
      continue;
    }
    p++;
    int width = 0;
    while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
    int longs = 0;
    while (*p == 'l') longs++, p++;
    switch (*p) {
    case 'c':
      vtl_putc((char)va_arg(args, int));
      break;
    case 's':
      vtl_puts(va_arg(args, const char *));
      break;
    case 'd': {
      int64_t v = longs ? va_arg(args, int64_t) : va_arg(args, int);
      if (v < 0) vtl_putc('-'), v = -v;
      vtl_put_unsigned((uint64_t)v, 10, width);
      break;
    }
    case 'u':
      vtl_put_unsigned(longs ? va_arg(args, uint64_t) : va_arg(args, unsigned), 10, width);
      break;
    case 'x':
      vtl_put_unsigned(longs ? va_arg(args, uint64_t) : va_arg(args, unsigned), 16, width);
      break;
    case 'p':
      vtl_puts("0x");
      vtl_put_unsigned((uint64_t)(uintptr_t)va_arg(args, void *), 16, 16);
      break;
    case '%':
      vtl_putc('%');
      break;
    default:
      vtl_putc('%');
      vtl_putc(*p);
      if (!*p) return;
    }
  }
}

__attribute__((format(printf, 1, 2))) static inline void vtl_printf(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vtl_vprintf(format, args);
  va_end(args);
}

/* --- VTL1 bring-up -------------------------------------------------------------------------- */

static inline void vtl_flat_segment(hv_x64_segment_register *segment, uint16_t selector,
                                    uint16_t attributes) {
  segment->base = 0;
  segment->limit = 0xFFFFFFFFu;
  segment->selector = selector;
  segment->attributes = attributes;
}

/*
 * An initial VP context that runs like the start state: the same GDT (SGDT), page tables (CR3),
 * CR0, CR4 and EFER, flat CS 0x08 / data 0x10, interrupts off, no IDT; at `rip` with stack `rsp`.
 * Field by field: a freestanding image has no memcpy for a struct copy.
 */
static inline void vtl_initial_context(hv_initial_vp_context *ctx, uint64_t rip, uint64_t rsp) {
  struct __attribute__((packed)) {
    uint16_t limit;
    uint64_t base;
  } gdtr;
  uint64_t cr0, cr3, cr4;
  __asm__ volatile("sgdt %0" : "=m"(gdtr));
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  ctx->rip = rip;
  ctx->rsp = rsp;
  ctx->rflags = 2;
  vtl_flat_segment(&ctx->cs, 0x08, 0xA09B);
  vtl_flat_segment(&ctx->ds, 0x10, 0xC093);
  vtl_flat_segment(&ctx->es, 0x10, 0xC093);
  vtl_flat_segment(&ctx->fs, 0x10, 0xC093);
  vtl_flat_segment(&ctx->gs, 0x10, 0xC093);
  vtl_flat_segment(&ctx->ss, 0x10, 0xC093);
  ctx->tr.base = 0;
  ctx->tr.limit = 0x67;
  ctx->tr.selector = 0x18;
  ctx->tr.attributes = 0x8B;
  ctx->ldtr.base = 0;
  ctx->ldtr.limit = 0;
  ctx->ldtr.selector = 0;
  ctx->ldtr.attributes = 0x82;
  for (int i = 0; i < 3; i++) ctx->idtr.pad[i] = ctx->gdtr.pad[i] = 0;
  ctx->idtr.limit = 0;
  ctx->idtr.base = 0;
  ctx->gdtr.limit = gdtr.limit;
  ctx->gdtr.base = gdtr.base;
  ctx->efer = vtl_rdmsr(0xC0000080u);
  ctx->cr0 = cr0;
  ctx->cr3 = cr3;
  ctx->cr4 = cr4;
  ctx->msr_cr_pat = 0x0007040600070406ull;
}

/*
 * HvCallEnablePartitionVtl (VTL1, no flags), then HvCallEnableVpVtl for `vp_index` with a context
 * at `rip`/`rsp` (vtl_initial_context). `input` is a zeroed, page-aligned input page. Returns the
 * first failing status, or HV_STATUS_SUCCESS.
 */
static inline uint16_t hv_enable_vtl1(void *input, uint32_t vp_index, uint64_t rip, uint64_t rsp) {
  hv_input_enable_partition_vtl *partition = (hv_input_enable_partition_vtl *)input;
  partition->target_partition_id = HV_PARTITION_ID_SELF;
  partition->target_vtl = 1;
  partition->flags = 0;
  uint16_t status = HV_STATUS(hv_hypercall(HvCallEnablePartitionVtl, input, 0));
  if (status != HV_STATUS_SUCCESS) return status;
  hv_input_enable_vp_vtl *vp = (hv_input_enable_vp_vtl *)input;
  vp->target_partition_id = HV_PARTITION_ID_SELF;
  vp->vp_index = vp_index;
  vp->target_vtl = 1;
  vtl_initial_context(&vp->vp_vtl_context, rip, rsp);
  return HV_STATUS(hv_hypercall(HvCallEnableVpVtl, input, 0));
}

#endif /* VTL_GUEST_H */
