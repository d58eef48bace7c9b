import { readFile } from 'node:fs/promises'
import { Command } from 'commander'
import { parse as parseYaml } from 'yaml'
import { compareExpectations, parseScenario, type Mismatch } from '@vtl/sim'
import type { StepSource } from '../client.js'
import { client, colors, print, type CliContext } from '../context.js'
import { ExitCode, badInput } from '../errors.js'
import { renderStepResult } from '../output/answers.js'
import type { Colors } from '../output/colors.js'
import { toJson } from '../output/json.js'
import type { StepsResult, Td } from '../vtld-api.js'
import { example, tdOption } from './stateful.js'

// `vtl td step`: scenario-format steps (with their expectations) performed on a vtld TD, reported
// as `vtl sim run` reports a scenario: each step's result, `ok` and `mismatches`, exit 1 when an
// expectation failed.

/** A steps file: a list of steps, or a mapping with `steps` (a scenario without `partition`). */
const FILE_KEYS = ['version', 'name', 'description', 'steps']

type Doc = Record<string, unknown>
const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v)

async function readSteps(file: string): Promise<Doc[]> {
  let text: string
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8')
  } catch (error) {
    throw badInput(`${file}: cannot read (${(error as Error).message})`, error)
  }
  let data: unknown
  try {
    data = parseYaml(text, { uniqueKeys: true })
  } catch (error) {
    throw badInput(`${file}: not valid YAML/JSON (${(error as Error).message.split('\n')[0]})`)
  }
  if (isDoc(data)) {
    const extra = Object.keys(data).find((k) => !FILE_KEYS.includes(k))
    if (extra !== undefined) {
      throw badInput(
        `${file}: ${extra}: not taken here (a steps file has ${FILE_KEYS.join(', ')}; the TD is the daemon's)`
      )
    }
    data = data.steps
  }
  if (!Array.isArray(data) || data.length === 0) {
    throw badInput(`${file}: expected a non-empty list of steps, or a mapping with steps`)
  }
  return data.map((step, i) => {
    if (!isDoc(step)) throw badInput(`${file}: steps[${i}]: expected a mapping`)
    return step
  })
}

async function readStdin(): Promise<string> {
  let text = ''
  for await (const chunk of process.stdin) text += String(chunk)
  return text
}

/** Validates the steps against the TD's partition, as `vtl sim check` does a file (exit 2). */
function validate(file: string, td: Td, steps: readonly Doc[]): void {
  const scenario = {
    version: 1,
    partition: { vps: td.vps, memory: td.memory, gpaWidth: td.gpaWidth, mbecCapable: td.mbec },
    steps,
  }
  parseScenario(JSON.stringify(scenario), file)
}

type ReportStep = StepsResult['results'][number] & { ok: boolean; mismatches: Mismatch[] }

function formatReport(file: string, td: string, steps: readonly ReportStep[], c: Colors): string {
  const failed = steps.filter((s) => !s.ok).length
  const lines = steps.map((s) => {
    const head = `${s.ok ? ' ' : c.red('✗')} step ${s.index} VP${s.vp} VTL${s.vtl} ${s.action}: ${renderStepResult(s.result)}`
    return [
      head,
      ...s.mismatches.map(
        (m) =>
          `    ${m.field} expected ${JSON.stringify(m.expected)}, got ${JSON.stringify(m.actual)}`
      ),
    ].join('\n')
  })
  const verdict = failed === 0 ? c.green('PASS') : c.red('FAIL')
  lines.push(`${verdict} ${file} on ${td}: ${steps.length - failed} passed, ${failed} failed`)
  return lines.join('\n')
}

export function tdStepCommand(ctx: CliContext): Command {
  return example(
    new Command('step')
      .description(
        'perform scenario-format steps on a vtld TD and check their expectations (as `vtl sim run`)'
      )
      .addOption(tdOption())
      .requiredOption(
        '-f, --file <file>',
        'steps file: YAML or JSON, a list of steps or {steps}; - reads stdin'
      )
      .option('--json', 'print the report {version, td, file, passed, failed, steps} as JSON')
      .addHelpText(
        'after',
        `
Each step is a scenario step (vp, vtl?, one action, expect?, note?); every step is validated
against the TD before any runs. Exit codes: 0 every expectation held, 1 one failed (or the daemon
refused a step, e.g. a vtl assertion), 2 the file is not valid.`
      ),
    'vtl td step --td demo -f protect-and-touch.yaml'
  ).action(async (flags: { td: string; file: string; json?: boolean }, command: Command) => {
    const steps = await readSteps(flags.file)
    const daemon = client(ctx, command)
    const td = await daemon.request({ op: 'td.show', td: flags.td })
    validate(flags.file, td, steps)
    // Validated above: each is a step object with its `vp`.
    const sent = steps.map((step) =>
      Object.fromEntries(Object.entries(step).filter(([k]) => k !== 'expect'))
    ) as StepSource[]
    const answer = await daemon.request({ op: 'td.steps', td: td.id, steps: sent })
    const report = answer.results.map((r): ReportStep => {
      const expect = steps[r.index]?.expect
      const mismatches = isDoc(expect) ? compareExpectations(expect, r.result) : []
      return { ...r, ok: mismatches.length === 0, mismatches }
    })
    const failed = report.filter((s) => !s.ok).length
    if (flags.json === true) {
      print(
        ctx,
        toJson({
          version: 1,
          td: td.id,
          file: flags.file,
          passed: report.length - failed,
          failed,
          steps: report,
        })
      )
    } else {
      print(ctx, formatReport(flags.file, td.id, report, colors(ctx, command)))
    }
    if (failed > 0) process.exitCode = ExitCode.Failed
  })
}
