import { Command, Option } from 'commander'
import type { Scenario } from '@vtl/sim'
import { ExitCode, badInput } from '../errors.js'
import { colors, columns, print, type CliContext } from '../context.js'
import { parseCount, parsePositive } from '../parse.js'
import { checkOutputFile, isStdout, writeOutputFile } from '../output-file.js'
import { liveStatus, progressBar } from '../output/progress.js'
import { toJson } from '../output/json.js'
import { renderTable } from '../output/table.js'
import { wrapText } from '../output/width.js'
import type { Colors } from '../output/colors.js'
import {
  PROGRESS_BYTES,
  checkScenarioFiles,
  checkScenarioFilesInWorker,
  totalBytes,
  type CheckSummary,
} from '../scenario-check.js'
import {
  expandScenarioPaths,
  loadAll,
  mergeChromeTraces,
  runOneInTurns,
  type ScenarioRun,
} from '../scenarios.js'

interface RunFlags {
  seed?: number
  parallel: number
  trace?: string
  json?: boolean
}

function formatRun(run: ScenarioRun, c: Colors, width: number): string {
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
  return wrapText(lines.join('\n'), width, '    ')
}

/** One row per file: verdict, scenario, steps, VTL switches, TDCALLs, forwarded hypercalls. */
function runsTable(runs: readonly ScenarioRun[], c: Colors, width: number): string {
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0)
  return renderTable(
    ['', 'scenario', 'passed', 'failed', 'switches', 'TDCALLs', 'to host'],
    runs.map((run) => {
      const r = run.report
      return [
        r.failed === 0 ? c.green('PASS') : c.red('FAIL'),
        r.scenario,
        r.passed,
        r.failed,
        r.stats.vtlSwitches,
        sum(r.stats.tdcalls),
        sum(r.stats.hypervisorCalls),
      ]
    }),
    { align: ['left', 'left', 'right', 'right', 'right', 'right', 'right'], width }
  )
}

/**
 * Runs parsed scenarios, at most `parallel` at a time in this process, with a progress bar of
 * steps on a terminal's stderr that moves while each file runs (nothing on a pipe).
 */
async function runMany(
  ctx: CliContext,
  files: readonly string[],
  scenarios: readonly Scenario[],
  flags: RunFlags
): Promise<ScenarioRun[]> {
  const total = scenarios.reduce((n, s) => n + s.steps.length, 0)
  const bar = progressBar(total, ctx.stderr)
  const results: ScenarioRun[] = new Array<ScenarioRun>(files.length)
  let next = 0
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++
      const scenario = scenarios[i]
      const file = files[i]
      if (scenario === undefined || file === undefined) return
      results[i] = await runOneInTurns(
        file,
        scenario,
        {
          ...(flags.seed === undefined ? {} : { seed: flags.seed }),
          traceEvents: flags.trace !== undefined,
        },
        (done) => {
          bar.tick(scenario.name, done)
        }
      )
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(flags.parallel, files.length) }, worker))
  } finally {
    bar.stop()
  }
  return results
}

/**
 * `sim check`'s verdicts. Large files on a terminal (and not --json) are checked on a worker
 * thread while stderr shows which file, its phase (reading the YAML, then the steps validated)
 * and the time so far; otherwise in this thread, silently.
 */
async function checkFiles(
  ctx: CliContext,
  files: readonly string[],
  json: boolean
): Promise<CheckSummary[]> {
  if (json || !ctx.stderr.isTTY || (await totalBytes(files)) < PROGRESS_BYTES) {
    return checkScenarioFiles(files)
  }
  const status = liveStatus(ctx.stderr)
  try {
    return await checkScenarioFilesInWorker(files, (event) => {
      if (event.type !== 'progress') return
      const where =
        files.length > 1 ? `${event.file} (${event.index + 1}/${files.length})` : event.file
      const p = event.progress
      if (p.phase === 'yaml') status.show(0, 1, `${where}: reading YAML`)
      else status.show(p.done, p.total, `${where}: ${p.done} of ${p.total} steps valid`)
    })
  } finally {
    status.stop()
  }
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
    .option(
      '--trace <file>',
      'write a Chrome trace-event JSON of the run(s) (open it in Perfetto); - prints it instead of the report'
    )
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
      if (flags.trace !== undefined) await checkOutputFile('--trace', flags.trace)
      const files = await expandScenarioPaths(paths)
      const scenarios = await loadAll(files)
      const runs = await runMany(ctx, files, scenarios, flags)
      const failedFiles = runs.filter((r) => r.report.failed > 0).length
      if (failedFiles > 0) process.exitCode = ExitCode.Failed
      if (flags.trace !== undefined) {
        const trace = `${JSON.stringify(mergeChromeTraces(runs))}\n`
        await writeOutputFile(flags.trace, trace, ctx.stdout)
        // `--trace -`: stdout is the trace alone; the exit code still tells the verdict.
        if (isStdout(flags.trace)) return
      }
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
          for (const run of runs) print(ctx, formatRun(run, c, columns(ctx)))
        } else {
          print(ctx, runsTable(runs, c, columns(ctx)))
          for (const run of runs)
            if (run.report.failed > 0) print(ctx, formatRun(run, c, columns(ctx)))
          print(
            ctx,
            `\n${failedFiles === 0 ? c.green(`all ${runs.length} files passed`) : c.red(`${failedFiles} of ${runs.length} files failed`)}`
          )
        }
        if (flags.trace !== undefined) print(ctx, c.dim(`trace written to ${flags.trace}`))
      }
    })

  sim
    .command('check')
    .description('validate scenario files without running them')
    .argument('<paths...>', 'scenario files, directories or globs (YAML or JSON)')
    .option(
      '--json',
      'print {valid, file, scenario, steps, vps} as JSON (several files: {valid, files: [...]})'
    )
    .addHelpText(
      'after',
      `
Every file is checked and every invalid one is reported (the message names the file, the step and
the field). Exit codes: 0 all valid, 2 one or more not valid.

Example:
  $ vtl sim check packages/sim/scenarios/canonical-boot.yaml
  $ vtl sim check my-scenarios/ 'more/*.yaml'`
    )
    .action(async (paths: string[], flags: { json?: boolean }, command: Command) => {
      const files = await expandScenarioPaths(paths)
      const summaries = await checkFiles(ctx, files, flags.json === true)
      const invalid = summaries.flatMap((s) => (s.valid ? [] : [s.error]))
      const only = summaries[0]
      if (summaries.length === 1 && only !== undefined) {
        if (!only.valid) throw badInput(only.error)
        if (flags.json === true) print(ctx, toJson(only))
      } else if (flags.json === true) {
        print(ctx, toJson({ valid: invalid.length === 0, files: summaries }))
      }
      if (flags.json !== true) {
        const c = colors(ctx, command)
        for (const s of summaries) {
          if (!s.valid) ctx.stderr.write(`vtl: ${s.error}\n`)
          else {
            print(
              ctx,
              `${c.green('valid')} ${s.file}: ${s.scenario}, ${s.steps} steps on ${s.vps} VP(s)`
            )
          }
        }
        if (summaries.length > 1) {
          print(
            ctx,
            invalid.length === 0
              ? `all ${summaries.length} files are valid`
              : `${invalid.length} of ${summaries.length} files are not valid`
          )
        }
      }
      if (invalid.length > 0) process.exitCode = ExitCode.BadInput
    })

  return sim
}
