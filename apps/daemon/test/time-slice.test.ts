import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
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
})
