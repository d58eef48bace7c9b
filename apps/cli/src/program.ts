import { createRequire } from 'node:module'
import { Command, Option } from 'commander'
import { benchCommand } from './commands/bench.js'
import { completionCommand } from './commands/completion.js'
import { daemonCommand } from './commands/daemon.js'
import { demoCommand } from './commands/demo.js'
import { guestCommand } from './commands/guest.js'
import { hypercallCommand, traceCommand } from './commands/hypercall.js'
import { memCommand } from './commands/mem.js'
import { probeCommand } from './commands/probe.js'
import { regCommand } from './commands/reg.js'
import { simCommand } from './commands/sim.js'
import { tdCommand } from './commands/td.js'
import { uiCommand } from './commands/ui.js'
import { vsmCommand } from './commands/vsm.js'
import { defaultContext, type CliContext } from './context.js'
import { parseDaemonUrl } from './parse.js'

/** The version of the installed @vtl/cli (its package.json, next to dist/ and src/). */
export const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string })
  .version

/**
 * Builds the `vtl` command tree (nothing runs until it is parsed). `context` swaps streams,
 * environment and the vtld client (tests, the daemon issue).
 */
export function createProgram(context: Partial<CliContext> = {}): Command {
  const ctx: CliContext = { ...defaultContext(), ...context }
  const program = new Command('vtl')
  program
    .description(
      'vtl: Hyper-V Virtual Secure Mode (VTL0/VTL1) on Intel TDX — scenarios on the embedded simulator, vtld TDs, probe, benchmarks'
    )
    .version(VERSION, '-V, --version')
    .option('--verbose', 'on error, print the cause chain')
    .option('--no-color', 'no colours (also: NO_COLOR=1, or output that is not a terminal)')
    .addOption(
      new Option(
        '--socket <path>',
        'vtld socket (default $XDG_RUNTIME_DIR/vtld.sock, else /tmp/vtld-<uid>/vtld.sock)'
      )
    )
    .addOption(
      new Option(
        '--url <url>',
        'vtld on TCP (vtld --listen) instead of the socket: http://host:port'
      ).argParser(parseDaemonUrl)
    )
    .addOption(new Option('--token <token>', 'bearer token for --url (default $VTLD_TOKEN)'))
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 an expectation or operation failed, 2 bad input, 3 no vtld daemon reachable.

The td, vsm, mem, hypercall and trace commands talk to vtld on --socket: start one with
\`vtl daemon start\`.

Examples:
  $ vtl demo
  $ vtl sim run packages/sim/scenarios --json
  $ vtl mem show --scenario packages/sim/scenarios/canonical-boot.yaml --svg memory.svg
  $ vtl daemon start && vtl td create --name demo && vtl vsm enable-partition --td demo`
    )

  program.addCommand(demoCommand(ctx))
  program.addCommand(simCommand(ctx))
  program.addCommand(daemonCommand(ctx))
  program.addCommand(tdCommand(ctx))
  program.addCommand(vsmCommand(ctx))
  program.addCommand(guestCommand(ctx))
  program.addCommand(regCommand(ctx))
  program.addCommand(memCommand(ctx))
  program.addCommand(hypercallCommand(ctx))
  program.addCommand(traceCommand(ctx))
  program.addCommand(uiCommand(ctx))
  program.addCommand(probeCommand(ctx))
  program.addCommand(benchCommand(ctx))
  program.addCommand(completionCommand(ctx, () => program))

  // Usage errors (unknown option, missing argument, bad value) exit 2, not commander's 1.
  const exitOverride = (command: Command): void => {
    command.exitOverride()
    for (const sub of command.commands) exitOverride(sub)
  }
  exitOverride(program)
  return program
}
