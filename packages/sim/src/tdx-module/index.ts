export { SoftwareTdxModule } from './software-tdx-module.js'
export type { PageAttr, SoftwareTdxModuleJson } from './software-tdx-module.js'
export { tdxModulePlanSink } from './plan-sink.js'
export type { HostVisibilityCallback } from './plan-sink.js'
export type {
  OnEnter,
  PageAttrView,
  PreparedVpWr,
  SoftwareTdxModuleOptions,
  TdcallPort,
  VpEnterExit,
  VpWrPort,
} from './types.js'
