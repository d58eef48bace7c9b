import { CliError, ExitCode } from './errors.js'

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

/** A scenario-format step object as sent to the daemon (no `expect`: the CLI compares those). */
export type StepSource = Readonly<Record<string, unknown>>

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

/** What a stateful command needs from the daemon. */
export interface VtldClient {
  /** Where the client talks to (for messages). */
  readonly endpoint: string
  /** Sends one request; resolves with the daemon's JSON answer. */
  request(request: VtldRequest): Promise<unknown>
  /**
   * A TD's trace events as they happen (after the ones already recorded), until `signal` aborts;
   * a dropped stream is resumed where it stopped.
   */
  traceEvents(td: string, signal: AbortSignal): AsyncIterable<unknown>
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

/** `$XDG_RUNTIME_DIR/vtld.sock`, or `/tmp/vtld-<uid>.sock` without a runtime dir. */
export function defaultSocketPath(
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? 0
): string {
  const runtime = env.XDG_RUNTIME_DIR
  if (runtime !== undefined && runtime !== '') return `${runtime.replace(/\/+$/, '')}/vtld.sock`
  return `/tmp/vtld-${uid}.sock`
}

/** A vtld listening on TCP (`vtld --listen`): every request carries the bearer token. */
export interface TcpEndpoint {
  url: URL
  token: string | undefined
}

/** Builds the client for a socket path, or for a TCP daemon when `tcp` is given. */
export type ClientFactory = (socket: string, tcp?: TcpEndpoint) => VtldClient
