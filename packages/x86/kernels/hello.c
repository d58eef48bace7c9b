/* hello.c: the C variant: printf over the debug console, a hypercall, exit code from main. */
#include "vtl-guest.h"

static uint8_t input[4096] __attribute__((aligned(4096)));

int vtl_main(void) {
  hv_input_modify_vtl_protection_mask *mask = (hv_input_modify_vtl_protection_mask *)input;
  mask->target_partition_id = HV_PARTITION_ID_SELF;
  mask->map_flags = HV_MAP_GPA_READABLE;
  mask->target_vtl = 0;
  mask->gpa_page_list[0] = 0x300;
  uint64_t result =
      hv_hypercall(HvCallModifyVtlProtectionMask | HV_HYPERCALL_REP_COUNT(1), input, 0);
  vtl_printf("hello from C: status %x, %d reps, input at %p\n", HV_STATUS(result),
             HV_REPS_COMPLETED(result), (void *)input);
  return 7;
}
