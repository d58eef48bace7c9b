// @vtl/campaign's public names (explicit barrel).
export { CAMPAIGNS } from './campaigns.js'
export type { CampaignName } from './campaigns.js'
export { InvariantLog } from './invariant-log.js'
export {
  MAX_FAILED_DETAILS,
  REPO_ROOT,
  replayCommand,
  runCampaign,
  sortedCounts,
  summaryLine,
  writeSummary,
} from './runner.js'
export type {
  Campaign,
  CampaignSummary,
  FailedRun,
  Machine,
  RunnerOptions,
  ShardRecord,
} from './runner.js'
export { parseShard, shardLabel, shardOfRun, shardRuns, shardShare } from './shard.js'
export type { Shard } from './shard.js'
export { checkShards, mergeShards, readShardSummaries } from './merge.js'
export type { ShardSummaryFile } from './merge.js'
export { machineText, productionText, reliabilitySection } from './reliability-section.js'
export { createProgress } from './progress.js'
export type { ProgressMode, ProgressView } from './progress.js'
export { runCli } from './cli.js'
export {
  callableState,
  checkMemoryMap,
  checkUnchanged,
  checkVsmState,
  firstDifference,
} from './invariants.js'
export { createFaultsCampaign, faultsProgram } from './faults.js'
export type { FaultsOptions, Step } from './faults.js'
export { FUZZ_INPUTS_PER_RUN, createFuzzCampaign, fuzzRequest } from './fuzz.js'
export type { FuzzOptions } from './fuzz.js'
export { createIsolationCampaign } from './isolation.js'
export type { IsolationOptions } from './isolation.js'
export { checkRound, createConcurrencyCampaign, roundOptions } from './concurrency.js'
export type { ConcurrencyOptions } from './concurrency.js'
export { createCrashCampaign } from './crash.js'
export type { CrashOptions } from './crash.js'
export { VtldProcess, vtldRequest } from './vtld-process.js'
export type { VtldAnswer } from './vtld-process.js'
