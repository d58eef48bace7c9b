import { Command } from 'commander'
import type { CliContext } from '../context.js'
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
      .option('--vtl <vtl>', 'the VTL it is issued from (0 or 1)', parseGuestVtl, 0 as const)
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
        vtl: 0 | 1
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
          vtl: flags.vtl,
          code,
          repCount: flags.repCount,
          fast: flags.fast === true,
          input: input ?? new Uint8Array(0),
        },
        flags.json
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
      .option('--follow', 'keep printing new events')
      .option('--limit <n>', 'most recent events to print', parseCount, 200)
      .option('--json', 'print events as JSON'),
    'vtl trace --td demo -o demo.trace.json'
  ).action(
    async (
      flags: { td: string; out?: string; follow?: boolean; limit: number; json?: boolean },
      command: Command
    ) => {
      await send(
        ctx,
        command,
        {
          op: 'trace',
          td: flags.td,
          follow: flags.follow === true,
          limit: flags.limit,
          ...(flags.out === undefined ? {} : { out: flags.out }),
        },
        flags.json
      )
    }
  )
}
