import { join } from 'node:path'
import { probe } from '@vtl/tdx-hw'
import { fetch } from 'undici'
import { SimKernel, simKernelProbeEnv } from '@vtl/tdx-hw/testing'
import { describe, expect, it } from 'vitest'
import { checkBackend } from '../src/backend.js'
import { startDaemon } from '../src/server.js'
import { e2eFixtures } from './e2e-fixtures.js'

const { tempDir, keep, client } = e2eFixtures('vtld-hw-')

/** The requests both backends answer: VTL1 enabled on VP 0, a VtlCall and a VtlReturn. */
const STEPS = [
  {
    vp: 0,
    hypercall: { name: 'EnablePartitionVtl', input: { partitionId: 'self', targetVtl: 1 } },
  },
  {
    vp: 0,
    hypercall: {
      name: 'EnableVpVtl',
      input: { vpIndex: 'self', targetVtl: 1, vpContext: { rip: '0x100000' } },
    },
  },
  { vp: 0, vtl: 0, vtlCall: {} },
  { vp: 0, vtl: 1, getRegister: { name: 'Rip', targetVtl: 0 } },
  { vp: 0, vtl: 1, vtlReturn: { fast: true } },
]

/** A daemon on `backend`, and a client on its socket. */
async function serve(backend: Awaited<ReturnType<typeof checkBackend>>) {
  const dir = tempDir()
  const daemon = keep(
    await startDaemon({ socket: join(dir, 'vtld.sock'), dataDir: join(dir, 'data'), backend })
  )
  return { daemon, ...client(daemon.socket) }
}

/** Creates a TD, runs `STEPS` and reads the status, as a user of either backend would. */
async function session(
  post: ReturnType<typeof client>['post'],
  get: ReturnType<typeof client>['get']
) {
  const created = await post('/v1/tds', { vps: 2, memory: '16MiB' })
  expect(created.status).toBe(201)
  const td = (await created.json()) as { id: string; backend: string }
  const steps = await post(`/v1/tds/${td.id}/steps`, { steps: STEPS })
  expect(steps.status).toBe(200)
  const status = await (await get(`/v1/tds/${td.id}/status`)).json()
  const runs = await (await get(`/v1/tds/${td.id}/memory/runs?limit=4`)).json()
  return { td, steps: (await steps.json()) as { results: unknown[] }, status, runs }
}

