// @vtl/cli's reusable pieces: the command tree, the vtld client seam, the GPA space picture.
export { createProgram, VERSION } from './program.js'
export { runCli } from './run.js'
export type { CliContext } from './context.js'
export { NoDaemonError, defaultSocketPath } from './client.js'
export type {
  ClientFactory,
  TcpEndpoint,
  TdSummary,
  VtldClient,
  VtldOp,
  VtldRequest,
} from './client.js'
export { HttpVtldClient, defaultClientFactory } from './http-client.js'
export { DaemonProblemError, problemExitCode } from './daemon-problem.js'
export { routeOf } from './routes.js'
export type { Route } from './routes.js'
export { CliError, ExitCode, exitCodeOf, formatError } from './errors.js'
export {
  GPA_SVG_COLORS,
  collectRuns,
  permissionColor,
  renderGpaSvg,
  renderRunsSvg,
  runColumns,
} from '@vtl/memory-map'
export type { GpaSvgInput, GpaSvgOptions, GpaSvgRun } from '@vtl/memory-map'
export { formatTimeline, describeAction } from './output/timeline.js'
export { formatBenchTable, parseBenchDocument, verdict } from './commands/bench.js'
export type { BenchDocument, BenchResultRow } from './commands/bench.js'
export {
  bashCompletion,
  commandTree,
  fishCompletion,
  zshCompletion,
} from './commands/completion.js'
export {
  parseByteSize,
  parseCount,
  parseGuestVtl,
  parseHexBytes,
  parseMapGpaFlags,
  parseU64,
} from './parse.js'
