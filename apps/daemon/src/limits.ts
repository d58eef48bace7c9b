// The daemon's resource bounds, one place: what a client (or many) can make it hold. Each is
// configurable (DaemonOptions.limits / TdServiceOptions.limits); a refusal names the limit.

/** Per-listener connection bounds. */
export interface ListenerLimits {
  /** Open connections on the listener; more are closed at once (default: socket 512, TCP 128). */
  maxConnections: number
  /** A request's headers must arrive within this many ms, else the connection is closed. */
  headersTimeoutMs: number
}

export const SOCKET_LISTENER: ListenerLimits = { maxConnections: 512, headersTimeoutMs: 10_000 }
export const TCP_LISTENER: ListenerLimits = { maxConnections: 128, headersTimeoutMs: 10_000 }
