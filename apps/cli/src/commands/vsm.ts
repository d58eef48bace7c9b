import { Command, Option } from 'commander'
import type { CliContext } from '../context.js'
import { parseCount, parseGuestVtl, parseU64 } from '../parse.js'
import { renderPartitionConfig, renderStepResult, renderVsmStatus } from '../output/answers.js'
import { example, send, tdOption } from './stateful.js'

interface ContextFlags {
  rip?: bigint
  rsp?: bigint
  cr3?: bigint
}

const contextFields = (f: ContextFlags): ContextFlags => ({
  ...(f.rip === undefined ? {} : { rip: f.rip }),
  ...(f.rsp === undefined ? {} : { rsp: f.rsp }),
  ...(f.cr3 === undefined ? {} : { cr3: f.cr3 }),
})

function withContext(command: Command): Command {
  return command
    .option('--rip <u64>', 'initial RIP (hex or decimal)', parseU64)
    .option('--rsp <u64>', 'initial RSP', parseU64)
    .option('--cr3 <u64>', 'initial CR3', parseU64)
}

export function vsmCommand(ctx: CliContext): Command {
  const vsm = new Command('vsm').description(
    'Virtual Secure Mode on a vtld TD: enable VTL1, start VPs, VSM registers'
  )
  const vpOption = (): Option =>
    new Option('--vp <n>', 'the VP that issues the hypercall').argParser(parseCount).default(0)

  example(
    vsm
      .command('enable-partition')
      .description('HvCallEnablePartitionVtl: enable VTL1 for the partition')
      .addOption(tdOption())
      .addOption(vpOption())
      .option('--mbec', 'enable mode-based execute control for VTL1')
      .option('--json', 'print the hypercall result as JSON'),
    'vtl vsm enable-partition --td demo --mbec'
  ).action(
    async (flags: { td: string; vp: number; mbec?: boolean; json?: boolean }, command: Command) => {
      await send(
        ctx,
        command,
        {
          op: 'vsm.enable-partition',
          td: flags.td,
          vp: flags.vp,
          targetVtl: 1,
          mbec: flags.mbec === true,
        },
        flags.json,
        renderStepResult
      )
    }
  )

  example(
    withContext(
      vsm
        .command('enable-vp')
        .description('HvCallEnableVpVtl: enable VTL1 on a VP with an initial context')
        .addOption(tdOption())
        .addOption(vpOption())
        .requiredOption('--target-vp <n>', 'the VP to enable VTL1 on', parseCount)
    ).option('--json', 'print the hypercall result as JSON'),
    'vtl vsm enable-vp --td demo --target-vp 1 --rip 0x100000 --rsp 0x200000'
  ).action(
    async (
      flags: ContextFlags & { td: string; vp: number; targetVp: number; json?: boolean },
      command: Command
    ) => {
      await send(
        ctx,
        command,
        {
          op: 'vsm.enable-vp',
          td: flags.td,
          vp: flags.vp,
          targetVp: flags.targetVp,
          targetVtl: 1,
          ...contextFields(flags),
        },
        flags.json,
        renderStepResult
      )
    }
  )

  example(
    withContext(
      vsm
        .command('start-vp')
        .description('HvCallStartVirtualProcessor: start an AP at a VTL with an initial context')
        .addOption(tdOption())
        .addOption(vpOption())
        .requiredOption('--target-vp <n>', 'the VP to start', parseCount)
        .option('--target-vtl <vtl>', 'the VTL it starts in (0 or 1)', parseGuestVtl, 0 as const)
    ).option('--json', 'print the hypercall result as JSON'),
    'vtl vsm start-vp --td demo --target-vp 2 --target-vtl 0 --rip 0x120000'
  ).action(
    async (
      flags: ContextFlags & {
        td: string
        vp: number
        targetVp: number
        targetVtl: 0 | 1
        json?: boolean
      },
      command: Command
    ) => {
      await send(
        ctx,
        command,
        {
          op: 'vsm.start-vp',
          td: flags.td,
          vp: flags.vp,
          targetVp: flags.targetVp,
          targetVtl: flags.targetVtl,
          ...contextFields(flags),
        },
        flags.json,
        renderStepResult
      )
    }
  )

  example(
    vsm
      .command('config')
      .description('read (or with --set, write from VTL1) HvRegisterVsmPartitionConfig')
      .addOption(tdOption())
      .addOption(vpOption())
      .option('--set <u64>', 'the new register value (hex or decimal)', parseU64)
      .option('--json', 'print the register as JSON'),
    'vtl vsm config --td demo --set 0x1f'
  ).action(
    async (flags: { td: string; vp: number; set?: bigint; json?: boolean }, command: Command) => {
      await send(
        ctx,
        command,
        {
          op: 'vsm.config',
          td: flags.td,
          vp: flags.vp,
          ...(flags.set === undefined ? {} : { set: flags.set }),
        },
        flags.json,
        flags.set === undefined ? renderPartitionConfig : renderStepResult
      )
    }
  )

  example(
    vsm
      .command('status')
      .description('VSM state of a TD: partition enable, per-VP enable state, active VTLs')
      .addOption(tdOption())
      .option('--json', 'print as JSON'),
    'vtl vsm status --td demo'
  ).action(async (flags: { td: string; json?: boolean }, command: Command) => {
    await send(ctx, command, { op: 'vsm.status', td: flags.td }, flags.json, renderVsmStatus)
  })

  return vsm
}
