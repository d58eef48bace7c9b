import { Command } from 'commander'
import { formatByteSize } from '@vtl/core/schemas'
import { loadScenarioFile } from '@vtl/sim'
import { colors, columns, print, type CliContext } from '../context.js'
import { ExitCode } from '../errors.js'
import { toJson } from '../output/json.js'
import { renderTable } from '../output/table.js'
import { formatTimeline } from '../output/timeline.js'
import { wrapText } from '../output/width.js'
import { DEMO_SCENARIOS, bundledScenarioPath, runOne, type ScenarioRun } from '../scenarios.js'

/** The summary figures of one run. */
export interface RunSummary {
  scenario: string
  vps: number
  steps: number
  passed: number
  failed: number
  hypercalls: number
  forwardedToHost: number
  vtlSwitches: number
  tdcalls: number
  simulatedCycles: number
  simulatedUs: number
}

export function summarize(run: ScenarioRun): RunSummary {
  const { report, td } = run
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0)
  const cycles = td.clock.max()
  return {
    scenario: report.scenario,
    vps: td.vpCount,
    steps: report.steps.length,
    passed: report.passed,
    failed: report.failed,
    hypercalls: report.steps.filter((s) => s.action === 'hypercall').length,
    forwardedToHost: sum(report.stats.hypervisorCalls),
    vtlSwitches: report.stats.vtlSwitches,
    tdcalls: sum(report.stats.tdcalls),
    simulatedCycles: cycles,
    simulatedUs: Math.round((cycles / (td.clock.ghz * 1000)) * 100) / 100,
  }
}

export function demoCommand(ctx: CliContext): Command {
  return new Command('demo')
    .description(
      'run the bundled canonical scenarios (dynamic VTL1 enable on a 4-VP TD, protections, intercepts) and show what happened'
    )
    .option('--json', 'print {scenarios: [{summary, report}]} as JSON')
    .addHelpText(
      'after',
      `
Example:
  $ vtl demo`
    )
    .action(async (flags: { json?: boolean }, command: Command) => {
      const runs: ScenarioRun[] = []
      for (const name of DEMO_SCENARIOS) {
        const file = bundledScenarioPath(name)
        runs.push(runOne(file, await loadScenarioFile(file), { traceEvents: true }))
      }
      const summaries = runs.map(summarize)
      if (flags.json === true) {
        print(
          ctx,
          toJson({ scenarios: runs.map((r, i) => ({ summary: summaries[i], report: r.report })) })
        )
      } else {
        const c = colors(ctx, command)
        const width = columns(ctx)
        for (const run of runs) {
          const p = run.scenario.partition
          print(
            ctx,
            wrapText(
              `${c.bold(c.cyan(`▶ ${run.report.scenario}`))} ${c.dim(`${p.vps} VP(s), ${formatByteSize(p.memory)}, seed ${run.report.seed}; times are each VP’s simulated clock`)}`,
              width,
              '  '
            )
          )
          print(
            ctx,
            formatTimeline(
              run.td,
              run.report,
              run.scenario.steps.map((s) => s.action),
              c,
              width
            )
          )
          print(ctx, '')
        }
        print(ctx, c.bold('Summary'))
        print(
          ctx,
          renderTable(
            ['scenario', 'steps ok', 'calls', 'switches', 'TDCALLs', 'sim µs'],
            summaries.map((s) => [
              s.scenario,
              `${s.passed}/${s.steps}`,
              s.hypercalls,
              s.vtlSwitches,
              s.tdcalls,
              s.simulatedUs,
            ]),
            { align: ['left', 'right', 'right', 'right', 'right', 'right'], width }
          )
        )
        print(
          ctx,
          c.dim(
            wrapText(
              'calls: guest hypercalls; switches: VTL switches; sim µs: the longest VP clock of the run under @vtl/sim’s cost model at 2 GHz (--json has the cycles).\nNext: vtl sim run <file> --trace out.json, then open out.json in https://ui.perfetto.dev',
              width
            )
          )
        )
      }
      if (runs.some((r) => r.report.failed > 0)) process.exitCode = ExitCode.Failed
    })
}
