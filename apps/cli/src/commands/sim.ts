import { writeFile } from 'node:fs/promises'
import { basename } from 'node:path'
import { setImmediate as yieldToLoop } from 'node:timers/promises'
import { Command, Option } from 'commander'
import type { Scenario } from '@vtl/sim'
import { CliError, ExitCode, badInput } from '../errors.js'
import { colors, print, type CliContext } from '../context.js'
import { parseCount, parsePositive } from '../parse.js'
import { progressBar } from '../output/progress.js'
import { toJson } from '../output/json.js'
import { renderTable } from '../output/table.js'
import type { Colors } from '../output/colors.js'
import {
  expandScenarioPaths,
  loadAll,
  mergeChromeTraces,
  runOne,
  type ScenarioRun,
} from '../scenarios.js'

interface RunFlags {
  seed?: number
  parallel: number
  trace?: string
  json?: boolean
}

function formatRun(run: ScenarioRun, c: Colors): string {
  const r = run.report
  const ok = r.failed === 0
  const head = `${ok ? c.green('PASS') : c.red('FAIL')} ${r.scenario} ${c.dim(run.file)}  ${r.passed} passed, ${r.failed} failed`
  const lines = [head]
  for (const step of r.steps) {
    if (step.ok) continue
    for (const m of step.mismatches) {
      lines.push(
        `  step ${step.index} (VP${step.vp} ${step.action}): ${m.field} expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`
      )
    }
  }
  return lines.join('\n')
}

/** One row per file: verdict, scenario, steps, VTL switches, TDCALLs, forwarded hypercalls. */
function runsTable(runs: readonly ScenarioRun[], c: Colors): string {
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0)
  return renderTable(
    ['', 'scenario', 'file', 'passed', 'failed', 'VTL switches', 'TDCALLs', 'to host'],
    runs.map((run) => {
      const r = run.report
      return [
        r.failed === 0 ? c.green('PASS') : c.red('FAIL'),
        r.scenario,
        basename(run.file),
        r.passed,
        r.failed,
        r.stats.vtlSwitches,
        sum(r.stats.tdcalls),
        sum(r.stats.hypervisorCalls),
      ]
    }),
    { align: ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right'] }
  )
}

/** Runs parsed scenarios, at most `parallel` at a time in this process. */
async function runMany(
  ctx: CliContext,
  files: readonly string[],
  scenarios: readonly Scenario[],
  flags: RunFlags
): Promise<ScenarioRun[]> {
  const bar = progressBar(files.length, ctx.stderr)
  const results: ScenarioRun[] = new Array<ScenarioRun>(files.length)
  let next = 0
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++
      const scenario = scenarios[i]
      const file = files[i]
      if (scenario === undefined || file === undefined) return
      // Let the other lanes and the progress bar in between files.
      await yieldToLoop()
      results[i] = runOne(file, scenario, {
        ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        traceEvents: flags.trace !== undefined,
      })
      bar.tick(scenario.name)
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(flags.parallel, files.length) }, worker))
  } finally {
    bar.stop()
  }
  return results
}

export function simCommand(ctx: CliContext): Command {
  const sim = new Command('sim').description(
    'run and check scenario files on the embedded simulator'
  )

  sim
    .command('run')
    .description(
      'run scenario files (or every .yaml/.yml/.json file in a directory) on a fresh simulated TD each'
    )
    .argument('<paths...>', 'scenario files or directories')
    .option('--seed <n>', 'override every file’s seed (scheduler and faults)', parseCount)
    .addOption(
      new Option(
        '--parallel <n>',
        'run up to N files at a time; they share this process (interleaved file by file, no worker threads: @vtl/sim parallelises the VPs of one TD, not separate files)'
      )
        .argParser(parsePositive)
        .default(1)
    )
    .option('--trace <file>', 'write a Chrome trace-event JSON of the run(s) (open it in Perfetto)')
    .option(
      '--json',
      'print the report (scenario-format.md; several files: {version, files, passed, failed, reports})'
    )
    .addHelpText(
      'after',
      `
Exit codes: 0 every expectation held, 1 an expectation failed, 2 a file is not a valid scenario
(nothing runs then).

Example:
  $ vtl sim run packages/sim/scenarios --parallel 4 --trace run.json`
    )
    .action(async (paths: string[], flags: RunFlags, command: Command) => {
      const files = await expandScenarioPaths(paths)
      const scenarios = await loadAll(files)
      const runs = await runMany(ctx, files, scenarios, flags)
      if (flags.trace !== undefined) {
        await writeFile(flags.trace, `${JSON.stringify(mergeChromeTraces(runs))}\n`)
      }
      const failedFiles = runs.filter((r) => r.report.failed > 0).length
      if (flags.json === true) {
        const first = runs[0]
        if (runs.length === 1 && first !== undefined) print(ctx, toJson(first.report))
        else
          print(
            ctx,
            toJson({
              version: 1,
              files: runs.length,
              passed: runs.length - failedFiles,
              failed: failedFiles,
              reports: runs.map((r) => r.report),
            })
          )
      } else {
        const c = colors(ctx, command)
        if (runs.length === 1) {
          for (const run of runs) print(ctx, formatRun(run, c))
        } else {
          print(ctx, runsTable(runs, c))
          for (const run of runs) if (run.report.failed > 0) print(ctx, formatRun(run, c))
          print(
            ctx,
            `\n${failedFiles === 0 ? c.green(`all ${runs.length} files passed`) : c.red(`${failedFiles} of ${runs.length} files failed`)}`
          )
        }
        if (flags.trace !== undefined) print(ctx, c.dim(`trace written to ${flags.trace}`))
      }
      if (failedFiles > 0) process.exitCode = ExitCode.Failed
    })

  sim
    .command('check')
    .description('validate a scenario file without running it')
    .argument('<file>', 'scenario file (YAML or JSON)')
    .option('--json', 'print {valid, file, scenario, steps, vps} as JSON')
    .addHelpText(
      'after',
      `
Exit codes: 0 valid, 2 not valid (the message names the file, the step and the field).

Example:
  $ vtl sim check packages/sim/scenarios/canonical-boot.yaml`
    )
    .action(async (file: string, flags: { json?: boolean }, command: Command) => {
      const [path] = await expandScenarioPaths([file])
      if (path === undefined || path !== file)
        throw badInput(`${file}: expected a file, not a directory`)
      const [scenario] = await loadAll([path])
      if (scenario === undefined)
        throw new CliError('E_INTERNAL', 'nothing parsed', ExitCode.Failed)
      const summary = {
        valid: true,
        file: path,
        scenario: scenario.name,
        steps: scenario.steps.length,
        vps: scenario.partition.vps,
      }
      if (flags.json === true) print(ctx, toJson(summary))
      else {
        const c = colors(ctx, command)
        print(
          ctx,
          `${c.green('valid')} ${path}: ${scenario.name}, ${scenario.steps.length} steps on ${scenario.partition.vps} VP(s)`
        )
      }
    })

  return sim
}
