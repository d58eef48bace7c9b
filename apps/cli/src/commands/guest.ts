import { Command, Option } from 'commander'
import type { StepSource } from '../client.js'
import { client, print, type CliContext } from '../context.js'
import { ExitCode } from '../errors.js'
import { GUEST_ACTIONS, type GuestAction, type GuestFlags } from '../guest-actions.js'
import { renderStep, stepFailed } from '../output/answers.js'
import { toJson } from '../output/json.js'
import type { StepsResult } from '../vtld-api.js'
import { parseCount, parseGuestVtl } from '../parse.js'
import { example, tdOption } from './stateful.js'

/** The flags every guest step takes: which TD and VP, the asserted VTL, JSON output. */
export function withStepTarget(command: Command): Command {
  return command
    .addOption(tdOption())
    .addOption(new Option('--vp <n>', 'the VP that acts').argParser(parseCount).default(0))
    .option(
      '--vtl <vtl>',
      'assert the VTL the VP acts at (0 or 1): refused (exit 1) if it is active in the other one',
      parseGuestVtl
    )
    .option('--json', 'print {vp, vtl, action, result} as JSON')
}

interface TargetFlags {
  td: string
  vp: number
  vtl?: 0 | 1
  json?: boolean
}

/** The step object for the common flags and one action body. */
export function stepOf(flags: TargetFlags, key: string, body: unknown): StepSource {
  return { vp: flags.vp, ...(flags.vtl === undefined ? {} : { vtl: flags.vtl }), [key]: body }
}

type Entry = Record<string, unknown>
const id = (entry: Entry): unknown => entry

/** How a performed step prints: text (default `renderStep`) and JSON (default the entry). */
export interface StepView {
  text?: (entry: Entry) => string
  json?: (entry: Entry) => unknown
}

/**
 * Performs one step on a vtld TD and prints what the guest saw; anything but success (an
 * HvStatus other than Success, an exception, an intercepted access) exits 1.
 */
export async function performOne(
  ctx: CliContext,
  command: Command,
  flags: TargetFlags,
  step: StepSource,
  view: StepView = {}
): Promise<void> {
  const answer = await client(ctx, command).request({
    op: 'td.steps',
    td: flags.td,
    steps: [step],
  })
  const entry: Partial<StepsResult['results'][number]> = answer.results[0] ?? {}
  const shown: Entry = Object.fromEntries(Object.entries(entry).filter(([k]) => k !== 'index'))
  print(
    ctx,
    flags.json === true ? toJson((view.json ?? id)(shown)) : (view.text ?? renderStep)(shown)
  )
  if (stepFailed(entry.result)) process.exitCode = ExitCode.Failed
}

function guestSubcommand(ctx: CliContext, action: GuestAction): Command {
  const command = withStepTarget(new Command(action.command).description(action.description))
  for (const option of action.options()) command.addOption(option)
  return example(command, action.example).action(
    async (flags: TargetFlags & GuestFlags, cmd: Command) => {
      await performOne(ctx, cmd, flags, stepOf(flags, action.key, action.body(flags)))
    }
  )
}

export function guestCommand(ctx: CliContext): Command {
  const guest = new Command('guest')
    .description(
      'one guest action on a vtld TD’s VP, as a scenario step: VTL calls, memory accesses, interrupts'
    )
    .addHelpText(
      'after',
      `
Each action prints what the guest saw; exit 0 only when it succeeded, 1 for an exception (#UD,
#GP, #MC), an intercepted access (ok=false) or a VP that could not act, 2 for bad input.
Several steps with expectations: \`vtl td step --td NAME -f steps.yaml\`.`
    )
  for (const action of GUEST_ACTIONS) guest.addCommand(guestSubcommand(ctx, action))
  return guest
}
