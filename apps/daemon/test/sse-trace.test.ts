import { describe, expect, it } from 'vitest'
import type { TraceEvent } from '@vtl/sim'
import { TdService } from '../src/td-service.js'
import type { TraceFrame } from '../src/trace-fanout.js'
import { expectAnswer, setup } from './routes-helpers.js'

const enable = { vp: 0, code: '0x000d', input: 'ffffffffffffffff 01 00 0000 00000000' }

interface Message {
  event?: string
  id?: string
  data?: string
  comment?: boolean
}

/** Reads server-sent events from a response body, one message at a time. */
function sseReader(response: Response) {
  const body = response.body
  if (body === null) throw new Error('no body')
  const reader = (body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  const next = async (): Promise<Message | undefined> => {
    for (;;) {
      const end = buffer.indexOf('\n\n')
      if (end >= 0) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const message: Message = {}
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) message.comment = true
          const [field, ...rest] = line.split(': ')
          if (field === 'event' || field === 'id' || field === 'data')
            message[field] = rest.join(': ')
        }
        return message
      }
      const { done, value } = await reader.read()
      if (done) return undefined
      buffer += decoder.decode(value, { stream: true })
    }
  }
  /** The next `count` trace events (skipping heartbeats). */
  const events = async (count: number): Promise<TraceEvent[]> => {
    const out: TraceEvent[] = []
    while (out.length < count) {
      const message = await next()
      if (message === undefined) throw new Error(`stream ended after ${out.length} events`)
      if (message.event !== 'trace') continue
      const event = JSON.parse(message.data ?? '') as TraceEvent
      expect(message.id).toBe(String(event.seq))
      out.push(event)
    }
    return out
  }
  return { next, events, cancel: () => reader.cancel() }
}

describe('GET /v1/tds/{id}/trace/events', () => {
  it('sends the kept events, then live ones, in seq order without gaps or repeats', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    await expectAnswer(ctx.post(`/v1/tds/${id}/hypercall`, enable), 200)
    const before = (await ctx.tds.traceEvents(id, -1)).map((e) => e.seq)
    expect(before.length).toBeGreaterThan(0)

    const response = await ctx.app.request(`/v1/tds/${id}/trace/events`)
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
    const stream = sseReader(response)
    expect((await stream.events(before.length)).map((e) => e.seq)).toEqual(before)

    await expectAnswer(ctx.post(`/v1/tds/${id}/steps`, { steps: [{ vp: 1, run: {} }] }), 200)
    const all = (await ctx.tds.traceEvents(id, -1)).map((e) => e.seq)
    const live = await stream.events(all.length - before.length)
    expect(live.map((e) => e.seq)).toEqual(all.slice(before.length))
    expect(live[0]).toMatchObject({ kind: 'step', vp: 1, name: 'run' })
    await stream.cancel()
  })

  it('a reader that does not keep up is dropped with a final event (issue 15, finding 9)', async () => {
    const ctx = setup({ sseMaxBuffered: 40, heartbeatMs: 60_000 })
    const id = await ctx.createTd()
    await expectAnswer(ctx.post(`/v1/tds/${id}/hypercall`, enable), 200)
    const response = await ctx.app.request(`/v1/tds/${id}/trace/events`)
    const stream = sseReader(response)
    await stream.events(1)
    // The reader pauses while commands go on: the stream holds at most 40 events for it.
    const steps = Array.from({ length: 30 }, () => ({ vp: 1, run: {} }))
    for (let i = 0; i < 10; i++) {
      await expectAnswer(ctx.post(`/v1/tds/${id}/steps`, { steps }), 200)
    }
    const produced = (await ctx.tds.traceEvents(id, -1)).length
    let traced = 0
    let last: Message | undefined
    for (let message = await stream.next(); message !== undefined; message = await stream.next()) {
      if (message.event === 'trace') traced++
      last = message
    }
    expect(last?.event).toBe('dropped')
    const final = JSON.parse(last?.data ?? '') as { reason: string; lastSeq: number }
    expect(final.reason).toMatch(/more than 40 events behind/)
    expect(final.lastSeq).toBeGreaterThanOrEqual(0)
    expect(traced).toBeLessThan(produced)
    // The next command has no stream left to feed.
    await expectAnswer(ctx.post(`/v1/tds/${id}/steps`, { steps }), 200)
  })

  it('resumes after Last-Event-ID', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    await expectAnswer(ctx.post(`/v1/tds/${id}/hypercall`, enable), 200)
    const seqs = (await ctx.tds.traceEvents(id, -1)).map((e) => e.seq)
    const from = seqs[2] ?? 0
    const response = await ctx.app.request(`/v1/tds/${id}/trace/events`, {
      headers: { 'last-event-id': String(from) },
    })
    const stream = sseReader(response)
    const events = await stream.events(seqs.length - 3)
    expect(events.map((e) => e.seq)).toEqual(seqs.filter((s) => s > from))
    await stream.cancel()
  })

  it('from=now sends only the events recorded after it opens; Last-Event-ID still resumes', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    await expectAnswer(ctx.post(`/v1/tds/${id}/hypercall`, enable), 200)
    const before = (await ctx.tds.traceEvents(id, -1)).map((e) => e.seq)
    const stream = sseReader(await ctx.app.request(`/v1/tds/${id}/trace/events?from=now`))
    await expectAnswer(ctx.post(`/v1/tds/${id}/steps`, { steps: [{ vp: 1, run: {} }] }), 200)
    const all = (await ctx.tds.traceEvents(id, -1)).map((e) => e.seq)
    const live = await stream.events(all.length - before.length)
    expect(live.map((e) => e.seq)).toEqual(all.slice(before.length))
    expect(live[0]).toMatchObject({ kind: 'step', vp: 1, name: 'run' })
    await stream.cancel()

    const from = before[1] ?? 0
    const resumed = sseReader(
      await ctx.app.request(`/v1/tds/${id}/trace/events?from=now`, {
        headers: { 'last-event-id': String(from) },
      })
    )
    const events = await resumed.events(all.length - 2)
    expect(events.map((e) => e.seq)).toEqual(all.filter((s) => s > from))
    await resumed.cancel()
    const refused = await ctx.app.request(`/v1/tds/${id}/trace/events?from=yesterday`)
    expect(refused.status).toBe(400)
  })

  it('ends when the client goes away: its subscription is dropped', async () => {
    const tds = new TdService()
    let listeners = 0
    const subscribe = tds.subscribeFrames.bind(tds)
    tds.subscribeFrames = (td, listener) => {
      listeners++
      const unsubscribe = subscribe(td, listener)
      return () => {
        listeners--
        unsubscribe()
      }
    }
    const ctx = setup({ tds, heartbeatMs: 5 })
    const id = await ctx.createTd()
    const stream = sseReader(await ctx.app.request(`/v1/tds/${id}/trace/events`))
    // Heartbeats arrive while nothing happens.
    let message = await stream.next()
    while (message !== undefined && message.comment !== true) message = await stream.next()
    expect(message?.comment).toBe(true)
    expect(listeners).toBe(1)
    await stream.cancel()
    await expect.poll(() => listeners).toBe(0)
  })

  it('ends when the TD is deleted and when the daemon closes its streams', async () => {
    const ctx = setup()
    const a = await ctx.createTd()
    const b = await ctx.createTd()
    const streamA = sseReader(await ctx.app.request(`/v1/tds/${a}/trace/events`))
    const streamB = sseReader(await ctx.app.request(`/v1/tds/${b}/trace/events`))
    await expectAnswer(ctx.send('DELETE', `/v1/tds/${a}`), 204)
    expect(await streamA.next()).toBeUndefined()
    ctx.tds.closeStreams()
    expect(await streamB.next()).toBeUndefined()
    await expectAnswer(ctx.app.request(`/v1/tds/${b}/trace/events`), 503, 'E_SHUTTING_DOWN')
  })

  it('is 404 for an unknown TD', async () => {
    const ctx = setup()
    await expectAnswer(ctx.app.request('/v1/tds/td-nope/trace/events'), 404, 'E_NO_TD')
  })
})

