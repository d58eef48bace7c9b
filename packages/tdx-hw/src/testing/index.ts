// @vtl/tdx-hw/testing: a simulated kernel behind the Syscalls seam (explicit barrel).
export { tdxOpenHclExtensions } from './extensions.js'
export type { SimExtensionTable, TdxExtensionOptions } from './extensions.js'
export { SimKernel } from './sim-kernel.js'
export type { SimFdKind, SimGuest, SimIoctlRecord, SimKernelOptions } from './sim-kernel.js'
