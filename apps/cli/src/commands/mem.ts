import { Command, Option } from 'commander'
import { formatHex } from '@vtl/core/schemas'
import { loadScenarioFile } from '@vtl/sim'
import { client, colors, columns, print, type CliContext } from '../context.js'
import { badInput } from '../errors.js'
import { renderRuns, renderStepResult } from '../output/answers.js'
import { toJson } from '../output/json.js'
import {
  parseByteSize,
  parseCount,
  parseGuestVtl,
  parseMapGpaFlags,
  parsePageGpa,
  parsePageSize,
  parseU64,
} from '../parse.js'
import { cpuFor, runOne } from '../scenarios.js'
import { checkOutputFile, isStdout, writeOutputFile } from '../output-file.js'
import { daemonRunsSvgInput } from '../svg/daemon-runs.js'
import {
  collectRuns,
  renderRunsSvg,
  svgRunToWireRun,
  type GpaSvgInput,
  type WireRun,
} from '@vtl/memory-map'
import { example, send, tdOption } from './stateful.js'

interface RangeFlags {
  td: string
  vp: number
  gpa: bigint
  size: bigint
  json?: boolean
}

/**
 * `mem show --json`, one schema for a vtld TD and a scenario: the source (`td` or `scenario`), the
 * GPA range shown (`end` exclusive) and its runs as vtld's memory/runs route sends them.
 */
export type MemShowJson = ({ td: string } | { scenario: string }) & {
  start: string
  end: string
  runs: WireRun[]
  svg?: string
}

interface MemMap {
  doc: MemShowJson
  svg: GpaSvgInput
  /** The picture's title. */
  title: string
}

interface MapFlags {
  td?: string
  gpa?: bigint
  size?: bigint
}

/** A vtld TD's runs, every page of them. */
async function daemonMap(ctx: CliContext, command: Command, flags: MapFlags): Promise<MemMap> {
  if (flags.td === undefined) {
    throw badInput('mem show needs --td <id> (vtld) or --scenario <file> (embedded simulator)')
  }
  const { td, runs } = await client(ctx, command).request({
    op: 'mem.show',
    td: flags.td,
    ...(flags.gpa === undefined ? {} : { start: flags.gpa }),
    ...(flags.size === undefined ? {} : { size: flags.size }),
  })
  // The range the runs cover, as for a scenario: from the picture's input.
  const svg = daemonRunsSvgInput(runs, flags.gpa)
  return {
    doc: { td, start: formatHex(svg.start), end: formatHex(svg.end), runs },
    svg,
    title: `${td}: GPA space (vtld), ${svg.runs.length} run(s)`,
  }
}

/** A scenario's final GPA space on the embedded simulator. */
async function scenarioMap(file: string, flags: MapFlags): Promise<MemMap> {
  if (flags.td !== undefined) throw badInput('pass either --td or --scenario, not both')
  const scenario = await loadScenarioFile(file)
  const cpu = await cpuFor(scenario)
  const run = runOne(file, scenario, cpu === undefined ? {} : { cpu })
  const start = flags.gpa ?? 0n
  const want =
    flags.gpa === undefined && flags.size === undefined
      ? undefined
      : { start, end: start + (flags.size ?? run.td.memoryBytes - start) }
  const svg = collectRuns(run.td.space, want)
  return {
    doc: {
      scenario: scenario.name,
      start: formatHex(svg.start),
      end: formatHex(svg.end),
      runs: svg.runs.map(svgRunToWireRun),
    },
    svg,
    title: `${scenario.name}: GPA space after ${scenario.steps.length} steps (${run.report.passed} passed, ${run.report.failed} failed)`,
  }
}