describe('TdService.subscribe', () => {
  it('hands each command’s new events to listeners once, for the TD that produced them', async () => {
    const tds = new TdService(undefined, { traceLimit: 8 })
    const seen: [string, number][] = []
    const unsubscribe = tds.subscribe((td, events) => {
      for (const e of events) seen.push([td, e.seq])
    })
    const a = await tds.create({ vps: 2, memory: 1n << 20n, gpaWidth: 48, mbec: true })
    const b = await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })
    for (let i = 0; i < 5; i++) await tds.steps(a.id, [{ vp: i % 2, run: {} }])
    await tds.steps(b.id, [{ vp: 0, run: {} }])
    const ofA = seen.filter(([td]) => td === a.id).map(([, seq]) => seq)
    // The ring keeps 8 events; each step makes fewer, so every event reaches listeners, in order.
    expect(ofA).toEqual(ofA.map((_, i) => i))
    expect(seen.filter(([td]) => td === b.id).length).toBeGreaterThan(0)
    unsubscribe()
    const count = seen.length
    await tds.steps(a.id, [{ vp: 0, run: {} }])
    expect(seen).toHaveLength(count)
  })
})

describe('SSE fan-out (#15 finding 9)', () => {
  it("serialises a command's events once for all of its TD's streams, none for other TDs", async () => {
    const tds = new TdService()
    const a = await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })
    const b = await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })
    const got: (readonly TraceFrame[])[] = []
    const others: number[] = []
    const ends = [
      ...Array.from({ length: 3 }, () => tds.subscribeFrames(a.id, (frames) => got.push(frames))),
      ...Array.from({ length: 100 }, () => tds.subscribeFrames(b.id, () => others.push(1))),
    ]
    await tds.steps(a.id, [{ vp: 0, run: {} }])
    expect(got).toHaveLength(3)
    // One array of frames, the same object for every stream: serialised once.
    expect(got[1]).toBe(got[0])
    expect(got[2]).toBe(got[0])
    expect(others).toHaveLength(0)
    const events = await tds.traceEvents(a.id, -1)
    expect(got[0]?.map((f) => f.text)).toEqual(
      events
        .slice(-(got[0]?.length ?? 0))
        .map((e) => `event: trace\ndata: ${JSON.stringify(e)}\nid: ${e.seq}\n\n`)
    )
    for (const end of ends) end()
  })
})

describe('GET /v1/tds/{id}/trace', () => {
  it('answers Chrome trace JSON, the newest `limit` events with limit', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    await expectAnswer(ctx.post(`/v1/tds/${id}/hypercall`, enable), 200)
    const full = (await ctx.get(`/v1/tds/${id}/trace`)) as {
      traceEvents: { ph: string; args?: { seq?: number } }[]
    }
    const slices = full.traceEvents.filter((e) => e.ph !== 'M')
    expect(slices.length).toBeGreaterThan(2)
    const last = (await ctx.get(`/v1/tds/${id}/trace?limit=2`)) as typeof full
    expect(last.traceEvents.filter((e) => e.ph !== 'M')).toEqual(slices.slice(-2))
    await expectAnswer(ctx.app.request(`/v1/tds/${id}/trace?limit=0`), 400, 'E_VALIDATION')
    await expectAnswer(ctx.app.request('/v1/tds/td-nope/trace'), 404, 'E_NO_TD')
  })
})