describe('vtld --backend hw (HwPlatform on a SimKernel)', () => {
  it('serves hardware-path TDs where the probe passes, answering as the simulator does', async () => {
    const kernel = new SimKernel()
    const hw = await checkBackend('hw', () => probe(simKernelProbeEnv(kernel)))
    expect(hw.kind).toBe('hw')
    expect(kernel.leaks).toEqual([])

    const onHw = await serve(hw)
    const fromHw = await session(onHw.post, onHw.get)
    expect(fromHw.td.backend).toBe('hw')
    const onSim = await serve({ kind: 'sim' })
    const fromSim = await session(onSim.post, onSim.get)
    expect(fromSim.td.backend).toBe('sim')

    // The same statuses, VTLs and registers through the mshv_vtl interface as on the simulator.
    expect(fromHw.steps).toEqual(fromSim.steps)
    expect(fromHw.steps.results).toHaveLength(STEPS.length)
    expect(fromHw.steps.results[4]).toMatchObject({ vtl: 1, result: { activeVtl: 0 } })
    expect({ ...(fromHw.status as object), id: '' }).toEqual({
      ...(fromSim.status as object),
      id: '',
    })
    expect(fromHw.runs).toEqual(fromSim.runs)

    // Guest hypercalls reach the TD's trace (the console's and the metrics' feed).
    const trace = (await (await onHw.get(`/v1/tds/${fromHw.td.id}/trace`)).json()) as {
      traceEvents: { name: string }[]
    }
    expect(trace.traceEvents.map((e) => e.name)).toContain('EnableVpVtl')

    // A hardware partition has no snapshot document, and is not restored from one.
    const snapshot = await onHw.get(`/v1/tds/${fromHw.td.id}/snapshot`)
    expect(snapshot.status).toBe(409)
    expect(await snapshot.json()).toMatchObject({ code: 'E_UNSUPPORTED' })
    const document = await (await onSim.get(`/v1/tds/${fromSim.td.id}/snapshot`)).json()
    const restored = await onHw.post('/v1/tds/restore', { snapshot: document })
    expect(restored.status).toBe(409)

    const deleted = await fetch(`http://vtld/v1/tds/${fromHw.td.id}`, {
      method: 'DELETE',
      dispatcher: onHw.agent,
    })
    expect(deleted.status).toBe(204)
    expect(await (await onHw.get('/v1/tds')).json()).toEqual({ tds: [] })
  })

  it('replays an Idempotency-Key answer on the hardware path (kept in memory, with the TD)', async () => {
    const hw = await checkBackend('hw', () => probe(simKernelProbeEnv()))
    const { agent, get } = await serve(hw)
    const send = (method: string, path: string, key: string, body?: unknown) =>
      fetch(`http://vtld${path}`, {
        method,
        dispatcher: agent,
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    const spec = { name: 'once', vps: 1, memory: '16MiB' }
    const first = await send('POST', '/v1/tds', 'open-1', spec)
    expect(first.status).toBe(201)
    const td = (await first.json()) as { id: string }
    // A retry opens no second TD: the first answer again.
    const retry = await send('POST', '/v1/tds', 'open-1', spec)
    expect(retry.status).toBe(201)
    expect(retry.headers.get('idempotent-replayed')).toBe('true')
    expect(await retry.json()).toEqual(td)
    expect(((await (await get('/v1/tds')).json()) as { tds: unknown[] }).tds).toHaveLength(1)
    const other = await send('POST', '/v1/tds', 'open-1', { ...spec, name: 'twice' })
    expect(other.status).toBe(422)
    expect(await other.json()).toMatchObject({ code: 'E_IDEMPOTENCY_MISMATCH' })

    // A step runs once: its retry answers what the first run saw.
    const steps = { steps: [STEPS[0]] }
    const ran = await send('POST', `/v1/tds/${td.id}/steps`, 'step-1', steps)
    expect(ran.status).toBe(200)
    const again = await send('POST', `/v1/tds/${td.id}/steps`, 'step-1', steps)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    const firstRun = await ran.json()
    expect(firstRun).toMatchObject({ results: [{ result: { status: 'Success' } }] })
    expect(await again.json()).toEqual(firstRun)
    // With another key it runs again: the partition's VTL1 is enabled already.
    const fresh = await send('POST', `/v1/tds/${td.id}/steps`, 'step-2', steps)
    expect(await fresh.json()).toMatchObject({
      results: [{ result: { status: 'InvalidVtlState' } }],
    })

    // And a delete's retry answers 204 again, not 404.
    expect((await send('DELETE', `/v1/tds/${td.id}`, 'delete-1')).status).toBe(204)
    const deletedAgain = await send('DELETE', `/v1/tds/${td.id}`, 'delete-1')
    expect(deletedAgain.status).toBe(204)
    expect(deletedAgain.headers.get('idempotent-replayed')).toBe('true')
    // The TD's own answers went with it: its step's retry now finds no TD.
    const stepAfter = await send('POST', `/v1/tds/${td.id}/steps`, 'step-1', steps)
    expect(stepAfter.status).toBe(404)
    expect(stepAfter.headers.get('idempotent-replayed')).toBeNull()
  })

  it('a restart keeps no hardware-path TD (nothing of it is journaled)', async () => {
    const dir = tempDir()
    const socket = join(dir, 'vtld.sock')
    const dataDir = join(dir, 'data')
    const hw = await checkBackend('hw', () => probe(simKernelProbeEnv()))
    const daemon = await startDaemon({ socket, dataDir, backend: hw })
    const { post } = client(socket)
    const created = (await (await post('/v1/tds', { vps: 1, memory: '16MiB' })).json()) as {
      id: string
    }
    const step = await post(`/v1/tds/${created.id}/steps`, { steps: [STEPS[0]] })
    expect(step.status).toBe(200)
    await daemon.close()
    keep(await startDaemon({ socket, dataDir }))
    const listed = await client(socket).get('/v1/tds')
    expect(await listed.json()).toEqual({ tds: [] })
  })

  it('lists hardware-path TDs after the journaled TDs, in the order they were opened', async () => {
    const dir = tempDir()
    const socket = join(dir, 'vtld.sock')
    const dataDir = join(dir, 'data')
    const sim = await startDaemon({ socket, dataDir })
    expect(
      (await client(socket).post('/v1/tds', { name: 'soft', vps: 1, memory: '16MiB' })).status
    ).toBe(201)
    await sim.close()
    const hw = await checkBackend('hw', () => probe(simKernelProbeEnv()))
    keep(await startDaemon({ socket, dataDir, backend: hw }))
    const { post, get } = client(socket)
    // Names against the alphabet: ids are random, so only the opening order gives this list.
    const names = ['hw-e', 'hw-d', 'hw-c', 'hw-b', 'hw-a']
    for (const name of names) {
      expect((await post('/v1/tds', { name, vps: 1, memory: '16MiB' })).status).toBe(201)
    }
    const listed = (await (await get('/v1/tds')).json()) as { tds: { name: string }[] }
    expect(listed.tds.map((td) => td.name)).toEqual(['soft', ...names])
  })

  it('refuses without the devices, naming what the probe found', async () => {
    const env = simKernelProbeEnv()
    const bare = { ...env, exists: () => false, accessDenied: () => 'ENOENT' }
    await expect(checkBackend('hw', () => probe(bare))).rejects.toMatchObject({
      code: 'E_BACKEND_REFUSED',
      reasons: [
        expect.stringMatching(/^mshv_vtl \(VTL2 kernel\): \/dev\/mshv does not exist/),
        '/dev/mshv_hvcall: /dev/mshv_hvcall does not exist',
      ],
    })
  })
})
