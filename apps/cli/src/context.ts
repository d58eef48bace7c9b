import type { Command } from 'commander'
import {
  checkSocketOwner,
  defaultSocketPath,
  type ClientFactory,
  type TcpEndpoint,
  type VtldClient,
} from './client.js'
import { defaultClientFactory } from './http-client.js'
import { colorsFor, type Colors } from './output/colors.js'
import { outputWidth } from './output/width.js'

/** What every command reads from the program: streams, colours, the daemon client. */
export interface CliContext {
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
  env: NodeJS.ProcessEnv
  clientFactory: ClientFactory
}

export function defaultContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    clientFactory: defaultClientFactory,
  }
}

interface GlobalOptions {
  color?: boolean
  verbose?: boolean
  socket?: string
  url?: URL
  token?: string
}

function globals(command: Command): GlobalOptions {
  return command.optsWithGlobals<GlobalOptions>()
}

/** Colours for stdout (off on pipes, with NO_COLOR, with --no-color). */
export function colors(ctx: CliContext, command: Command): Colors {
  return colorsFor(ctx.stdout, ctx.env, globals(command).color === false)
}

/**
 * The columns human output on the context's stdout fits (its terminal, else its `$COLUMNS`, else
 * 80): a test, vtld or the console hands in its own stream and environment, not this process's.
 */
export function columns(ctx: CliContext): number {
  return outputWidth(ctx.stdout, ctx.env)
}

/** Writes a line (or lines) to stdout. */
export function print(ctx: CliContext, text: string): void {
  ctx.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
}

/** `--socket` or the default socket path. */
export function socketPath(ctx: CliContext, command: Command): string {
  return globals(command).socket ?? defaultSocketPath(ctx.env)
}

/** Where the daemon is: the socket path, and the TCP endpoint when `--url` is given. */
export function endpoint(ctx: CliContext, command: Command): { socket: string; tcp?: TcpEndpoint } {
  const { url, token } = globals(command)
  const socket = socketPath(ctx, command)
  if (url === undefined) return { socket }
  const env = ctx.env.VTLD_TOKEN
  return {
    socket,
    tcp: { url, token: token ?? (env === undefined || env === '' ? undefined : env) },
  }
}

/** The daemon client: `--url` (with `--token` or `VTLD_TOKEN`), else `--socket` or its default. */
export function client(ctx: CliContext, command: Command): VtldClient {
  const { socket, tcp } = endpoint(ctx, command)
  if (tcp === undefined) checkSocketOwner(socket)
  return ctx.clientFactory(socket, tcp)
}

/** A word as a shell reads it back (quoted when it holds anything but safe characters). */
const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`

/**
 * A `vtl` command line to print as a hint: the CLI as the user reaches it (`VTL_CLI`, default
 * `vtl`), the daemon flags they gave (`--socket`, `--url`; never the token), then `args`.
 */
export function hint(ctx: CliContext, command: Command, ...args: string[]): string {
  const { socket, url } = globals(command)
  const cli = ctx.env.VTL_CLI ?? 'vtl'
  const target = [
    ...(socket === undefined ? [] : ['--socket', shellWord(socket)]),
    ...(url === undefined ? [] : ['--url', url.origin]),
  ]
  return [cli, ...target, ...args].join(' ')
}
