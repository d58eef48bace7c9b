export { Trace } from './trace.js'
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
} from './trace.js'
