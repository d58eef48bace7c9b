import { fileURLToPath } from 'node:url'
import { loadScenarioFile, runScenario } from '@vtl/sim'
import { describe, expect, it } from 'vitest'
import { expectAnswer, setup } from './routes-helpers.js'

const canonical = fileURLToPath(
  new URL('../../../packages/sim/scenarios/canonical-boot.yaml', import.meta.url)
)

/** JSON with bigints as 0x hex, as the daemon answers. */
const wire = (value: unknown): unknown =>
  JSON.parse(
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))
  )

describe('typed VSM routes', () => {
  it('the canonical boot through typed routes and steps answers what the scenario reports', async () => {
    const scenario = await loadScenarioFile(canonical)
    const expected = runScenario(scenario).steps.map((step) => wire(step.result))
    const { post, send, get, createTd } = setup()
    const id = await createTd({ vps: 4, memory: '64MiB', startedVps: [0] })
    const td = `/v1/tds/${id}`
    const step = async (body: unknown) => {
      const answer = await expectAnswer(post(`${td}/steps`, { steps: [body] }), 200)
      return (answer.results as { result: unknown }[])[0]?.result
    }
    const answers: unknown[] = [
      await expectAnswer(
        post(`${td}/hypercall`, {
          vp: 0,
          vtl: 0,
          code: '0x000d',
          input: 'ffffffffffffffff 01 01 0000 00000000',
        }),
        200
      ),
      await expectAnswer(
        post(`${td}/vsm/enable-vp-vtl`, {
          vp: 0,
          targetVp: 0,
          context: { rip: '0x100000', rsp: '0x200000' },
        }),
        200
      ),
      await step({ vp: 0, vtlCall: {} }),
      await step({ vp: 0, vtl: 1, getRegister: { name: 'Rip', targetVtl: 0 } }),
      await expectAnswer(
        post(`${td}/vsm/enable-vp-vtl`, { vp: 0, targetVp: 1, context: { rip: '0x110000' } }),
        200
      ),
      await expectAnswer(
        post(`${td}/vsm/start-vp`, {
          vp: 0,
          targetVp: 1,
          targetVtl: 0,
          context: { rip: '0x120000' },
        }),
        200
      ),
      await step({ vp: 1, run: {} }),
      await step({ vp: 1, vtl: 1, vtlReturn: {} }),
      await step({ vp: 2, run: {} }),
      await expectAnswer(send('PUT', `${td}/vsm/partition-config`, { vp: 0, value: '0x1f' }), 200),
      await step({ vp: 0, setRegister: { name: 'Sint0', value: '0x30' } }),
      await expectAnswer(
        post(`${td}/memory/protect`, {
          vp: 0,
          targetVtl: 1,
          start: '0x10000',
          size: 4096,
          flags: 'r',
        }),
        200
      ).then(({ processed, ...rest }) => {
        expect(processed).toBe(1)
        return rest
      }),
      await step({ vp: 0, vtlReturn: {} }),
      await step({ vp: 0, vtl: 0, read: { gpa: '0x10008', size: 8 } }),
      await step({ vp: 0, vtl: 0, write: { gpa: '0x10000', size: 4, value: '0xdeadbeef' } }),
      await step({ vp: 0, vtl: 1, write: { gpa: '0x10000', size: 4, value: '0xdeadbeef' } }),
      await step({ vp: 0, vtl: 1, read: { gpa: '0x10000', size: 4 } }),
    ]
    expect(answers).toEqual(expected)
    // VP0 is in VTL1 now, where the partition config was written.
    expect(await get(`${td}/vsm/partition-config?vp=0`)).toEqual({
      vp: 0,
      vtl: 1,
      value: '0x1f',
      status: 'Success',
    })
  })

  it('enable-partition-vtl succeeds once, then the guest sees InvalidVtlState', async () => {
    const { post, createTd } = setup()
    const id = await createTd()
    const path = `/v1/tds/${id}/vsm/enable-partition-vtl`
    expect(await expectAnswer(post(path, { vp: 0, targetVtl: 1, mbec: true }), 200)).toMatchObject({
      status: 'Success',
      code: 0,
      activeVtl: 0,
    })
    expect(await expectAnswer(post(path, { vp: 1 }), 200)).toMatchObject({
      status: 'InvalidVtlState',
      code: 0x51,
    })
  })

  it('reads the partition config as VTL0 reads it before VTL1 exists', async () => {
    const { get, createTd } = setup()
    const id = await createTd()
    expect(await get(`/v1/tds/${id}/vsm/partition-config?vp=1`)).toMatchObject({ vp: 1, vtl: 0 })
  })

  it('refuses a hypercall whose vtl assertion does not hold (409), and runs it when it holds', async () => {
    const { post, get, createTd } = setup()
    const id = await createTd()
    const call = { vp: 0, code: 13, input: 'ffffffffffffffff 01 00 0000 00000000' }
    await expectAnswer(post(`/v1/tds/${id}/hypercall`, { ...call, vtl: 1 }), 409, 'E_VTL_MISMATCH')
    const status = (await get(`/v1/tds/${id}/status`)) as { partition: { guestVsmState: string } }
    expect(status.partition.guestVsmState).toBe('NotGuestEnabled')
    expect(
      await expectAnswer(post(`/v1/tds/${id}/hypercall`, { ...call, vtl: '0' }), 200)
    ).toMatchObject({ status: 'Success' })
  })
})

