import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { Journal } from '../src/journal.js'
import { TdService } from '../src/td-service.js'
import { expectAnswer, setup } from './routes-helpers.js'

const enable = { vp: 0, code: '0x000d', input: 'ffffffffffffffff 01 00 0000 00000000' }
const key = (k: string) => ({ 'idempotency-key': k })

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

describe('Idempotency-Key', () => {
  it('a retry answers the first answer and applies once; without a key it applies again', async () => {
    const journal = new Journal(':memory:')
    const ctx = setup({ tds: new TdService(journal) })
    const id = await ctx.createTd()
    const path = `/v1/tds/${id}/hypercall`
    const first = await ctx.post(path, enable, key('k-1'))
    expect(first.status).toBe(200)
    const body = await first.text()
    expect(JSON.parse(body)).toMatchObject({ status: 'Success' })
    const again = await ctx.post(path, enable, key('k-1'))
    expect(again.status).toBe(200)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(await again.text()).toBe(body)
    expect(journal.records().filter((r) => r.op === 'step')).toHaveLength(1)
    expect(await expectAnswer(ctx.post(path, enable), 200)).toMatchObject({
      status: 'InvalidVtlState',
    })
  })

  it('the same key on another body, path or method is 422', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    await expectAnswer(ctx.post(`/v1/tds/${id}/hypercall`, enable, key('k')), 200)
    const others: [string, () => Response | Promise<Response>][] = [
      ['body', () => ctx.post(`/v1/tds/${id}/hypercall`, { ...enable, vp: 1 }, key('k'))],
      ['path', () => ctx.post(`/v1/tds/${id}/steps`, { steps: [{ vp: 0, run: {} }] }, key('k'))],
      ['method', () => ctx.send('DELETE', `/v1/tds/${id}`, undefined, key('k'))],
    ]
    for (const [name, request] of others) {
      const response = await request()
      expect(response.status, name).toBe(422)
      expect(await response.json(), name).toMatchObject({ code: 'E_IDEMPOTENCY_MISMATCH' })
    }
    expect(await ctx.get(`/v1/tds/${id}`)).toMatchObject({ id })
  })

  it('creates one TD and deletes it once (a retried delete is 204, not 404)', async () => {
    const ctx = setup()
    const body = { name: 'once', vps: 1, memory: '1MiB' }
    const a = await expectAnswer(ctx.post('/v1/tds', body, key('create')), 201)
    const b = await expectAnswer(ctx.post('/v1/tds', body, key('create')), 201)
    expect(b).toEqual(a)
    expect(((await ctx.get('/v1/tds')) as { tds: unknown[] }).tds).toHaveLength(1)
    const path = `/v1/tds/${String(a.id)}?force=true`
    await expectAnswer(ctx.send('DELETE', path, undefined, key('delete')), 204)
    await expectAnswer(ctx.send('DELETE', path, undefined, key('delete')), 204)
    await expectAnswer(ctx.send('DELETE', path), 404, 'E_NO_TD')
  })

  it('keeps a problem answer that was journaled (a vtl assertion), not one refused before', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    const path = `/v1/tds/${id}/hypercall`
    await expectAnswer(ctx.post(path, { ...enable, vtl: 1 }, key('m')), 409, 'E_VTL_MISMATCH')
    const replayed = await ctx.post(path, { ...enable, vtl: 1 }, key('m'))
    expect(replayed.headers.get('idempotent-replayed')).toBe('true')
    await expectAnswer(replayed, 409, 'E_VTL_MISMATCH')
    // Refused as bad input: nothing journaled, nothing kept; the key stays free.
    await expectAnswer(ctx.post(path, { ...enable, vp: 9 }, key('free')), 400, 'E_BAD_VP')
    await expectAnswer(ctx.post(path, enable, key('free')), 200)
  })

  it('concurrent requests with one key run once', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    const path = `/v1/tds/${id}/hypercall`
    const answers = await Promise.all(
      [1, 2, 3].map(async () => (await ctx.post(path, enable, key('c'))).json())
    )
    expect(answers).toEqual([answers[0], answers[0], answers[0]])
    expect(answers[0]).toMatchObject({ status: 'Success' })
  })

  it('survives a restart (the answer is in the journal database)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtld-idem-'))
    dirs.push(dir)
    const file = join(dir, 'vtld.sqlite')
    const journal = new Journal(file)
    const ctx = setup({ tds: new TdService(journal) })
    const id = await ctx.createTd()
    const first = await expectAnswer(ctx.post(`/v1/tds/${id}/hypercall`, enable, key('r')), 200)
    journal.close()
    const reopened = new Journal(file)
    const again = setup({ tds: new TdService(reopened) })
    expect(
      await expectAnswer(again.post(`/v1/tds/${id}/hypercall`, enable, key('r')), 200)
    ).toEqual(first)
    reopened.close()
  })

  it('stores answers deflated; one too large keeps only its status and is never run again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtld-idem-'))
    dirs.push(dir)
    const file = join(dir, 'vtld.sqlite')
    const journal = new Journal(file, { maxAnswerBytes: 256 })
    const ctx = setup({ tds: new TdService(journal) })
    const id = await ctx.createTd()
    const steps = (count: number) => ({
      steps: Array.from({ length: count }, (_, i) => ({
        vp: 0,
        write: { gpa: '0x1000', size: 8, value: i },
      })),
    })
    const small = await expectAnswer(ctx.post(`/v1/tds/${id}/steps`, steps(2), key('s')), 200)
    await expectAnswer(ctx.post(`/v1/tds/${id}/steps`, steps(200), key('big')), 200)
    const db = new Database(file, { readonly: true })
    const rows = db
      .prepare('SELECT key, length(body) AS size, dropped FROM idempotency ORDER BY key')
      .all() as { key: string; size: number; dropped: number | null }[]
    db.close()
    const stored = rows.find((r) => r.key === 's')
    expect(stored?.dropped).toBeNull()
    expect(stored?.size).toBeLessThan(JSON.stringify(small).length / 2)
    const big = rows.find((r) => r.key === 'big')
    expect(big?.size).toBe(0)
    expect(big?.dropped).toBeGreaterThan(256)
    // Replays: the small one as it was; the big one says it ran, and does not run it again.
    const replayed = await ctx.post(`/v1/tds/${id}/steps`, steps(2), key('s'))
    expect(await expectAnswer(replayed, 200)).toEqual(small)
    const gone = await ctx.post(`/v1/tds/${id}/steps`, steps(200), key('big'))
    expect(gone.headers.get('idempotent-replayed')).toBe('true')
    const problem = await expectAnswer(gone, 409, 'E_ANSWER_NOT_KEPT')
    expect(problem.detail).toMatch(/already ran \(answered 200\)/)
    const read = (await expectAnswer(
      ctx.post(`/v1/tds/${id}/steps`, { steps: [{ vp: 0, read: { gpa: '0x1000' } }] }),
      200
    )) as { results: { result: { value: string } }[] }
    expect(Number(read.results[0]?.result.value)).toBe(199)
    journal.close()
  })

  it('replays an answer stored as text by an older vtld (schema 4)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtld-idem-'))
    dirs.push(dir)
    const file = join(dir, 'vtld.sqlite')
    new Journal(file).close()
    const db = new Database(file)
    db.exec('ALTER TABLE idempotency DROP COLUMN dropped; UPDATE schema_version SET version = 4')
    db.prepare(
      "INSERT INTO idempotency (key, fingerprint, status, body, at) VALUES ('old', 'f', 200, '{\"a\":1}', ?)"
    ).run(new Date().toISOString())
    db.close()
    const journal = new Journal(file)
    expect(journal.answer('old')).toEqual({
      key: 'old',
      fingerprint: 'f',
      status: 200,
      body: '{"a":1}',
    })
    journal.close()
  })

  it('forgets answers older than the TTL at a checkpoint', async () => {
    let clock = Date.now()
    const tds = new TdService(new Journal(':memory:'), { answerTtlMs: 60_000, now: () => clock })
    const ctx = setup({ tds })
    const id = await ctx.createTd()
    const path = `/v1/tds/${id}/hypercall`
    await expectAnswer(ctx.post(path, enable, key('old')), 200)
    tds.checkpoint()
    await expectAnswer(ctx.post(path, { ...enable, vp: 1 }, key('old')), 422)
    clock += 120_000
    tds.checkpoint()
    // Forgotten: the key is free for another request.
    await expectAnswer(ctx.post(path, { ...enable, vp: 1 }, key('old')), 200)
  })

  it.each(['', 'a b', 'x'.repeat(256), 'é'])('refuses the key %j (400)', async (bad) => {
    const ctx = setup()
    await expectAnswer(
      ctx.post('/v1/tds', { vps: 1, memory: 4096 }, key(bad)),
      400,
      'E_BAD_REQUEST'
    )
  })
})
