// @vtl/tdx-hw/testing: a simulated kernel behind the Syscalls seam (explicit barrel).
export { tdxOpenHclExtensions } from './extensions.js'
export type { SimExtensionTable, TdxExtensionOptions } from './extensions.js'
