import { join } from 'node:path'
import { fetch } from 'undici'
import { describe, expect, it } from 'vitest'
import { createApp } from '../src/app.js'
import { startDaemon } from '../src/server.js'
import { TdService } from '../src/td-service.js'
import { e2eFixtures } from './e2e-fixtures.js'

const { tempDir, keep, client } = e2eFixtures('vtld-worker-')

async function daemon() {
  const dir = tempDir()
  const started = keep(
    await startDaemon({
      socket: join(dir, 'vtld.sock'),
      dataDir: join(dir, 'data'),
      scenarioWorkers: 1,
    })
  )
  const { agent, get } = client(started.socket)
  return {
    get,
    runScenario: (text: string) =>
      fetch('http://vtld/v1/scenarios/run', {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/yaml' },
        body: text,
      }),
  }
}

/** VTL1 enabled on VP0, then `pairs` VtlCall/VtlReturn round trips (about 0.1 ms each). */
function longScenario(pairs: number): string {
  return (
    'version: 1\nname: long\nseed: 1\npartition: { vps: 1, memory: 16MiB }\nsteps:\n' +
    '  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }\n' +
    '  - { vp: 0, hypercall: { name: EnableVpVtl, input: {} } }\n' +
    '  - { vp: 0, vtlCall: {} }\n  - { vp: 0, vtlReturn: {} }\n'.repeat(pairs)
  )
}

describe('scenario runs on worker threads', () => {
  it('a long scenario does not hold up /healthz', async () => {
    const vtld = await daemon()
    let scenarioDone = false
    const scenario = vtld.runScenario(longScenario(15_000)).then((response) => {
      scenarioDone = true
      return response
    })
    // Several health checks answer while the scenario still runs on its thread.
    for (let i = 0; i < 5; i++) {
      const health = await vtld.get('/healthz')
      expect(health.status).toBe(200)
    }
    expect(scenarioDone).toBe(false)
    const response = await scenario
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({ scenario: 'long', passed: 30_002, failed: 0 })
  })

  it.each([
    { what: 'not YAML', text: 'version: [1' },
    { what: 'a bad step', text: 'version: 1\npartition: {vps: 1, memory: 1MiB}\nsteps: [{vp: 9}]' },
    {
      what: 'a refused partition',
      text: 'version: 1\npartition: {vps: 1, memory: 4097}\nsteps: []',
    },
  ])('answers $what with the in-thread problem (E_SCENARIO 400)', async ({ text }) => {
    const inThread = await createApp({ tds: new TdService() }).request('/v1/scenarios/run', {
      method: 'POST',
      headers: { 'content-type': 'application/yaml' },
      body: text,
    })
    const expected = (await inThread.json()) as { code: string }
    expect(inThread.status).toBe(400)
    expect(expected.code).toBe('E_SCENARIO')
    const vtld = await daemon()
    const response = await vtld.runScenario(text)
    expect(response.status).toBe(400)
    expect(await response.json()).toEqual(expected)
  })
})
