/* vtl-call-c/vtl1.c: VTL1 in C. Its first entry (the first VtlCall) starts at vtl_main; every
 * later VtlCall resumes after its VtlReturn. */
#include "vtl-guest.h"

int vtl_main(void) {
  for (unsigned calls = 1;; calls++) {
    vtl_printf("V1#%u ", calls);
    vtl_return(1);
  }
}
