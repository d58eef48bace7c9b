import { spawn } from 'node:child_process'
import { Command, Option } from 'commander'
import { print, socketPath, type CliContext } from '../context.js'
import { badInput } from '../errors.js'
import { parseCount } from '../parse.js'
import { mintUiLink, startUiProxy, type UiProxy, type UiUpstream } from '../ui-proxy.js'
import { example } from './stateful.js'

// `vtl ui`: the web console. Listens on 127.0.0.1 only, forwards to vtld, prints a one-time link
// (its token becomes an HttpOnly SameSite=Strict cookie on first use) and runs until Ctrl-C.

/** The system's "open this URL" command, where there is one. */
function opener(platform: NodeJS.Platform): [string, string[]] {
  if (platform === 'darwin') return ['open', []]
  if (platform === 'win32') return ['cmd', ['/c', 'start', '""']]
  return ['xdg-open', []]
}

function openInBrowser(url: string): void {
  const [command, args] = opener(process.platform)
  // Best effort: no opener (a server, a container) is fine, the link is printed anyway.
  const child = spawn(command, [...args, url], { stdio: 'ignore', detached: true })
  child.once('error', () => undefined)
  child.unref()
}

function parsePort(text: string): number {
  const port = parseCount(text)
  if (port > 65535) throw badInput(`--port expects 0..65535, got ${text}`)
  return port
}

/** Until SIGINT or SIGTERM. */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}

export function uiCommand(ctx: CliContext): Command {
  const command = new Command('ui')
    .description(
      'the web console of vtld on 127.0.0.1: prints a one-time link (and opens it), runs until Ctrl-C'
    )
    .addOption(
      new Option('--port <port>', 'port on 127.0.0.1 (0: any free one)')
        .default(0)
        .argParser(parsePort)
    )
    .option('--no-open', 'only print the link, do not open a browser')
  example(
    command,
    'vtl ui',
    'vtl ui --port 7880 --no-open',
    'vtl ui --url http://127.0.0.1:7878 --token "$(cat ~/.local/state/vtld/vtld.token)"'
  )
  return command.action(async (flags: { port: number; open: boolean }, cmd: Command) => {
    const globals = cmd.optsWithGlobals<{ url?: URL; token?: string }>()
    const envToken = ctx.env.VTLD_TOKEN
    const token =
      globals.token ?? (envToken === undefined || envToken === '' ? undefined : envToken)
    const upstream: UiUpstream =
      globals.url === undefined
        ? { socketPath: socketPath(ctx, cmd) }
        : {
            host: globals.url.hostname.replace(/^\[(.*)\]$/, '$1'),
            port: globals.url.port === '' ? 80 : Number(globals.url.port),
            authorization: token === undefined ? undefined : `Bearer ${token}`,
          }
    // Ask vtld first: no daemon is exit 3 before anything listens.
    const path = await mintUiLink(upstream)
    const proxy: UiProxy = await startUiProxy(upstream, flags.port)
    const link = `${proxy.origin}${path}`
    print(
      ctx,
      `vtl ui: the console of vtld (${'socketPath' in upstream ? upstream.socketPath : (globals.url?.origin ?? '')}) on ${proxy.origin}/ui/; open this link once (Ctrl-C stops):`
    )
    print(ctx, link)
    if (flags.open) openInBrowser(link)
    await untilStopped()
    await proxy.close()
  })
}
