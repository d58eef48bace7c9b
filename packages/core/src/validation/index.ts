export { validateVtlGpaFlags } from './gpa-flags.js'
export { RAW_TARGET_VTL_FAULT, parseTargetVtlFor, resolveInputVtl } from './target-vtl.js'
export type { RawTargetVtlCall, VtlParse } from './target-vtl.js'
export {
  VSM_PARTITION_CONFIG_WRITABLE_BITS,
  checkVsmPartitionConfigBits,
  checkDefaultVtlProtectionMask,
  checkVsmPartitionConfigValue,
} from './vsm-partition-config.js'
export {
  checkGpaRange,
  checkGpaBounds,
  checkGpnRange,
  checkGpn,
  isPageAligned,
} from './gpa-range.js'
export type { GpnRun } from './gpa-range.js'
