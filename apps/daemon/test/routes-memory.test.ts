import { describe, expect, it } from 'vitest'
import { ProtectBody } from '../src/schemas.js'
import { expectAnswer, setup } from './routes-helpers.js'

interface Run {
  start: string
  size: string
  visibility: string
  accepted: boolean
  vtl0: string
  vtl1: string
}
interface Runs {
  runs: Run[]
  next: string | null
}

/** A TD with VTL1 enabled on the partition and VP0, VP0 in VTL1 with VTL protection on. */
async function vtl1Td(ctx: ReturnType<typeof setup>): Promise<string> {
  const id = await ctx.createTd({ vps: 2, memory: '16MiB' })
  await expectAnswer(
    ctx.post(`/v1/tds/${id}/steps`, {
      steps: [
        { vp: 0, hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1 } } },
        { vp: 0, hypercall: { name: 'EnableVpVtl', input: { vpContext: { rip: '0x1000' } } } },
        { vp: 0, vtlCall: {} },
        { vp: 0, setRegister: { name: 'VsmPartitionConfig', value: '0x1f' } },
      ],
    }),
    200
  )
  return id
}

describe('permission flags', () => {
  it.each([
    [1, 1],
    ['0x3', 3],
    ['r-', 1],
    ['R,W', 3],
    ['R W KX', 7],
    [['Readable', 'UX'], 9],
    ['none', 0],
  ])('protect flags %j → %i', (flags, value) => {
    const parsed = ProtectBody.safeParse({ vp: 0, start: '0x1000', size: 4096, flags })
    expect(parsed.success && parsed.data.flags).toBe(value)
  })
})

