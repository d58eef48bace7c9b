import { Command } from 'commander'
import { print, type CliContext } from '../context.js'
import { toJson } from '../output/json.js'
import { example } from './stateful.js'

export function probeCommand(ctx: CliContext): Command {
  return example(
    new Command('probe')
      .description(
        'what this host offers for VSM on TDX: FFI, /dev/mshv*, KVM (and its TDX VM type), TDX guest'
      )
      .option('--json', 'print the probe result as JSON'),
    'vtl probe'
  ).action(async (flags: { json?: boolean }) => {
    // Loaded on demand: the hardware package brings an FFI that other commands never need.
    const hw = await import('@vtl/tdx-hw')
    const result = hw.probe()
    print(ctx, flags.json === true ? toJson(result) : hw.formatProbe(result))
  })
}
