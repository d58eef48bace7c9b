import { lstatSync } from 'node:fs'
import { dirname } from 'node:path'
import { CliError, ExitCode } from './errors.js'
import type { Step, VtldRoutes } from './vtld-api.js'

// The seam between `vtl`'s stateful commands and `vtld`. Every command builds a typed request and
// calls the client; `HttpVtldClient` (HTTP/JSON over the unix socket, api-contract.md) is the
// transport, tests swap in recording clients.

/** A TD as `vtld` lists it. */
export interface TdSummary {
  id: string
  vps: number
  memory: bigint
  state: string
}

export type GuestVtl = 0 | 1

/** A scenario step object as sent to the daemon (no `expect`: the CLI compares those). */
export type StepSource = Readonly<Step>

/** One request per stateful command, discriminated by `op` (the daemon's route). */
export type VtldRequest =
  | {
      op: 'td.create'
      name?: string
      vps: number
      memory: bigint
      gpaWidth: 48 | 52
      mbec: boolean
    }
  | { op: 'td.list' }
  | { op: 'td.show'; td: string }
  | { op: 'td.delete'; td: string; force: boolean }
  | { op: 'td.save'; td: string; file: string }
  | { op: 'td.restore'; file: string; name?: string }
  | { op: 'vsm.enable-partition'; td: string; vp: number; targetVtl: 1; mbec: boolean }
  | {
      op: 'vsm.enable-vp'
      td: string
      vp: number
      targetVp: number
      targetVtl: 1
      rip?: bigint
      rsp?: bigint
      cr3?: bigint
    }
  | {
      op: 'vsm.start-vp'
      td: string
      vp: number
      targetVp: number
      targetVtl: GuestVtl
      rip?: bigint
      rsp?: bigint
      cr3?: bigint
    }
  | { op: 'vsm.config'; td: string; vp: number; set?: bigint }
  | { op: 'vsm.status'; td: string }
  | {
      op: 'mem.protect'
      td: string
      vp: number
      /** HvInputVtl: the VTL whose mask applies to the VTLs below it; absent: the caller's. */
      targetVtl?: GuestVtl
      start: bigint
      size: bigint
      flags: number
    }
  | { op: 'mem.share'; td: string; vp: number; start: bigint; size: bigint }
  | { op: 'mem.unshare'; td: string; vp: number; start: bigint; size: bigint }
  | { op: 'mem.show'; td: string; start?: bigint; size?: bigint }
  | {
      op: 'hypercall'
      td: string
      vp: number
      /** Asserted active VTL of the VP (409 E_VTL_MISMATCH when it differs); absent: any. */
      vtl?: GuestVtl
      code: number
      repCount: number
      fast: boolean
      input: Uint8Array
    }
  | { op: 'trace'; td: string; out?: string; limit: number }
  /** Scenario-format step objects (`vp`, `vtl?`, one action key), performed in order. */
  | { op: 'td.steps'; td: string; steps: readonly StepSource[] }

export type VtldOp = VtldRequest['op']

/** The 2xx answer of a route (generated from the daemon's /openapi.json). */
type RouteAnswer<K extends keyof VtldRoutes> = VtldRoutes[K]['answer']

/**
 * What each request resolves with: the daemon's answer on its route, or what the client made of
 * it (a file written, every page of runs collected).
 */
export interface VtldAnswers {
  'td.create': RouteAnswer<'POST /v1/tds'>
  'td.list': RouteAnswer<'GET /v1/tds'>
  'td.show': RouteAnswer<'GET /v1/tds/{id}'>
  'td.delete': { deleted: string }
  /** `text`: the snapshot document, when `file` is `-` (nothing written). */
  'td.save': { td: string; file: string; bytes: number; text?: string }
  'td.restore': RouteAnswer<'POST /v1/tds/restore'>
  'vsm.enable-partition': RouteAnswer<'POST /v1/tds/{id}/vsm/enable-partition-vtl'>
  'vsm.enable-vp': RouteAnswer<'POST /v1/tds/{id}/vsm/enable-vp-vtl'>
  'vsm.start-vp': RouteAnswer<'POST /v1/tds/{id}/vsm/start-vp'>
  'vsm.config':
    | RouteAnswer<'GET /v1/tds/{id}/vsm/partition-config'>
    | RouteAnswer<'PUT /v1/tds/{id}/vsm/partition-config'>
  'vsm.status': RouteAnswer<'GET /v1/tds/{id}/status'>
  'mem.protect': RouteAnswer<'POST /v1/tds/{id}/memory/protect'>
  'mem.share': RouteAnswer<'POST /v1/tds/{id}/memory/share'>
  'mem.unshare': RouteAnswer<'POST /v1/tds/{id}/memory/unshare'>
  /** The runs of every page (`mem show` derives the range they cover). */
  'mem.show': {
    td: string
    runs: RouteAnswer<'GET /v1/tds/{id}/memory/runs'>['runs']
  }
  /** The trace document, or (with `out`) the file written. */
  trace: RouteAnswer<'GET /v1/tds/{id}/trace'> | { td: string; file: string; events: number }
  hypercall: RouteAnswer<'POST /v1/tds/{id}/hypercall'>
  'td.steps': RouteAnswer<'POST /v1/tds/{id}/steps'>
}

