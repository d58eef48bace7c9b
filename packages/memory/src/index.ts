export { GpaSpace } from './gpa-space.js'
export type { GpaSpaceOptions, MarkState, MutationResult, RunView } from './gpa-space.js'
export type { SpaceSummary } from './space-summary.js'
export type { GpaRange } from './gpa-range.js'
export type { PageKindName, PageStateView } from './page-view.js'
export { Plan } from './plan.js'
export { alignedChunkCount, forEachAlignedChunk } from './aligned-chunks.js'
export { tdcallRegisters } from './tdcall-registers.js'
export type {
  AcceptOp,
  AttrWriteOp,
  MapGpaOp,
  PlanOp,
  PlanOpKind,
  PlanStep,
  ReleaseOp,
} from './plan.js'
export type { TdcallRegisters } from './tdcall-registers.js'
export type { PlanSink } from './plan-sink.js'
export { executePlan } from './executor.js'
export type { ExecuteOptions, ExecuteResult } from './executor.js'
export { RecordingSink, recordedMismatches } from './recording-sink.js'
export type { RecordedPage, RecordingSinkOptions } from './recording-sink.js'
export { RunMap } from './run-map.js'