describe('steps', () => {
  it('answers each step with its index, VP, VTL, action and result', async () => {
    const { post, createTd } = setup()
    const id = await createTd()
    const answer = await expectAnswer(
      post(`/v1/tds/${id}/steps`, {
        steps: [
          { vp: 0, hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1 } } },
          { vp: 0, hypercall: { name: 'EnableVpVtl', input: { vpContext: { rip: '0x1000' } } } },
          { vp: 0, vtlCall: {}, note: 'into VTL1' },
          { vp: 1, vtl: 0, write: { gpa: '0x2000', value: 7 } },
          { vp: 1, read: { gpa: '0x2000' } },
        ],
      }),
      200
    )
    expect(answer.results).toEqual([
      {
        index: 0,
        vp: 0,
        vtl: 0,
        action: 'hypercall',
        result: expect.objectContaining({ status: 'Success' }) as unknown,
      },
      {
        index: 1,
        vp: 0,
        vtl: 0,
        action: 'hypercall',
        result: expect.objectContaining({ status: 'Success' }) as unknown,
      },
      {
        index: 2,
        vp: 0,
        vtl: 0,
        action: 'vtlCall',
        result: expect.objectContaining({ activeVtl: 1 }) as unknown,
      },
      {
        index: 3,
        vp: 1,
        vtl: 0,
        action: 'write',
        result: expect.objectContaining({ ok: true }) as unknown,
      },
      {
        index: 4,
        vp: 1,
        vtl: 0,
        action: 'read',
        result: expect.objectContaining({ ok: true, value: '0x7' }) as unknown,
      },
    ])
  })

  it('takes the instruction actions io, writeCr and msr (§13.16)', async () => {
    const { post, createTd } = setup()
    const id = await createTd()
    const answer = await expectAnswer(
      post(`/v1/tds/${id}/steps`, {
        steps: [
          { vp: 0, writeCr: { cr: 0, value: '0x80010031' } },
          { vp: 0, io: { port: 0x64, size: 2 } },
          { vp: 0, msr: { msr: 'Lstar', value: '0xfffff80000001000' } },
          { vp: 0, msr: { msr: 'Lstar' } },
          { vp: 0, writeCr: { cr: 0, value: '0x80000030' } },
          { vp: 0, hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1 } } },
          { vp: 0, hypercall: { name: 'EnableVpVtl', input: { vpContext: { rflags: '0x202' } } } },
          { vp: 0, vtlCall: {} },
          { vp: 0, setRegister: { name: 'Sint0', value: '0x31' } },
          { vp: 0, setRegister: { name: 'CrInterceptControl', value: '0x40' } },
          { vp: 0, vtlReturn: {} },
          { vp: 0, msr: { msr: 'Lstar', value: '0xfffff80000002000' } },
        ],
      }),
      200
    )
    const results = (answer.results as { action: string; result: unknown }[]).map((r) => [
      r.action,
      r.result,
    ])
    expect(results[0]).toEqual(['writeCr', { ok: true, activeVtl: 0 }])
    expect(results[1]).toEqual(['io', { ok: true, value: '0xffff', activeVtl: 0 }])
    expect(results[2]).toEqual(['msr', { ok: true, activeVtl: 0 }])
    expect(results[3]).toEqual(['msr', { ok: true, value: '0xfffff80000001000', activeVtl: 0 }])
    expect(results[4]).toEqual(['writeCr', { ok: false, exception: 'GP', activeVtl: 0 }])
    expect(results[11]).toEqual([
      'msr',
      {
        ok: false,
        intercept: { toVtl: 1, kind: 'msr', msr: '0xc0000082', accessType: 'write' },
        activeVtl: 1,
      },
    ])
  })

  it('refuses a malformed instruction action before running any step', async () => {
    const { post, createTd } = setup()
    const id = await createTd()
    const body = await expectAnswer(
      post(`/v1/tds/${id}/steps`, {
        steps: [
          { vp: 0, io: { port: 1 } },
          { vp: 0, writeCr: { cr: 2, value: 0 } },
        ],
      }),
      400,
      'E_VALIDATION'
    )
    expect(body.detail).toMatch(/steps\[1\]\.writeCr\.cr/)
  })

  it('validates every step before running any', async () => {
    const { post, get, createTd } = setup()
    const id = await createTd()
    const body = await expectAnswer(
      post(`/v1/tds/${id}/steps`, {
        steps: [
          { vp: 0, hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1 } } },
          { vp: 0, hypercall: { name: 'NoSuchCall' } },
        ],
      }),
      400,
      'E_VALIDATION'
    )
    expect(body.detail).toMatch(/steps\[1\]\.hypercall\.name/)
    const status = (await get(`/v1/tds/${id}/status`)) as { partition: { guestVsmState: string } }
    expect(status.partition.guestVsmState).toBe('NotGuestEnabled')
  })

  it('stops at a vtl assertion that does not hold; the steps before it stay applied', async () => {
    const { post, get, createTd } = setup()
    const id = await createTd()
    const body = await expectAnswer(
      post(`/v1/tds/${id}/steps`, {
        steps: [
          { vp: 0, hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1 } } },
          { vp: 0, vtl: 1, vtlCall: {} },
          { vp: 0, hypercall: { name: 'EnableVpVtl' } },
        ],
      }),
      409,
      'E_VTL_MISMATCH'
    )
    expect(body.detail).toMatch(/step 1: VP 0 acts at VTL0, not VTL1.*steps 0\.\.0 were applied/)
    const status = (await get(`/v1/tds/${id}/status`)) as {
      partition: { guestVsmState: string }
      vps: { vtl1Enabled: boolean }[]
    }
    expect(status.partition.guestVsmState).toBe('Enabled')
    expect(status.vps[0]?.vtl1Enabled).toBe(false)
  })
})

