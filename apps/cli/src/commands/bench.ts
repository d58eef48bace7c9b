import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { Command } from 'commander'
import { colors, columns, print, type CliContext } from '../context.js'
import { CliError, ExitCode, badInput } from '../errors.js'
import type { Colors } from '../output/colors.js'
import { toJson } from '../output/json.js'
import { renderTable } from '../output/table.js'

/** A figure of bench-format.md (kept local: the CLI reads the document, it does not measure). */
export interface BenchFigure {
  id: string
  value: number
  unit: string
}

export interface BenchResultRow extends BenchFigure {
  better: 'higher' | 'lower'
  baseline?: BenchFigure
  ratio?: number
  target?: { value: number; unit: string }
  samples: number
  rme: number
  note?: string
}

export interface BenchDocument {
  version: 1
  machine: { cpus: number; cpuModel: string; node: string; os: string }
  startedAt: string
  results: BenchResultRow[]
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null

/** Checks the shape of a bench-format.md document (version 1); throws a bad-input error. */
export function parseBenchDocument(data: unknown, source: string): BenchDocument {
  const fail = (what: string): never => {
    throw badInput(`${source}: not a bench results document (${what})`)
  }
  if (!isRecord(data)) return fail('not an object')
  if (data.version !== 1) fail('version must be 1')
  if (!isRecord(data.machine)) fail('machine is missing')
  if (typeof data.startedAt !== 'string') fail('startedAt is missing')
  if (!Array.isArray(data.results)) return fail('results is not a list')
  data.results.forEach((r: unknown, i) => {
    if (!isRecord(r)) return fail(`results[${i}] is not an object`)
    if (typeof r.id !== 'string') fail(`results[${i}].id`)
    if (typeof r.value !== 'number') fail(`results[${i}].value`)
    if (typeof r.unit !== 'string') fail(`results[${i}].unit`)
    if (r.better !== 'higher' && r.better !== 'lower') fail(`results[${i}].better`)
    return undefined
  })
  return data as unknown as BenchDocument
}

/**
 * met / missed / no target: a figure against its target in the direction `better` says. A target
 * in the figure's own unit is compared with the value; one in another unit (`x baseline`) with the
 * ratio to the baseline measured in the same run.
 */
export function verdict(r: BenchResultRow): 'met' | 'missed' | 'no target' {
  if (r.target === undefined) return 'no target'
  const figure = r.target.unit === r.unit ? r.value : r.ratio
  if (figure === undefined) return 'no target'
  const ok = r.better === 'higher' ? figure >= r.target.value : figure <= r.target.value
  return ok ? 'met' : 'missed'
}

function num(v: number): string {
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US')
  if (v !== 0 && Math.abs(v) < 0.001) return v.toExponential(2)
  return Number(v.toPrecision(4)).toString()
}

export function formatBenchTable(doc: BenchDocument, c: Colors, width: number): string {
  const rows = doc.results.map((r) => {
    const v = verdict(r)
    const mark = v === 'met' ? c.green('met') : v === 'missed' ? c.red('missed') : c.dim('—')
    return [
      r.id,
      `${num(r.value)} ${r.unit}`,
      r.target === undefined
        ? ''
        : `${r.better === 'higher' ? '≥' : '≤'} ${num(r.target.value)} ${r.target.unit}`,
      mark,
      r.baseline === undefined
        ? ''
        : `${r.baseline.id} ${num(r.baseline.value)} ${r.baseline.unit}`,
      r.ratio === undefined ? '' : `${num(r.ratio)}×`,
      `±${(r.rme * 100).toFixed(1)}% (${r.samples})`,
    ]
  })
  const met = doc.results.filter((r) => verdict(r) === 'met').length
  const missed = doc.results.filter((r) => verdict(r) === 'missed').length
  return [
    c.dim(
      `${doc.machine.cpuModel} × ${doc.machine.cpus}, node ${doc.machine.node}, ${doc.machine.os}, started ${doc.startedAt}`
    ),
    renderTable(['id', 'value', 'target', 'verdict', 'baseline', 'ratio', 'rme (samples)'], rows, {
      align: ['left', 'right', 'right', 'left', 'left', 'right', 'right'],
      width,
    }),
    `${met} met, ${missed} missed, ${doc.results.length - met - missed} without a target`,
  ].join('\n')
}

/** BENCHMARKS.md: the figures of one run, their machine, and how to reproduce them. */
export function formatBenchMarkdown(doc: BenchDocument): string {
  const cell = (text: string): string => text.replaceAll('|', '\\|')
  const rows = doc.results.map((r) => {
    const v = verdict(r)
    return [
      `\`${r.id}\``,
      `${num(r.value)} ${r.unit}`,
      r.target === undefined
        ? ''
        : `${r.better === 'higher' ? '≥' : '≤'} ${num(r.target.value)} ${r.target.unit}`,
      v === 'met' ? 'met' : v === 'missed' ? '**missed**' : '',
      r.baseline === undefined
        ? ''
        : `\`${r.baseline.id}\` ${num(r.baseline.value)} ${r.baseline.unit}`,
      r.ratio === undefined ? '' : `${num(r.ratio)}×`,
      `±${(r.rme * 100).toFixed(1)}% (${r.samples})`,
      r.note ?? '',
    ]
      .map(cell)
      .join(' | ')
  })
  const met = doc.results.filter((r) => verdict(r) === 'met').length
  const missed = doc.results.filter((r) => verdict(r) === 'missed').length
  const { machine } = doc
  return [
    '# Benchmarks',
    '',
    'Written by `pnpm bench` (`vtl bench --markdown`) from `bench/results.json` of a real run;',
    'never edited by hand. Each ratio divides a figure by its baseline measured in the same run;',
    'absolute figures depend on the machine, ratios are what compare across runs.',
    '',
    `Machine: ${machine.cpuModel} × ${machine.cpus}, Node ${machine.node}, ${machine.os}. ` +
      `Run started ${doc.startedAt}.`,
    '',
    '| id | value | target | verdict | baseline | ratio | rme (samples) | what |',
    '| --- | ---: | ---: | --- | --- | ---: | ---: | --- |',
    ...rows.map((row) => `| ${row} |`),
    '',
    `${met} met, ${missed} missed, ${doc.results.length - met - missed} without a target.`,
    '',
    '## Reproduce',
    '',
    '```sh',
    'npx -y pnpm@10.34.9 install',
    'npx -y pnpm@10.34.9 bench     # every suite, one after another → bench/results.json, BENCHMARKS.md',
    'vtl bench --from bench/results.json   # the same as a table, each figure against its target',
    '```',
    '',
  ].join('\n')
}

/** The monorepo root above `from` (the one with scripts/bench.mjs), if any. */
export function findWorkspaceRoot(from: string): string | undefined {
  let dir = resolve(from)
  for (;;) {
    if (
      existsSync(join(dir, 'pnpm-workspace.yaml')) &&
      existsSync(join(dir, 'scripts', 'bench.mjs'))
    )
      return dir
    const up = dirname(dir)
    if (up === dir) return undefined
    dir = up
  }
}

function runBenchScript(root: string, ctx: CliContext): Promise<void> {
  return new Promise((done, fail) => {
    // The suites' own output goes to stderr: stdout carries only the table or the JSON document.
    const child = spawn(process.execPath, [join(root, 'scripts', 'bench.mjs')], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...ctx.env, TURBO_TELEMETRY_DISABLED: '1' },
    })
    child.stdout.pipe(ctx.stderr, { end: false })
    child.stderr.pipe(ctx.stderr, { end: false })
    child.on('error', fail)
    child.on('close', (code) => {
      if (code === 0) done()
      else
        fail(
          new CliError(
            'E_BENCH',
            `the benchmark run failed (exit ${code ?? 'signal'})`,
            ExitCode.Failed
          )
        )
    })
  })
}

