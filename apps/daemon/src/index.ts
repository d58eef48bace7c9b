// @vtl/daemon's public names (explicit barrel).
export { createApp } from './app.js'
export type { AppDeps } from './app.js'
export { bearerAuth, resolveToken } from './auth.js'
export { BackendRefusedError, checkBackend } from './backend.js'
export type { BackendKind, HwTdOpener, TdBackend } from './backend.js'
export type { ServedTd } from './served-td.js'
export { CommandQueue } from './command-queue.js'
export { Journal } from './journal.js'
export type {
  AcceptRecord,
  CreateRecord,
  DeleteRecord,
  HypercallRecord,
  IdempotentAnswer,
  JournalEntry,
  JournalRecord,
  RestoreRecord,
  StepRecord,
  StoredSnapshot,
  TdMeta,
} from './journal.js'
export { DaemonMetrics } from './metrics.js'
export type { TraceSource } from './metrics.js'
export { HTTP_STATUS, ProblemError, problem, problemResponse } from './problem.js'
export type { DaemonErrorCode, Problem } from './problem.js'
export { requestTimeout } from './request-timeout.js'
export { runScenarioInThread, runScenarioText } from './scenario-run.js'
export type { ScenarioRunner } from './scenario-run.js'
export { ScenarioWorkers } from './scenario-worker.js'
export { TdService } from './td-service.js'
export type {
  HypercallSpec,
  Idempotency,
  PartitionConfigRead,
  RangeResult,
  RunWire,
  StepDone,
  TdServiceOptions,
  TdSpec,
  TdView,
  TraceListener,
} from './td-types.js'
export type { StepSource } from './guest-steps.js'
export { startDaemon } from './server.js'
export type { Daemon, DaemonOptions, TcpListener } from './server.js'
export { claimSocketPath, defaultSocketPath, socketAnswers } from './socket-path.js'
