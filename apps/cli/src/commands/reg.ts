import { Command, InvalidArgumentError, Option } from 'commander'
import { formatRegisterName, registerNumberFromName } from '@vtl/core'
import type { CliContext } from '../context.js'
import { renderStep } from '../output/answers.js'
import { parseU64 } from '../parse.js'
import { performOne, stepOf, withStepTarget } from './guest.js'
import { example } from './stateful.js'

/** A TLFS register name (case-insensitive, aliases and `HvRegister` prefixes allowed) or number. */
function parseRegister(text: string): string {
  const trimmed = text.trim()
  const known = registerNumberFromName(trimmed)
  if (known !== undefined) return formatRegisterName(known)
  if (/^(0x[0-9a-fA-F]{1,8}|[0-9]{1,10})$/.test(trimmed) && Number(trimmed) <= 0xffff_ffff) {
    return trimmed
  }
  throw new InvalidArgumentError(
    'expected a TLFS register name (VsmPartitionConfig, VsmVpStatus, Rip, Cr0, Sint2, …) or its 32-bit number'
  )
}

const targetVtl = (): Option =>
  new Option(
    '--target-vtl <vtl>',
    'HvInputVtl: the VTL whose register it is (0..2; default: the VP’s active VTL)'
  ).choices(['0', '1', '2'])

interface RegFlags {
  td: string
  vp: number
  vtl?: 0 | 1
  targetVtl?: string
  json?: boolean
}

const target = (f: RegFlags) =>
  f.targetVtl === undefined ? {} : { targetVtl: Number(f.targetVtl) }

export function regCommand(ctx: CliContext): Command {
  const reg = new Command('reg').description(
    'read or write one VP register of a vtld TD (HvCallGetVpRegisters / HvCallSetVpRegisters)'
  )

  example(
    withStepTarget(
      reg
        .command('get')
        .description('HvCallGetVpRegisters for one register, issued by the VP at its active VTL')
        .argument('<name>', 'TLFS register name or number', parseRegister)
    ).addOption(targetVtl()),
    'vtl reg get --td demo --vp 0 VsmVpStatus',
    'vtl reg get --td demo --vp 0 Rip --target-vtl 0'
  ).action(async (name: string, flags: RegFlags, command: Command) => {
    await performOne(
      ctx,
      command,
      flags,
      stepOf(flags, 'getRegister', { name, ...target(flags) }),
      {
        text: (entry) => {
          const result = entry.result as { value?: unknown } | undefined
          return typeof result?.value === 'string' ? `${name} = ${result.value}` : renderStep(entry)
        },
      }
    )
  })

  example(
    withStepTarget(
      reg
        .command('set')
        .description('HvCallSetVpRegisters for one register, issued by the VP at its active VTL')
        .argument('<name>', 'TLFS register name or number', parseRegister)
        .argument('<value>', '64-bit value, decimal or 0x hex', parseU64)
    ).addOption(targetVtl()),
    'vtl reg set --td demo --vp 0 VsmPartitionConfig 0x1f'
  ).action(async (name: string, value: bigint, flags: RegFlags, command: Command) => {
    await performOne(
      ctx,
      command,
      flags,
      stepOf(flags, 'setRegister', { name, value, ...target(flags) })
    )
  })

  return reg
}