/** The answer type of a request. */
export type VtldAnswer<R extends VtldRequest> = VtldAnswers[R['op']]

/** What a stateful command needs from the daemon. */
export interface VtldClient {
  /** Where the client talks to (for messages). */
  readonly endpoint: string
  /** Sends one request; resolves with the daemon's answer (typed by the daemon's routes). */
  request<R extends VtldRequest>(request: R): Promise<VtldAnswer<R>>
  /**
   * A TD's trace events from `follow.from` on, until `signal` aborts; a dropped stream is resumed
   * after the last event it gave (`follow.onReconnect` is told each attempt).
   */
  traceEvents(td: string, signal: AbortSignal, follow?: TraceFollow): AsyncIterable<unknown>
}

/** Where a followed trace starts, and who hears about a stream being resumed. */
export interface TraceFollow {
  /**
   * `now` (default): only events recorded from now on; `start`: every kept event first;
   * `{ after }`: the kept events after that seq first.
   */
  from?: 'now' | 'start' | { after: number }
  onReconnect?: (notice: ReconnectNotice) => void
}

/** A dropped trace stream being resumed: why, and after which event. */
export interface ReconnectNotice {
  reason: string
  attempt: number
  of: number
  /** The seq of the last event received (the stream resumes after it), if any. */
  after: string | undefined
}

/** Thrown by a client that cannot reach `vtld` (exit code 3). */
export class NoDaemonError extends CliError {
  readonly socket: string
  /** The request that could not be sent. */
  readonly op: VtldOp | undefined

  constructor(socket: string, op?: VtldOp, cause?: unknown) {
    super(
      'E_NO_DAEMON',
      `no vtld daemon is reachable at ${socket} (start vtld, or pass --socket PATH)`,
      ExitCode.NoDaemon,
      { cause }
    )
    this.name = 'NoDaemonError'
    this.socket = socket
    this.op = op
  }
}

/**
 * `$XDG_RUNTIME_DIR/vtld.sock`, or `/tmp/vtld-<uid>/vtld.sock` (a directory only the user owns)
 * without a runtime dir: the path vtld listens on by default.
 */
export function defaultSocketPath(
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? 0
): string {
  const runtime = env.XDG_RUNTIME_DIR
  if (runtime !== undefined && runtime !== '') return `${runtime.replace(/\/+$/, '')}/vtld.sock`
  return `/tmp/vtld-${uid}/vtld.sock`
}

/**
 * Refuses a socket (or its directory) that another user owns or may write to: whoever listens
 * there would receive every request. Missing paths pass (the connect then fails: no daemon).
 */
export function checkSocketOwner(socket: string, uid = process.getuid?.()): void {
  if (uid === undefined) return
  const refuse = (why: string): never => {
    throw new CliError(
      'E_SOCKET_OWNER',
      `refusing the vtld socket ${socket}: ${why}`,
      ExitCode.BadInput
    )
  }
  for (const [path, what] of [
    [dirname(socket), 'its directory'],
    [socket, 'it'],
  ] as const) {
    let st
    try {
      st = lstatSync(path)
    } catch {
      continue
    }
    if (st.uid !== uid) refuse(`${what} belongs to uid ${st.uid}, not to you (uid ${uid})`)
    if (!st.isSocket() && (st.mode & 0o022) !== 0) {
      refuse(`${what} is writable by others (mode ${(st.mode & 0o777).toString(8)})`)
    }
  }
}

/** A vtld listening on TCP (`vtld --listen`): every request carries the bearer token. */
export interface TcpEndpoint {
  url: URL
  token: string | undefined
}

/** Builds the client for a socket path, or for a TCP daemon when `tcp` is given. */
export type ClientFactory = (socket: string, tcp?: TcpEndpoint) => VtldClient
