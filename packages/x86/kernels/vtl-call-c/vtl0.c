/* vtl-call-c/vtl0.c: the vtl-call kernel in C. VTL0 enables VTL1 (entered at 0x400000), calls it
 * twice and exits 0; a failed hypercall exits with its status. */
#include "vtl-guest.h"

static uint8_t input[4096] __attribute__((aligned(4096)));

int vtl_main(void) {
  vtl_printf("V0 ");
  uint16_t status = hv_enable_vtl1(input, 0, 0x400000, 0x500000);
  if (status != HV_STATUS_SUCCESS) return status;
  /* A value the compiler cannot fold, kept in a register across the calls (VTL1 shares them). */
  uint64_t kept = 0x1234;
  __asm__ volatile("" : "+r"(kept));
  vtl_call();
  vtl_printf("back ");
  vtl_call();
  __asm__ volatile("" : "+r"(kept));
  vtl_printf(kept == 0x1234 ? "OK" : "lost");
  return 0;
}