describe('memory routes', () => {
  it('protects a range from VTL1: VTL0 loses write, the runs show it', async () => {
    const ctx = setup()
    const id = await vtl1Td(ctx)
    // 600 pages: two ModifyVtlProtectionMask calls (510 + 90).
    const answer = await expectAnswer(
      ctx.post(`/v1/tds/${id}/memory/protect`, {
        vp: 0,
        targetVtl: 1,
        start: '0x100000',
        size: 600 * 4096,
        flags: 'r-',
      }),
      200
    )
    expect(answer).toMatchObject({
      status: 'Success',
      repsCompleted: 90,
      processed: 600,
      activeVtl: 1,
    })
    const { runs } = (await ctx.get(
      `/v1/tds/${id}/memory/runs?start=0x100000&size=0x258000`
    )) as Runs
    expect(runs).toEqual([
      expect.objectContaining({
        start: '0x100000',
        size: '0x258000',
        vtl0: 'r---',
        accepted: true,
      }),
    ])
    const write = await expectAnswer(
      ctx.post(`/v1/tds/${id}/steps`, {
        steps: [{ vp: 1, vtl: 0, write: { gpa: '0x100000', value: 1 } }],
      }),
      200
    )
    expect(write.results).toEqual([
      expect.objectContaining({ result: expect.objectContaining({ ok: false }) as unknown }),
    ])
  })

  it('a guest-visible refusal is a 200 with its status (protect from VTL0 before VTL1 exists)', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    expect(
      await expectAnswer(
        ctx.post(`/v1/tds/${id}/memory/protect`, {
          vp: 0,
          start: '0x10000',
          size: 4096,
          flags: 'r',
        }),
        200
      )
    ).toMatchObject({ status: 'InvalidParameter', processed: 0 })
  })

  it('shares and unshares a range; runs page with a cursor', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    const td = `/v1/tds/${id}`
    for (const start of ['0x10000', '0x30000', '0x50000']) {
      expect(
        await expectAnswer(ctx.post(`${td}/memory/share`, { vp: 1, start, size: '8KiB' }), 200)
      ).toMatchObject({ status: 'Success', processed: 2 })
    }
    const all = (await ctx.get(`${td}/memory/runs`)) as Runs
    expect(all.next).toBeNull()
    expect(all.runs.map((r) => [r.start, r.visibility, r.accepted])).toEqual([
      ['0x0', 'private', true],
      ['0x10000', 'shared', false],
      ['0x12000', 'private', true],
      ['0x30000', 'shared', false],
      ['0x32000', 'private', true],
      ['0x50000', 'shared', false],
      ['0x52000', 'private', true],
    ])
    const paged: Run[] = []
    let cursor: string | null = null
    do {
      const page = (await ctx.get(
        `${td}/memory/runs?limit=3${cursor === null ? '' : `&cursor=${cursor}`}`
      )) as Runs
      expect(page.runs.length).toBeLessThanOrEqual(3)
      paged.push(...page.runs)
      cursor = page.next
    } while (cursor !== null)
    expect(paged).toEqual(all.runs)

    await expectAnswer(
      ctx.post(`${td}/memory/unshare`, { vp: 1, start: '0x10000', size: '8KiB' }),
      200
    )
    const after = (await ctx.get(`${td}/memory/runs?size=0x20000`)) as Runs
    expect(after.runs).toEqual([
      expect.objectContaining({
        start: '0x0',
        size: '0x20000',
        visibility: 'private',
        accepted: true,
      }),
    ])
  })

  it('accept: accepted RAM is 409, anything but RAM is 400', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    await expectAnswer(
      ctx.post(`/v1/tds/${id}/memory/accept`, { start: '0x10000', size: '4KiB' }),
      409,
      'E_MEMORY_STATE'
    )
    await expectAnswer(
      ctx.post(`/v1/tds/${id}/memory/accept`, { start: '0x2000000', size: '4KiB' }),
      400,
      'E_BAD_RANGE'
    )
  })

  it('answers bad input with its problem code', async () => {
    const ctx = setup()
    const id = await ctx.createTd()
    const td = `/v1/tds/${id}`
    const range = { vp: 0, start: '0x10000', size: 4096 }
    const cases: [string, () => Response | Promise<Response>, number, string][] = [
      [
        'protect: unknown TD',
        () => ctx.post('/v1/tds/td-x/memory/protect', { ...range, flags: 1 }),
        404,
        'E_NO_TD',
      ],
      [
        'protect: VP out of range',
        () => ctx.post(`${td}/memory/protect`, { ...range, vp: 2, flags: 1 }),
        400,
        'E_BAD_VP',
      ],
      ['protect: no flags', () => ctx.post(`${td}/memory/protect`, range), 400, 'E_VALIDATION'],
      [
        'protect: bad flags text',
        () => ctx.post(`${td}/memory/protect`, { ...range, flags: 'rwz' }),
        400,
        'E_VALIDATION',
      ],
      [
        'protect: flags as object',
        () => ctx.post(`${td}/memory/protect`, { ...range, flags: {} }),
        400,
        'E_VALIDATION',
      ],
      [
        'protect: targetVtl 3',
        () => ctx.post(`${td}/memory/protect`, { ...range, flags: 1, targetVtl: 3 }),
        400,
        'E_VALIDATION',
      ],
      [
        'protect: unaligned start',
        () => ctx.post(`${td}/memory/protect`, { ...range, start: '0x10001', flags: 1 }),
        400,
        'E_VALIDATION',
      ],
      [
        'protect: too large',
        () => ctx.post(`${td}/memory/protect`, { ...range, size: '1GiB', flags: 1 }),
        400,
        'E_VALIDATION',
      ],
      [
        'share: bad hex start',
        () => ctx.post(`${td}/memory/share`, { ...range, start: '0xzz' }),
        400,
        'E_VALIDATION',
      ],
      [
        'share: empty',
        () => ctx.post(`${td}/memory/share`, { ...range, size: 0 }),
        400,
        'E_VALIDATION',
      ],
      [
        'share: wrong type',
        () => ctx.post(`${td}/memory/share`, { ...range, size: true }),
        400,
        'E_VALIDATION',
      ],
      [
        'unshare: VP out of range',
        () => ctx.post(`${td}/memory/unshare`, { ...range, vp: 7 }),
        400,
        'E_BAD_VP',
      ],
      [
        'unshare: unknown field',
        () => ctx.post(`${td}/memory/unshare`, { ...range, flags: 1 }),
        400,
        'E_VALIDATION',
      ],
      [
        'accept: unaligned size',
        () => ctx.post(`${td}/memory/accept`, { start: '0x0', size: 100 }),
        400,
        'E_VALIDATION',
      ],
      [
        'accept: unknown TD',
        () => ctx.post('/v1/tds/td-x/memory/accept', { start: '0x0', size: 4096 }),
        404,
        'E_NO_TD',
      ],
      ['runs: limit 0', () => ctx.app.request(`${td}/memory/runs?limit=0`), 400, 'E_VALIDATION'],
      [
        'runs: limit too big',
        () => ctx.app.request(`${td}/memory/runs?limit=5000`),
        400,
        'E_VALIDATION',
      ],
      [
        'runs: unaligned cursor',
        () => ctx.app.request(`${td}/memory/runs?cursor=0x10`),
        400,
        'E_BAD_RANGE',
      ],
      [
        'runs: bad start',
        () => ctx.app.request(`${td}/memory/runs?start=nope`),
        400,
        'E_VALIDATION',
      ],
      [
        'runs: beyond the GPA width',
        () => ctx.app.request(`${td}/memory/runs?start=0x1000000000000&size=4096`),
        400,
        'E_BAD_RANGE',
      ],
      ['runs: unknown TD', () => ctx.app.request('/v1/tds/td-x/memory/runs'), 404, 'E_NO_TD'],
    ]
    for (const [name, request, status, code] of cases) {
      const response = await request()
      expect(response.status, name).toBe(status)
      expect(await response.json(), name).toMatchObject({ status, code })
    }
  })
})
