export {
  HypercallCode,
  hypercallName,
  hypercallCodeFromName,
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HV_PAGE_SIZE,
  HV_PAGE_SHIFT,
} from './hypercall-code.js'
export type { HypercallName } from './hypercall-code.js'
export {
  HvStatus,
  hvStatusName,
  hvStatusFromName,
  isHvStatus,
  formatHvStatus,
} from './status.js'
export type { HvStatusName } from './status.js'
export { Vtl0, Vtl1, Vtl2, parseVtl, isGuestVtl } from './vtl.js'
export type { Vtl, GuestVtl } from './vtl.js'
export {
  HvMapGpaFlags,
  HV_MAP_GPA_PERMISSIONS_NONE,
  HV_MAP_GPA_PERMISSIONS_ALL,
  HV_MAP_GPA_DEFINED_BITS,
  formatMapGpaFlags,
} from './map-gpa-flags.js'
export type { HvMapGpaFlagName } from './map-gpa-flags.js'
