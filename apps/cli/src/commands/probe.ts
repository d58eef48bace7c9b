import { Command } from 'commander'
import { print, type CliContext } from '../context.js'
import { toJson } from '../output/json.js'
import { example } from './stateful.js'

export function probeCommand(ctx: CliContext): Command {
  return example(
    new Command('probe')
      .description(
        'what this host offers for VSM on TDX: FFI, /dev/mshv*, KVM (and its TDX VM type), TDX guest, the x86 guest CPU'
      )
      .option('--json', 'print the probe result as JSON'),
    'vtl probe'
  ).action(async (flags: { json?: boolean }) => {
    // Loaded on demand: the hardware package brings an FFI that other commands never need.
    const hw = await import('@vtl/tdx-hw')
    const { unicornAvailability } = await import('@vtl/x86')
    const result = hw.probe()
    const x86Cpu = unicornAvailability()
    const x86Line = x86Cpu.available
      ? `x86 guest CPU (partition.cpu: x86): libunicorn ${x86Cpu.version} (${x86Cpu.soname})`
      : `x86 guest CPU (partition.cpu: x86): unavailable: ${x86Cpu.reason}`
    print(
      ctx,
      flags.json === true ? toJson({ ...result, x86Cpu }) : `${hw.formatProbe(result)}\n${x86Line}`
    )
  })
}
