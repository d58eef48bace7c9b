import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { parseSteps, parseStepsSliced } from '../src/guest-steps.js'
import { Journal } from '../src/journal.js'
import { TdService } from '../src/td-service.js'
import { TimeSlice } from '../src/time-slice.js'

// #15 finding 6: a long command gives the event loop a turn between steps, so /healthz and the
// other TDs are answered while it runs (order of completion, no timing).

const writes = (count: number) =>
  Array.from({ length: count }, (_, i) => ({
    vp: 0,
    write: { gpa: '0x1000', size: 8, value: i },
  }))

describe('time-sliced commands', () => {
  it('a used-up slice hands out one turn of the event loop, a fresh one none', async () => {
    expect(new TimeSlice(60_000).due()).toBeUndefined()
    const slice = new TimeSlice(0)
    let turned = false
    setImmediate(() => (turned = true))
    await slice.due()
    expect(turned).toBe(true)
  })

  it('/healthz and another TD answer while 1024 steps run on one TD', async () => {
    const tds = new TdService()
    const app = createApp({ tds })
    const busy = await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })
    const other = await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })
    const order: string[] = []
    const long = tds.steps(busy.id, writes(1024)).then((done) => {
      order.push('steps')
      return done
    })
    // Let the command start, then ask the others.
    await new Promise((resolve) => setImmediate(resolve))
    const health = Promise.resolve(app.request('/healthz')).then((r: Response) =>
      order.push(`healthz ${r.status}`)
    )
    const status = tds.status(other.id).then(() => order.push('other TD'))
    await Promise.all([long, health, status])
    expect(order.indexOf('steps')).toBe(2)
    expect(order).toContain('healthz 200')
    // The yielding command still ran every step, in order, as one journaled command.
    expect((await long).length).toBe(1024)
    const [read] = await tds.steps(busy.id, [{ vp: 0, read: { gpa: '0x1000' } }])
    expect(Number(read?.result.value)).toBe(1023)
  })

  it('a TD deleted (force) while its command yields journals nothing of it', async () => {
    const journal = new Journal(':memory:')
    const tds = new TdService(journal)
    const { id } = await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })
    const long = tds.steps(id, writes(1024))
    await new Promise((resolve) => setImmediate(resolve))
    await tds.delete(id, { force: true })
    await expect(long).rejects.toMatchObject({ code: 'E_NO_TD' })
    expect(journal.records().map((r) => r.op)).toEqual(['td.create', 'td.delete'])
  })

  it('steps are validated in slices, giving the event loop turns', async () => {
    const meta = { vps: 1, memory: '0x100000', gpaWidth: 48, mbec: true } as Parameters<
      typeof parseSteps
    >[0]
    const good = writes(1024)
    let turns = 0
    const tick = (): void => {
      turns++
      if (turns < 1e6) setImmediate(tick)
    }
    setImmediate(tick)
    expect(await parseStepsSliced(meta, good, new TimeSlice(0))).toEqual(parseSteps(meta, good))
    // One turn per chunk of 64 steps at least.
    expect(turns).toBeGreaterThanOrEqual(1024 / 64 - 1)
    turns = 1e6
  })

  // The sliced parse names the step by its index in the whole request (from its own chunk's
  // error), exactly as one parse of all of it does.
  it.each([
    ['a bad field value', { vp: 0, write: { gpa: 'x', size: 8, value: 1 } }, 'steps[1000].write'],
    ['a VP out of range', { vp: 3, run: {} }, 'steps[1000].vp'],
    ['an unknown key', { vp: 0, run: {}, bogus: 1 }, 'steps[1000].bogus'],
    ['no action', { vp: 0 }, 'steps[1000]'],
  ])('a bad step late (%s) is refused as a whole parse names it', async (_name, step, field) => {
    const meta = { vps: 1, memory: '0x100000', gpaWidth: 48, mbec: true } as Parameters<
      typeof parseSteps
    >[0]
    const bad = [...writes(1000), step]
    let whole: unknown
    try {
      parseSteps(meta, bad)
    } catch (error) {
      whole = error
    }
    expect(whole).toMatchObject({ code: 'E_VALIDATION' })
    expect((whole as Error).message).toContain(`request (step 1000): ${field}`)
    await expect(parseStepsSliced(meta, bad, new TimeSlice(0))).rejects.toEqual(whole)
    await expect(parseStepsSliced(meta, bad, new TimeSlice(0))).rejects.toThrow(
      (whole as Error).message
    )
  })

  it('renumbers a chunk error by its step index and keeps its problem text', () => {
    const meta = { vps: 1, memory: '0x100000', gpaWidth: 48, mbec: true } as Parameters<
      typeof parseSteps
    >[0]
    // A problem text that itself reads like a location: only the structured step index moves.
    const bad = [...writes(64), { vp: 0, write: { gpa: 'request (step 0): x', size: 8, value: 1 } }]
    let whole: unknown
    try {
      parseSteps(meta, bad)
    } catch (error) {
      whole = error
    }
    expect((whole as Error).message).toMatch(/^request \(step 64\): steps\[64\]\.write/)
    return expect(parseStepsSliced(meta, bad, new TimeSlice(0))).rejects.toEqual(whole)
  })

  it('a steps request with a bad step late runs none of it', async () => {
    const journal = new Journal(':memory:')
    const tds = new TdService(journal)
    const { id } = await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })
    const bad = [...writes(900), { vp: 0, write: { gpa: 'x', size: 8, value: 1 } }]
    await expect(tds.steps(id, bad)).rejects.toMatchObject({ code: 'E_VALIDATION' })
    expect(journal.records().map((r) => r.op)).toEqual(['td.create'])
  })
})
