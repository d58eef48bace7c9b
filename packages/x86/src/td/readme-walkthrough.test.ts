import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadScenarioFile, runScenario } from '@vtl/sim'
import { describe, expect, it } from 'vitest'
import { KERNELS_DIR } from '../test/kernels.js'
import { nasm } from '../test/nasm.js'
import { guestCodeSkip } from '../test/skip.js'
import { x86ScenarioCpu } from './scenario-cpu.js'

const skip = guestCodeSkip()

/** The README's fenced blocks of one language in the walkthrough, dedented. */
function blocks(readme: string, language: string): string[] {
  const walkthrough = readme.slice(readme.indexOf('### Walkthrough'))
  const out: string[] = []
  const fence = new RegExp(`^( *)\`\`\`${language}\\n([\\s\\S]*?)^\\1\`\`\``, 'gm')
  for (const match of walkthrough.matchAll(fence)) {
    const indent = match[1]?.length ?? 0
    out.push((match[2] ?? '').replace(new RegExp(`^ {0,${indent}}`, 'gm'), ''))
  }
  return out
}

describe.skipIf(skip)('the README walkthrough', () => {
  it('builds the VTL0 and VTL1 programs and its scenario passes', async () => {
    const readme = readFileSync(join(KERNELS_DIR, '..', 'README.md'), 'utf8')
    const [vtl0, vtl1] = blocks(readme, 'nasm')
    const [scenario] = blocks(readme, 'yaml')
    if (vtl0 === undefined || vtl1 === undefined || scenario === undefined) {
      throw new Error('the walkthrough lost a block')
    }
    const dir = mkdtempSync(join(tmpdir(), 'vtl-walkthrough-'))
    writeFileSync(join(dir, 'vtl0.bin'), nasm(vtl0))
    writeFileSync(join(dir, 'vtl1.bin'), nasm(vtl1))
    writeFileSync(join(dir, 'scenario.yaml'), scenario)
    const report = runScenario(await loadScenarioFile(join(dir, 'scenario.yaml')), {
      cpu: x86ScenarioCpu,
    })
    expect(report.steps[0]?.result).toMatchObject({ exitCode: 0, console: 'V0 V1 OK' })
    expect(report.failed).toBe(0)
  })
})
