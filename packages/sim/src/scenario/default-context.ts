import { longModeInitialVpContextX64, type InitialVpContextX64 } from '@vtl/core'

/**
 * The initial VP context a typed EnableVpVtl / StartVirtualProcessor uses for fields the file
 * leaves out: core's flat long-mode context that TDX accepts (EFER.NXE set, CR0 = PE|ET|NE|PG,
 * CR4 = PAE), so that a scenario only writes what it cares about (usually `rip` and `rsp`).
 */
export function defaultVpContext(): InitialVpContextX64 {
  return longModeInitialVpContextX64()
}
