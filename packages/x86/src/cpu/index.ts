export { decodeTrap, type TrapInstruction } from './decode.js'
export { eventFromEntryInterruptInfo } from './entry-interrupt-info.js'
export { deliverEvent } from './idt-delivery.js'
export {
  accessFromGpaAttr,
  PageAccess,
  PagePermissionTable,
  type PagePermissionSource,
} from './page-permissions.js'
export { PfError, walkPageTables, type AccessKind, type WalkResult } from './page-walk.js'
export {
  readPrivateState,
  readSharedState,
  writePrivateState,
  writeSharedState,
  type X86PrivateState,
  type X86SharedState,
} from './register-state.js'
export { SHARED_GPRS_64, SHARED_SSE_CONTROL, SHARED_XMM, type Gprs } from './registers.js'
export { VtlContext, type EnterResult, type VtlContextOptions } from './vtl-context.js'
export { toVmxExit, type X86VmxExit } from './vmx-exit.js'
export type { X86Event, X86Exit, X86ExitKind } from './x86-exit.js'
export { X86Vp, type X86VpOptions } from './x86-vp.js'