describe('bad input on the VSM and step routes', () => {
  it('answers each case with its problem code', async () => {
    const { post, send, app, createTd } = setup()
    const id = await createTd()
    const td = `/v1/tds/${id}`
    const cases: [string, () => Response | Promise<Response>, number, string][] = [
      [
        'steps: unknown TD',
        () => post('/v1/tds/td-nope/steps', { steps: [{ vp: 0, run: {} }] }),
        404,
        'E_NO_TD',
      ],
      ['steps: empty', () => post(`${td}/steps`, { steps: [] }), 400, 'E_VALIDATION'],
      ['steps: not a list', () => post(`${td}/steps`, { steps: { vp: 0 } }), 400, 'E_VALIDATION'],
      [
        'steps: VP out of range',
        () => post(`${td}/steps`, { steps: [{ vp: 2, run: {} }] }),
        400,
        'E_BAD_VP',
      ],
      [
        'steps: two actions',
        () => post(`${td}/steps`, { steps: [{ vp: 0, run: {}, eoi: {} }] }),
        400,
        'E_VALIDATION',
      ],
      ['steps: no action', () => post(`${td}/steps`, { steps: [{ vp: 0 }] }), 400, 'E_VALIDATION'],
      [
        'steps: expect',
        () => post(`${td}/steps`, { steps: [{ vp: 0, run: {}, expect: {} }] }),
        400,
        'E_VALIDATION',
      ],
      [
        'steps: fault',
        () =>
          post(`${td}/steps`, {
            steps: [{ vp: 0, fault: { at: 'TDG.VP.WR', status: 'TDX_OPERAND_BUSY' } }],
          }),
        400,
        'E_VALIDATION',
      ],
      [
        'steps: vtl 2',
        () => post(`${td}/steps`, { steps: [{ vp: 0, vtl: 2, run: {} }] }),
        400,
        'E_VALIDATION',
      ],
      [
        'steps: bad hex',
        () => post(`${td}/steps`, { steps: [{ vp: 0, hypercall: { code: 13, input: '0xzz' } }] }),
        400,
        'E_VALIDATION',
      ],
      [
        'steps: gpa beyond width',
        () => post(`${td}/steps`, { steps: [{ vp: 0, read: { gpa: '0x1000000000000' } }] }),
        400,
        'E_VALIDATION',
      ],
      [
        'hypercall: vtl 3',
        () => post(`${td}/hypercall`, { vp: 0, code: 13, vtl: 3 }),
        400,
        'E_VALIDATION',
      ],
      [
        'enable-partition: VP out of range',
        () => post(`${td}/vsm/enable-partition-vtl`, { vp: 2 }),
        400,
        'E_BAD_VP',
      ],
      [
        'enable-partition: unknown TD',
        () => post('/v1/tds/td-nope/vsm/enable-partition-vtl', { vp: 0 }),
        404,
        'E_NO_TD',
      ],
      [
        'enable-partition: mbec as string',
        () => post(`${td}/vsm/enable-partition-vtl`, { vp: 0, mbec: 'yes' }),
        400,
        'E_VALIDATION',
      ],
      [
        'enable-vp: no targetVp',
        () => post(`${td}/vsm/enable-vp-vtl`, { vp: 0 }),
        400,
        'E_VALIDATION',
      ],
      [
        'enable-vp: bad context field',
        () => post(`${td}/vsm/enable-vp-vtl`, { vp: 0, targetVp: 0, context: { rpi: '0x1' } }),
        400,
        'E_VALIDATION',
      ],
      [
        'enable-vp: bad context hex',
        () => post(`${td}/vsm/enable-vp-vtl`, { vp: 0, targetVp: 0, context: { rip: '0xnope' } }),
        400,
        'E_VALIDATION',
      ],
      [
        'start-vp: VP out of range',
        () => post(`${td}/vsm/start-vp`, { vp: 9, targetVp: 1 }),
        400,
        'E_BAD_VP',
      ],
      [
        'start-vp: extra field',
        () => post(`${td}/vsm/start-vp`, { vp: 0, targetVp: 1, x: 1 }),
        400,
        'E_VALIDATION',
      ],
      ['config GET: no vp', () => app.request(`${td}/vsm/partition-config`), 400, 'E_VALIDATION'],
      [
        'config GET: VP out of range',
        () => app.request(`${td}/vsm/partition-config?vp=2`),
        400,
        'E_BAD_VP',
      ],
      [
        'config GET: vp not a number',
        () => app.request(`${td}/vsm/partition-config?vp=x`),
        400,
        'E_VALIDATION',
      ],
      [
        'config GET: unknown TD',
        () => app.request('/v1/tds/td-nope/vsm/partition-config?vp=0'),
        404,
        'E_NO_TD',
      ],
      [
        'config PUT: bad hex',
        () => send('PUT', `${td}/vsm/partition-config`, { vp: 0, value: '0xg' }),
        400,
        'E_VALIDATION',
      ],
      [
        'config PUT: beyond 64 bits',
        () => send('PUT', `${td}/vsm/partition-config`, { vp: 0, value: '0x10000000000000000' }),
        400,
        'E_VALIDATION',
      ],
      [
        'config PUT: VP out of range',
        () => send('PUT', `${td}/vsm/partition-config`, { vp: 5, value: '0x1' }),
        400,
        'E_BAD_VP',
      ],
    ]
    cases.push(
      [
        'create: startedVps beyond vps',
        () => post('/v1/tds', { vps: 2, memory: 4096, startedVps: [2] }),
        400,
        'E_BAD_TD',
      ],
      [
        'create: startedVps twice',
        () => post('/v1/tds', { vps: 2, memory: 4096, startedVps: [0, 0] }),
        400,
        'E_BAD_TD',
      ],
      [
        'create: startedVps not a list',
        () => post('/v1/tds', { vps: 2, memory: 4096, startedVps: 0 }),
        400,
        'E_VALIDATION',
      ]
    )
    for (const [name, request, status, code] of cases) {
      const response = await request()
      expect(response.status, name).toBe(status)
      expect(await response.json(), name).toMatchObject({ status, code })
    }
  })
})
