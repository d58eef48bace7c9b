import { describe, expect, it } from 'vitest'
import { expectAnswer, setup } from './routes-helpers.js'

// GET /v1/tds/{id}/status: per VP, `blocked` (halted until other VPs release a TLB lock, §13.15) and
// `pendingInterrupts` (requested, undelivered vectors per VTL), what the console's grid shows.

interface VpStatus {
  vp: number
  activeVtl: number
  blocked: boolean
  pendingInterrupts: { vtl0: number[]; vtl1: number[] }
}

const LOCKED_FLUSH = [
  {
    vp: 0,
    hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1, flags: { enableMbec: true } } },
  },
  { vp: 0, hypercall: { name: 'EnableVpVtl', input: { targetVtl: 1 } } },
  { vp: 0, vtlCall: {} },
  { vp: 0, hypercall: { name: 'EnableVpVtl', input: { vpIndex: 1, targetVtl: 1 } } },
  { vp: 0, hypercall: { name: 'StartVirtualProcessor', input: { vpIndex: 1, targetVtl: 0 } } },
  { vp: 0, vtlReturn: {} },
  { vp: 1, setRegister: { name: 'VsmVpSecureConfigVtl0', value: '0x3' } },
  {
    vp: 0,
    hypercall: { code: '0x0002', input: '000000000000000001000000000000000000000000000000' },
  },
]

describe('TD status: blocked VPs and pending interrupts', () => {
  it('shows VP0 blocked on VTL1’s TLB lock until its call completes', async () => {
    const { post, get, createTd } = setup()
    const id = await createTd({ vps: 2, memory: '8MiB', startedVps: [0] })
    await expectAnswer(post(`/v1/tds/${id}/steps`, { steps: LOCKED_FLUSH }), 200)
    const vps = async () => ((await get(`/v1/tds/${id}/status`)) as { vps: VpStatus[] }).vps
    expect((await vps()).map((v) => v.blocked)).toEqual([true, false])
    expect((await vps())[0]?.pendingInterrupts).toEqual({ vtl0: [], vtl1: [] })
    // The flush completed; VP0 halts before it re-enters VTL0 until VP1 leaves VTL1, which
    // releases the lock, and then runs again.
    await expectAnswer(post(`/v1/tds/${id}/steps`, { steps: [{ vp: 1, vtlReturn: {} }] }), 200)
    expect((await vps()).map((v) => v.blocked)).toEqual([false, false])
    await expectAnswer(post(`/v1/tds/${id}/steps`, { steps: [{ vp: 0, run: {} }] }), 200)
    expect((await vps()).map((v) => v.blocked)).toEqual([false, false])
  })

  it('lists a VTL0 interrupt requested while the VP runs VTL1 as pending', async () => {
    const { post, get, createTd } = setup()
    const id = await createTd({ vps: 1, memory: '8MiB' })
    const steps = [...LOCKED_FLUSH.slice(0, 3), { vp: 0, interrupt: { vector: '0x40', vtl: 0 } }]
    await expectAnswer(post(`/v1/tds/${id}/steps`, { steps }), 200)
    const [vp0] = ((await get(`/v1/tds/${id}/status`)) as { vps: VpStatus[] }).vps
    expect(vp0).toMatchObject({ activeVtl: 1, pendingInterrupts: { vtl0: [0x40], vtl1: [] } })
  })
})
