import type { CampaignSummary, Machine } from './runner.js'

// The parts of RELIABILITY.md written from one summary: `pnpm reliability` writes the whole file
// from campaign-results/, `pnpm campaign merge` writes a merged campaign's section beside it.

const int = (n: number): string => n.toLocaleString('en-US')
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** `Intel(R) Xeon(R) Processor × 2, Node v20.20.2, linux 6.18.44` */
export function machineText(machine: Machine): string {
  return `${machine.model} × ${machine.cpus}, Node ${machine.node}, ${machine.os}`
}

/** One line saying how a summary's figures were produced: one process, or n shards merged. */
export function productionText(s: CampaignSummary): string {
  if (s.shards === undefined) {
    return `\`${s.campaign}\`: one unsharded process (\`pnpm campaign ${s.campaign}\`) on the machine below.`
  }
  const machines = new Set(s.shards.map((shard) => machineText(shard.machine)))
  return (
    `\`${s.campaign}\`: ${s.shards.length} shards (\`pnpm campaign ${s.campaign} --shard i/${s.shards.length}\`) ` +
    `on ${machines.size === 1 ? 'one kind of machine' : `${machines.size} kinds of machine`}, ` +
    `merged by \`pnpm campaign merge\`; the duration is the longest shard's.`
  )
}

/** The `## <campaign>` section: failures, invariant counts, shards (if merged), outcomes. */
export function reliabilitySection(s: CampaignSummary): string[] {
  const lines = [`## \`${s.campaign}\``, '']
  if (s.failures > 0) {
    lines.push(
      `**${s.failures} failing runs**, seeds ${s.failedSeeds.slice(0, 20).join(', ')}; replay: \`${String(s.replay)}\`.`,
      ''
    )
    for (const f of s.failed.slice(0, 5)) lines.push(`- seed ${f.seed}: ${f.violations.join('; ')}`)
    lines.push('')
  }
  if (s.shards !== undefined) {
    lines.push(
      `Merged from ${s.shards.length} shards:`,
      '',
      '| shard | host | machine | started | runs | failures | duration |',
      '| ---: | --- | --- | --- | ---: | ---: | ---: |'
    )
    for (const shard of s.shards) {
      lines.push(
        `| ${shard.index}/${s.shards.length} | ${shard.machine.host} | ${machineText(shard.machine)} | ` +
          `${shard.startedAt.replace(/\.\d+Z$/, 'Z')} | ${int(shard.runs)} | ${shard.failures} | ${seconds(shard.durationMs)} |`
      )
    }
    lines.push('')
  }
  lines.push('| invariant | checked |', '| --- | ---: |')
  for (const [name, n] of Object.entries(s.invariants)) lines.push(`| ${name} | ${int(n)} |`)
  const outcomes = Object.entries(s.outcomes)
  if (outcomes.length > 0) {
    lines.push('', '<details><summary>what the runs exercised</summary>', '')
    lines.push('| outcome | count |', '| --- | ---: |')
    for (const [name, n] of outcomes) lines.push(`| ${name} | ${int(n)} |`)
    lines.push('', '</details>')
  }
  lines.push('')
  return lines
}