export function benchCommand(ctx: CliContext): Command {
  return new Command('bench')
    .description(
      'run every benchmark suite (the root `pnpm bench`) and mark each figure against its target'
    )
    .option(
      '--from <file>',
      'print an existing results document (bench/results.json) without running'
    )
    .option('--json', 'print the bench-format.md document')
    .option('--markdown', 'print BENCHMARKS.md (the figures, the machine, how to reproduce)')
    .addHelpText(
      'after',
      `
Running needs the @vtl monorepo (found from the current directory); it takes minutes and writes
bench/results.json. A missed target is shown, never an error (exit 0).

Examples:
  $ vtl bench
  $ vtl bench --from bench/results.json --json`
    )
    .action(
      async (flags: { from?: string; json?: boolean; markdown?: boolean }, command: Command) => {
        let file = flags.from
        if (file === undefined) {
          const root = findWorkspaceRoot(process.cwd())
          if (root === undefined) {
            throw badInput(
              'vtl bench runs inside the @vtl monorepo (no scripts/bench.mjs above this directory); use --from FILE to print results'
            )
          }
          await runBenchScript(root, ctx)
          file = join(root, 'bench', 'results.json')
        }
        let text: string
        try {
          text = await readFile(file, 'utf8')
        } catch (error) {
          throw badInput(`${file}: cannot read`, error)
        }
        let data: unknown
        try {
          data = JSON.parse(text)
        } catch (error) {
          throw badInput(`${file}: not JSON`, error)
        }
        const doc = parseBenchDocument(data, file)
        print(
          ctx,
          flags.json === true
            ? toJson(doc)
            : flags.markdown === true
              ? formatBenchMarkdown(doc)
              : formatBenchTable(doc, colors(ctx, command), columns(ctx))
        )
      }
    )
}
