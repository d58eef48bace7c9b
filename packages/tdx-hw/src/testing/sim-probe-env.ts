import type { ProbeEnv } from '../probe/probe-env.js'
import type { Syscalls } from '../sys/syscalls.js'
import { SimKernel } from './sim-kernel.js'

/** The device nodes `SimKernel` serves (an OpenHCL VTL2 kernel's, without KVM). */
const SIM_NODES = new Set(['/dev/mshv', '/dev/mshv_hvcall'])

/**
 * What `probe` sees on a TDX guest whose VTL2 kernel is `kernel` (default: a new `SimKernel`):
 * the `tdx_guest` CPU flag, `/dev/mshv` and `/dev/mshv_hvcall` usable by root, and the kernel
 * behind the syscall seam, so the probe's own MSHV_CHECK_EXTENSION calls reach it.
 */
export function simKernelProbeEnv(kernel: Syscalls = new SimKernel()): ProbeEnv {
  return {
    exists: (path) => SIM_NODES.has(path),
    accessDenied: (path) => (SIM_NODES.has(path) ? undefined : 'ENOENT'),
    readText: (path) =>
      path === '/proc/cpuinfo'
        ? 'flags\t\t: fpu tsc x2apic tdx_guest\n'
        : path === '/proc/sys/kernel/osrelease'
          ? 'simkernel\n'
          : undefined,
    uid: () => 0,
    arch: () => 'x64',
    syscalls: () => kernel,
  }
}
