// @vtl/tdx-hw/testing: a simulated kernel behind the Syscalls seam, and a TD that runs core's
// engine through HwPlatform on it (explicit barrel). Needs the optional peer @vtl/sim.
export { tdxOpenHclExtensions } from './extensions.js'
export type { SimExtensionTable, TdxExtensionOptions } from './extensions.js'
export { SimKernel } from './sim-kernel.js'
export type { SimFdKind, SimGuest, SimIoctlRecord, SimKernelOptions } from './sim-kernel.js'
export { simKernelProbeEnv } from './sim-probe-env.js'
export { HwTd, runScenarioOnHw } from './hw-td.js'
export type { HwStepOutcome, HwTdOptions } from './hw-td.js'
