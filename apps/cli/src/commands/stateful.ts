import { Command, Option } from 'commander'
import type { VtldRequest } from '../client.js'
import { client, columns, print, type CliContext } from '../context.js'
import { ExitCode } from '../errors.js'
import { stepFailed } from '../output/answers.js'
import { toJson } from '../output/json.js'

/**
 * Sends one request to `vtld` and prints its answer: the JSON itself with --json, otherwise
 * `render(answer)`. A hypercall-shaped answer with a failing HvStatus is printed and ends with
 * exit 1. Without a daemon the client throws `E_NO_DAEMON` (exit 3).
 */
export async function send(
  ctx: CliContext,
  command: Command,
  request: VtldRequest,
  json: boolean | undefined,
  render: (answer: unknown, width: number) => string = (answer) => toJson(answer)
): Promise<void> {
  const answer = await client(ctx, command).request(request)
  print(ctx, json === true ? toJson(answer) : render(answer, columns(ctx)))
  if (stepFailed(answer)) process.exitCode = ExitCode.Failed
}

/** `--td <id>`: the TD a command acts on. */
export const tdOption = (): Option =>
  new Option('--td <id>', 'the TD (name or id from `vtl td list`)').makeOptionMandatory()

/** Adds `Example:` lines to a command's help. */
export function example(command: Command, ...lines: string[]): Command {
  return command.addHelpText('after', `\nExample:\n${lines.map((l) => `  $ ${l}`).join('\n')}`)
}
