import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  checkScenarioFiles,
  checkScenarioFilesInWorker,
  totalBytes,
  type CheckEvent,
} from './scenario-check.js'

const tmp = mkdtempSync(join(tmpdir(), 'vtl-check-'))
const write = (name: string, text: string): string => {
  const path = join(tmp, name)
  writeFileSync(path, text)
  return path
}
const HEAD = 'version: 1\nname: ok\npartition: { vps: 2, memory: 8MiB }\nsteps:\n'
const files = [
  write('ok.yaml', `${HEAD}${'  - { vp: 0, run: {} }\n'.repeat(1500)}`),
  write('bad.yaml', `${HEAD}  - { vp: 7, run: {} }\n`),
  join(tmp, 'missing.yaml'),
]

describe('sim check verdicts', () => {
  it('reports every file, valid or not, with the phases of each on the way', async () => {
    const events: CheckEvent[] = []
    const summaries = await checkScenarioFiles(files, (e) => events.push(e))
    expect(summaries[0]).toEqual({
      file: files[0],
      valid: true,
      scenario: 'ok',
      steps: 1500,
      vps: 2,
    })
    expect(summaries.slice(1)).toMatchObject([
      { file: files[1], valid: false },
      { file: files[2], valid: false },
    ])
    const errors = summaries.map((s) => (s.valid ? '' : s.error))
    expect(errors[1]).toContain('(step 0): steps[0].vp')
    expect(errors[2]).toContain('cannot read')
    expect(events.filter((e) => e.type === 'progress' && e.index === 0)).toEqual([
      { type: 'progress', file: files[0], index: 0, progress: { phase: 'yaml' } },
      ...[0, 1000, 1500].map((done) => ({
        type: 'progress',
        file: files[0],
        index: 0,
        progress: { phase: 'steps', done, total: 1500 },
      })),
    ])
  })

  it('gives the same verdicts and events from a worker thread', async () => {
    const here: CheckEvent[] = []
    const there: CheckEvent[] = []
    const expected = await checkScenarioFiles(files, (e) => here.push(e))
    expect(await checkScenarioFilesInWorker(files, (e) => there.push(e))).toEqual(expected)
    expect(there).toEqual(here)
  })

  it('counts the bytes to check (a missing file as none)', async () => {
    expect(await totalBytes(files.slice(1))).toBe(HEAD.length + 23)
  })
})
