import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { Journal } from '../src/journal.js'
import { TdService } from '../src/td-service.js'

const child = fileURLToPath(new URL('./journal-crash-child.ts', import.meta.url))
const tsx = createRequire(import.meta.url).resolve('tsx')

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('kill -9 while journaling', () => {
  it('keeps every acknowledged command, and an Idempotency-Key answer exactly with its record', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtld-crash-'))
    dirs.push(dir)
    const file = join(dir, 'vtld.sqlite')
    const proc = spawn(
      process.execPath,
      ['--conditions=@vtl/source', '--import', tsx, child, file],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      }
    )
    let td = ''
    let acknowledged = -1
    await new Promise<void>((resolve, reject) => {
      let buffer = ''
      proc.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString()
        const lines = buffer.split('\n')
        buffer = lines.pop() ?? ''
        for (const line of lines) {
          if (line.startsWith('td ')) td = line.slice(3)
          else acknowledged = Number(line)
        }
        // Kill it mid-stream, past several snapshots and compactions.
        if (acknowledged >= 60) {
          proc.kill('SIGKILL')
          resolve()
        }
      })
      proc.on('exit', (code) => {
        reject(new Error(`child exited early (${String(code)})`))
      })
    })
    await new Promise((resolve) => proc.once('close', resolve))

    const journal = new Journal(file)
    const tds = new TdService(journal)
    const [read] = await tds.steps(td, [{ vp: 0, read: { gpa: '0x10000' } }])
    const last = Number(read?.result.value)
    expect(last).toBeGreaterThanOrEqual(acknowledged)
    // The last journaled write has its answer, the next one neither record nor answer.
    for (let i = 0; i <= last; i++) expect(journal.answer(`k-${i}`), `k-${i}`).toBeDefined()
    expect(journal.answer(`k-${last + 1}`)).toBeUndefined()
    journal.close()
  })
})
