import { Command } from 'commander'
import { client, print, type CliContext } from '../context.js'
import { badInput } from '../errors.js'
import {
  renderChromeTrace,
  renderDone,
  renderStepResult,
  renderTraceEvent,
} from '../output/answers.js'
import { toJson } from '../output/json.js'
import { parseCount, parseGuestVtl, parseHexBytes } from '../parse.js'
import { example, send, tdOption } from './stateful.js'

export function hypercallCommand(ctx: CliContext): Command {
  return example(
    new Command('hypercall')
      .description(
        'issue a raw hypercall on a vtld TD: a call code and the input page as hex bytes'
      )
      .argument(
        '<code>',
        'call code, decimal or 0x hex (e.g. 0x000d EnablePartitionVtl)',
        parseCount
      )
      .argument(
        '[input]',
        'input page as hex byte pairs, no 0x (whitespace ignored)',
        parseHexBytes
      )
      .addOption(tdOption())
      .option('--vp <n>', 'the VP that issues it', parseCount, 0)
      .option(
        '--vtl <vtl>',
        'assert the VTL it is issued from (0 or 1): refused if the VP is active in the other one',
        parseGuestVtl
      )
      .option('--rep-count <n>', 'rep count for rep hypercalls', parseCount, 0)
      .option('--fast', 'fast (register-based) calling convention')
      .option('--json', 'print the result (status, output bytes) as JSON'),
    'vtl hypercall 0x000d "ffffffffffffffff 01 01 000000000000" --td demo'
  ).action(
    async (
      code: number,
      input: Uint8Array | undefined,
      flags: {
        td: string
        vp: number
        vtl?: 0 | 1
        repCount: number
        fast?: boolean
        json?: boolean
      },
      command: Command
    ) => {
      await send(
        ctx,
        command,
        {
          op: 'hypercall',
          td: flags.td,
          vp: flags.vp,
          ...(flags.vtl === undefined ? {} : { vtl: flags.vtl }),
          code,
          repCount: flags.repCount,
          fast: flags.fast === true,
          input: input ?? new Uint8Array(0),
        },
        flags.json,
        renderStepResult
      )
    }
  )
}

export function traceCommand(ctx: CliContext): Command {
  return example(
    new Command('trace')
      .description('read a vtld TD’s event trace (hypercalls, TDCALLs, VTL switches, intercepts)')
      .addOption(tdOption())
      .option('-o, --out <file>', 'write Chrome trace-event JSON (Perfetto) instead of printing')
      .option('--follow', 'print new events as they happen, until Ctrl-C')
      .option('--limit <n>', 'most recent events to print', parseCount, 200)
      .option('--json', 'print the trace as JSON (with --follow: one event per line)'),
    'vtl trace --td demo -o demo.trace.json',
    'vtl trace --td demo --follow'
  ).action(
    async (
      flags: { td: string; out?: string; follow?: boolean; limit: number; json?: boolean },
      command: Command
    ) => {
      if (flags.follow === true) {
        if (flags.out !== undefined) throw badInput('pass either --follow or --out, not both')
        await follow(ctx, command, flags.td, flags.json === true)
        return
      }
      await send(
        ctx,
        command,
        {
          op: 'trace',
          td: flags.td,
          limit: flags.limit,
          ...(flags.out === undefined ? {} : { out: flags.out }),
        },
        flags.json,
        flags.out === undefined ? renderChromeTrace : renderDone
      )
    }
  )
}

/** Prints a TD's trace events as they arrive, until Ctrl-C (which ends with exit 0). */
async function follow(ctx: CliContext, command: Command, td: string, json: boolean): Promise<void> {
  const stop = new AbortController()
  const abort = (): void => {
    stop.abort()
  }
  process.once('SIGINT', abort)
  try {
    for await (const event of client(ctx, command).traceEvents(td, stop.signal)) {
      print(ctx, json ? toJson(event, 0) : renderTraceEvent(event))
    }
  } finally {
    process.off('SIGINT', abort)
  }
}
