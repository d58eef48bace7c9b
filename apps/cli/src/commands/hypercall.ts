import { Command, InvalidArgumentError } from 'commander'
import type { ReconnectNotice, TraceFollow } from '../client.js'
import { client, print, type CliContext } from '../context.js'
import { badInput } from '../errors.js'
import {
  renderChromeTrace,
  renderDone,
  renderStepResult,
  renderTraceEvent,
} from '../output/answers.js'
import { toJson } from '../output/json.js'
import { checkOutputFile, isStdout } from '../output-file.js'
import { parseCount, parseGuestVtl, parseHexBytes, parseIntIn, parseU64 } from '../parse.js'
import { performOne, stepOf } from './guest.js'
import { example, send, tdOption } from './stateful.js'

/** HvCallVtlCall and HvCallVtlReturn: their input is RAX, not an input page. */
const VTL_CALL = 0x11
const VTL_RETURN = 0x12

interface HypercallFlags {
  td: string
  vp: number
  vtl?: 0 | 1
  repCount: number
  fast?: boolean
  rax?: bigint
  json?: boolean
}

/**
 * VtlCall and VtlReturn as the guest step that loads RAX first (`vtlCall {input}`, `vtlReturn
 * {fast}`): what the call sees never depends on what an earlier call left in RAX.
 */
function vtlSwitchStep(code: number, input: Uint8Array | undefined, flags: HypercallFlags) {
  const name = code === VTL_CALL ? 'VtlCall (0x11)' : 'VtlReturn (0x12)'
  if ((input !== undefined && input.length > 0) || flags.fast === true || flags.repCount !== 0) {
    throw badInput(
      `${name} takes its input in RAX: pass --rax VALUE, not an input page, --fast or --rep-count`
    )
  }
  const rax = flags.rax ?? 0n
  if (code === VTL_CALL) return stepOf(flags, 'vtlCall', { input: rax })
  if (rax > 1n) {
    throw badInput(
      `--rax for ${name}: 0 or 1 (bit 0: fast return); any other value is #UD, which a VtlReturn step cannot express`
    )
  }
  return stepOf(flags, 'vtlReturn', { fast: rax === 1n })
}

export function hypercallCommand(ctx: CliContext): Command {
  return example(
    new Command('hypercall')
      .description(
        'issue a raw hypercall on a vtld TD: a call code and the input page as hex bytes'
      )
      .argument(
        '<code>',
        'call code, decimal or 0x hex (e.g. 0x000d EnablePartitionVtl)',
        parseIntIn(0, 0xffff)
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
      .option('--rep-count <n>', 'rep count for rep hypercalls, 0..4095', parseIntIn(0, 0xfff), 0)
      .option('--fast', 'fast (register-based) calling convention')
      .option(
        '--rax <value>',
        'RAX at the VMCALL, the input of VtlCall (0x11: must be 0) and VtlReturn (0x12: bit 0 = fast); default 0',
        parseU64
      )
      .option('--json', 'print the result (status, output bytes) as JSON')
      .addHelpText(
        'after',
        `
Registers: RCX is the control word (code, --rep-count, --fast), RDX/R8 the input and output page
GPAs (or, with --fast, the input bytes themselves). RAX is loaded with --rax (default 0) for VtlCall
and VtlReturn, whose input it is; every other call ignores RAX on entry and returns its status there.
Exit codes: 0 Success, 1 any other HvStatus or an exception (#UD, #GP), 2 bad input.`
      ),
    'vtl hypercall 0x000d "ffffffffffffffff 01 01 000000000000" --td demo',
    'vtl hypercall 0x0011 --td demo        # VtlCall with RAX = 0'
  ).action(
    async (
      code: number,
      input: Uint8Array | undefined,
      flags: HypercallFlags,
      command: Command
    ) => {
      if (code === VTL_CALL || code === VTL_RETURN) {
        // Printed as every raw hypercall: the result alone.
        await performOne(ctx, command, flags, vtlSwitchStep(code, input, flags), {
          text: (entry) => renderStepResult(entry.result),
          json: (entry) => entry.result,
        })
        return
      }
      if (flags.rax !== undefined) {
        throw badInput(
          '--rax: only VtlCall (0x11) and VtlReturn (0x12) take an input in RAX; other calls return their status there'
        )
      }
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
      .option(
        '-o, --out <file>',
        'write Chrome trace-event JSON (Perfetto) instead of printing (- for stdout)'
      )
      .option(
        '--follow',
        'print events as they happen, until Ctrl-C; a dropped stream is resumed (said on stderr)'
      )
      .option(
        '--from <where>',
        'with --follow: now (default: only new events), start (every kept event first) or a seq (#N: the kept events from it on)',
        parseFollowFrom
      )
      .option(
        '--limit <n>',
        'most recent events to print, 1..1000000',
        parseIntIn(1, 1_000_000),
        200
      )
      .option('--json', 'print the trace as JSON (with --follow: one event per line)'),
    'vtl trace --td demo -o demo.trace.json',
    'vtl trace --td demo --follow',
    'vtl trace --td demo --follow --from start'
  ).action(
    async (
      flags: {
        td: string
        out?: string
        follow?: boolean
        from?: FollowFrom
        limit: number
        json?: boolean
      },
      command: Command
    ) => {
      if (flags.follow === true) {
        if (flags.out !== undefined) throw badInput('pass either --follow or --out, not both')
        await follow(ctx, command, flags.td, flags.from ?? 'now', flags.json === true)
        return
      }
      if (flags.from !== undefined) throw badInput('--from goes with --follow')
      if (flags.out !== undefined) await checkOutputFile('--out', flags.out)
      if (flags.out !== undefined && isStdout(flags.out)) {
        const doc = await client(ctx, command).request({
          op: 'trace',
          td: flags.td,
          limit: flags.limit,
        })
        print(ctx, JSON.stringify(doc))
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

type FollowFrom = NonNullable<TraceFollow['from']>

/** `--from`: `now`, `start`, or the seq of the first event wanted (`#12` or `12`). */
function parseFollowFrom(text: string): FollowFrom {
  if (text === 'now' || text === 'start') return text
  const seq = /^#?(\d{1,15})$/.exec(text)?.[1]
  if (seq === undefined) {
    throw new InvalidArgumentError(
      `expected now, start or an event's seq (#N, as vtl trace prints it)`
    )
  }
  // #0 is the first event: from the start, not after an event -1.
  return seq === '0' ? 'start' : { after: Number(seq) - 1 }
}

/**
 * Prints a TD's trace events as they arrive, until Ctrl-C (which ends with exit 0). A dropped
 * stream is resumed after the last event printed, and each attempt is said on stderr.
 */
async function follow(
  ctx: CliContext,
  command: Command,
  td: string,
  from: FollowFrom,
  json: boolean
): Promise<void> {
  const stop = new AbortController()
  const abort = (): void => {
    stop.abort()
  }
  process.once('SIGINT', abort)
  const onReconnect = (n: ReconnectNotice): void => {
    const after = n.after === undefined ? '' : ` after #${n.after}`
    ctx.stderr.write(`vtl: ${n.reason}; reconnecting${after} (attempt ${n.attempt} of ${n.of})\n`)
  }
  try {
    for await (const event of client(ctx, command).traceEvents(td, stop.signal, {
      from,
      onReconnect,
    })) {
      print(ctx, json ? toJson(event, 0) : renderTraceEvent(event))
    }
  } finally {
    process.off('SIGINT', abort)
  }
}
