// @vtl/sim's public names (explicit barrel).

// The TD and its guest model.
export { SimTd } from './td/sim-td.js'
export type { GuestVpState, PlatformRestore, SimTdOptions } from './td/sim-td.js'
export { performStep, runnable } from './guest/perform.js'
export type { StepOutcome } from './guest/perform.js'
export { EXCEPTION_NAMES, hypercallControl, traceGuestHypercall } from './guest/guest-hypercall.js'
export type { HypercallTracer } from './guest/guest-hypercall.js'
export { guestExit, ssDpl } from './guest/guest-exit.js'
export {
  DEFAULT_HYPERCALL_PAGES,
  HYPERCALL_INPUT_GPA,
  HYPERCALL_OUTPUT_GPA,
  hypercallPagesProblem,
  resolveHypercallPages,
} from './guest/hypercall-pages.js'
export type { HypercallPages } from './guest/hypercall-pages.js'
export type { GuestGprs, GuestPlatform, IssuedCall, ScriptedGuestVp } from './guest/guest-exit.js'
export { exitResult, memFaultResult } from './guest/step-report.js'
export { afterReissue } from './guest/reissue.js'
export {
  instructionExit,
  instructionResult,
  interceptFields,
  isInstructionAction,
} from './guest/instruction.js'
export type { InstructionAction } from './guest/instruction.js'
export type { GuestView } from './guest/step-report.js'
export { SimTdBacking } from './td/sim-td-backing.js'
export type { L2Cpu, L2Progress } from './td/l2-cpu.js'
export { codeStep } from './guest/run-code.js'
export { findAccessFault, pageFacts } from './guest/access.js'
export type { AccessPlatform, MemoryAccess } from './guest/access.js'
export { MemoryContents } from './guest/memory-contents.js'

// Scheduling and snapshots.
export { DeterministicScheduler } from './scheduler/deterministic-scheduler.js'
export type { GuestPrograms, ScheduledStep } from './scheduler/deterministic-scheduler.js'
export { restoreTd, restoreTdSliced, saveTd, saveTdSliced } from './snapshot/td-snapshot.js'
export type { TdSnapshot } from './snapshot/td-snapshot.js'
export { SNAPSHOT_SLICE_MS } from './snapshot/sliced-work.js'
export type { SliceOptions } from './snapshot/sliced-work.js'
export { plain as isPlainJson, validateSnapshot } from './snapshot/validate-snapshot.js'
export type { SnapshotLimits } from './snapshot/validate-snapshot.js'

// Scenarios (scenario-format.md).
export { loadScenarioFile, parseScenario, parseScenarioData } from './scenario/parse.js'
export type { ParseOptions, ParseProgress } from './scenario/parse.js'
export { createScenarioTd, runScenario, runSteps } from './scenario/run.js'
export type {
  L2CpuFactory,
  ReportStep,
  RunScenarioOptions,
  ScenarioReport,
} from './scenario/run.js'
export { ScenarioError } from './scenario/scenario-error.js'
export type { ScenarioErrorDetails } from './scenario/scenario-error.js'
export { compareExpectations } from './scenario/expect.js'
export type { Mismatch } from './scenario/expect.js'
export { TYPED_HYPERCALLS } from './scenario/typed-hypercall.js'
export { defaultVpContext } from './scenario/default-context.js'
export { ACTION_KEYS, DEFAULT_MAX_INSTRUCTIONS } from './scenario/types.js'
export type {
  AccessSize,
  ActionKind,
  GuestAction,
  RawHypercall,
  Scenario,
  ScenarioImage,
  ScenarioPartition,
  ScenarioStep,
  StepResult,
  TypedHypercall,
} from './scenario/types.js'

// The platform: software TDX module, untrusted hypervisor, faults, costs, trace, PRNG.
export { SoftwareTdxModule, tdxModulePlanSink } from './tdx-module/index.js'
export type {
  HostVisibilityCallback,
  OnEnter,
  PageAttr,
  PageAttrView,
  SoftwareTdxModuleJson,
  SoftwareTdxModuleOptions,
  TdcallPort,
  VpEnterExit,
} from './tdx-module/index.js'
export { UntrustedHypervisor, bytesToHex } from './hypervisor/index.js'
export type {
  HypervisorAnomaly,
  HypervisorCallRecord,
  UntrustedHypervisorJson,
  UntrustedHypervisorOptions,
} from './hypervisor/index.js'
export { FaultInjector } from './faults/index.js'
export type { ArmOptions, FiredFault, RandomFaultOptions } from './faults/index.js'
export { CostModel, DEFAULT_COSTS, SimClock } from './cost/index.js'
export type { CostEvent, CostOverrides, CostTable } from './cost/index.js'
export { Trace } from './trace/index.js'
export type {
  ChromeTraceEvent,
  ChromeTraceOptions,
  TraceArg,
  TraceEvent,
  TraceEventInput,
  TraceJson,
  TraceKind,
  TraceOptions,
  TraceStats,
} from './trace/index.js'
export { createRandom } from './random.js'
export type { Random } from './random.js'

// Parallel mode: VPs on worker threads over a SharedArrayBuffer engine state.
export {
  AtomicSharedVsmState,
  Counter,
  HOST_CHANNEL_MAX_GPNS,
  HOST_CHANNEL_MAX_INPUT,
  HostChannel,
  HostClient,
  HostOwner,
  LockWord,
  RunControl,
  atomicSharedVsmStateBytes,
  awaitWorker,
  decodePermission,
  flagsForVersion,
  lockWord,
  nextMessage,
  protectionPage,
  runParallel,
  sharedVsmLayout,
  startTsWorker,
  startWorker,
  tryLockWord,
  unlockWord,
} from './parallel/index.js'
export type {
  CounterName,
  HostOwnerOptions,
  PagePermission,
  ParallelRunOptions,
  ParallelRunResult,
  PermissionSource,
  SharedVsmLayout,
  VpOutcome,
  Workload,
} from './parallel/index.js'