export function memCommand(ctx: CliContext): Command {
  const mem = new Command('mem').description(
    'guest memory: VTL protections, host visibility, the GPA map'
  )
  const vpOption = (): Option =>
    new Option('--vp <n>', 'the VP that issues the hypercall').argParser(parseCount).default(0)
  const range = (command: Command): Command =>
    command
      .requiredOption('--gpa <u64>', 'first GPA (4 KiB aligned, hex or decimal)', parsePageGpa)
      .addOption(
        new Option('--size <size>', 'bytes, a multiple of 4 KiB: 4096, 0x2000, 2MiB…')
          .argParser(parsePageSize)
          .default(4096n, '4KiB')
      )

  example(
    range(
      mem
        .command('protect')
        .description(
          'HvCallModifyVtlProtectionMask: set the permissions VTL0 has on pages (issued from VTL1, after vsm config --set enables VTL protection)'
        )
        .addOption(tdOption())
        .addOption(vpOption())
        .requiredOption(
          '--flags <flags>',
          'permissions for the VTLs below: rwxu letters (r---, rw, none), TLFS names (R,W,KX,UX) or a number',
          parseMapGpaFlags
        )
        .option(
          '--target-vtl <vtl>',
          'HvInputVtl: the VTL whose mask applies to the VTLs below it (default: the caller’s; 0 is refused)',
          parseGuestVtl
        )
    ).option('--json', 'print the hypercall result as JSON'),
    'vtl mem protect --td demo --gpa 0x10000 --size 8KiB --flags R'
  ).action(async (flags: RangeFlags & { flags: number; targetVtl?: 0 | 1 }, command: Command) => {
    await send(
      ctx,
      command,
      {
        op: 'mem.protect',
        td: flags.td,
        vp: flags.vp,
        ...(flags.targetVtl === undefined ? {} : { targetVtl: flags.targetVtl }),
        start: flags.gpa,
        size: flags.size,
        flags: flags.flags,
      },
      flags.json,
      renderStepResult
    )
  })

  for (const [name, what] of [
    ['share', 'make pages shared with the host (HvCallModifySparseGpaPageHostVisibility)'],
    ['unshare', 'make shared pages private again (HvCallModifySparseGpaPageHostVisibility)'],
  ] as const) {
    example(
      range(mem.command(name).description(what).addOption(tdOption()).addOption(vpOption())).option(
        '--json',
        'print the hypercall result as JSON'
      ),
      `vtl mem ${name} --td demo --gpa 0x200000 --size 64KiB`
    ).action(async (flags: RangeFlags, command: Command) => {
      await send(
        ctx,
        command,
        {
          op: name === 'share' ? 'mem.share' : 'mem.unshare',
          td: flags.td,
          vp: flags.vp,
          start: flags.gpa,
          size: flags.size,
        },
        flags.json,
        renderStepResult
      )
    })
  }

  example(
    mem
      .command('show')
      .description(
        'show the GPA map as runs (private/shared, per-VTL permissions, locks, overlays); --svg draws it'
      )
      .option('--td <id>', 'the vtld TD to show')
      .option(
        '--scenario <file>',
        'instead of a vtld TD: run this scenario on the embedded simulator and show its final memory'
      )
      .option('--gpa <u64>', 'first GPA to show', parseU64)
      .option('--size <size>', 'bytes to show from --gpa', parseByteSize)
      .option(
        '--svg <file>',
        'also write a picture of the map (the runs shown) as SVG; - prints only the SVG'
      )
      .option('--json', 'print the runs as JSON'),
    'vtl mem show --scenario packages/sim/scenarios/canonical-boot.yaml --svg memory.svg',
    'vtl mem show --td demo --json',
    'vtl mem show --td demo --gpa 0x10000 --size 1MiB --svg demo.svg'
  ).action(
    async (
      flags: {
        td?: string
        scenario?: string
        gpa?: bigint
        size?: bigint
        svg?: string
        json?: boolean
      },
      command: Command
    ) => {
      if (flags.svg !== undefined) await checkOutputFile('--svg', flags.svg)
      const shown =
        flags.scenario === undefined
          ? await daemonMap(ctx, command, flags)
          : await scenarioMap(flags.scenario, flags)
      if (flags.svg !== undefined) {
        await writeOutputFile(
          flags.svg,
          renderRunsSvg(shown.svg, { title: shown.title }),
          ctx.stdout
        )
        // `--svg -`: stdout is the picture alone.
        if (isStdout(flags.svg)) return
      }
      const doc: MemShowJson =
        flags.svg === undefined ? shown.doc : { ...shown.doc, svg: flags.svg }
      print(ctx, flags.json === true ? toJson(doc) : renderRuns(doc, columns(ctx)))
      if (flags.svg !== undefined && flags.json !== true) {
        print(ctx, colors(ctx, command).dim(`SVG written to ${flags.svg}`))
      }
    }
  )

  return mem
}
