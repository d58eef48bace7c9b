import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineSuite, type ValueCase } from '@vtl/bench-kit'
import { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF, encodeEnableVpVtl } from '@vtl/core'
import { defaultVpContext } from '@vtl/sim'
import { Pool } from 'undici'
import { latencyPair } from './latency-pair.js'
import { forkServer, type ServerProcess } from './server-fork.js'

// vtld as users run it: its own process (started on its sources with this process's node flags),
// its clients here, over its unix socket. Status reads/s against a bare hono server, also in a
// process of its own, on a unix socket (the floor of HTTP on this machine), and EnableVpVtl
// latency through the raw hypercall route (queued per TD, answered once its group commit made it
// durable).

const SAMPLES = 10
/** Status requests per throughput sample. */
const STATUS_REQUESTS = 3000
/** EnableVpVtl calls per latency sample, each on a VP not enabled yet (a fresh TD per sample). */
const ENABLES = 256

const ENABLE_PARTITION_VTL = 'ffffffffffffffff 01 00 0000 00000000'
const hexInput = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const enableVpVtl = (vpIndex: number): string =>
  hexInput(
    encodeEnableVpVtl({
      partitionId: HV_PARTITION_ID_SELF,
      vpIndex,
      targetVtl: 1,
      context: defaultVpContext(),
    })
  )

const SERVER_PROCESS = fileURLToPath(new URL('./server-process.ts', import.meta.url))

interface Setup {
  dir: string
  vtld: ServerProcess
  bare: ServerProcess
  statusPath: string
  pools: Map<string, Pool>
}

let setup: Promise<Setup> | undefined

async function start(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'vtld-bench-'))
  const pools = new Map<string, Pool>()
  let vtld: ServerProcess | undefined
  try {
    vtld = await forkServer(SERVER_PROCESS, ['vtld', dir])
    const partial = { dir, vtld, pools }
    const td = await call(partial, vtld.socket, 1, 'POST', '/v1/tds', { vps: 2, memory: '64MiB' })
    const statusPath = `/v1/tds/${(td as { id: string }).id}/status`
    // The bare server answers the same document the daemon does, as a constant.
    const status = await call(partial, vtld.socket, 1, 'GET', statusPath)
    const bare = await forkServer(SERVER_PROCESS, ['bare', dir, JSON.stringify(status)])
    return { ...partial, bare, statusPath }
  } catch (error) {
    // What did start is stopped here: the suite's teardown has no Setup to stop.
    await teardown({ dir, pools, ...(vtld === undefined ? {} : { vtld }) })
    throw error
  }
}

/** Stops whatever of a setup started (all of it, or what a failed `start` got to). */
async function teardown(s: Pick<Setup, 'dir' | 'pools'> & Partial<Setup>): Promise<void> {
  try {
    for (const pool of s.pools.values()) await pool.close()
    await s.bare?.close()
    await s.vtld?.close()
  } finally {
    rmSync(s.dir, { recursive: true, force: true })
  }
}

/** One keep-alive connection per client. */
function pool(s: Pick<Setup, 'pools'>, socket: string, clients: number): Pool {
  const key = `${socket}#${clients}`
  let found = s.pools.get(key)
  if (found === undefined) {
    found = new Pool('http://vtld', { socketPath: socket, connections: clients, pipelining: 1 })
    s.pools.set(key, found)
  }
  return found
}

async function call(
  s: Pick<Setup, 'pools'>,
  socket: string,
  clients: number,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown
): Promise<unknown> {
  const answer = await pool(s, socket, clients).request({
    method,
    path,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  })
  if (answer.statusCode >= 300) {
    throw new Error(`${method} ${path}: ${answer.statusCode} ${await answer.body.text()}`)
  }
  if (answer.statusCode === 204) {
    await answer.body.dump()
    return undefined
  }
  return await answer.body.json()
}

/** Runs `total` requests from `clients` concurrent clients; each request's latency in ms. */
async function drive(
  clients: number,
  total: number,
  request: (index: number) => Promise<void>
): Promise<{ latencies: number[]; seconds: number }> {
  const latencies = new Array<number>(total)
  let next = 0
  const start = performance.now()
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let index = next++; index < total; index = next++) {
        const t = performance.now()
        await request(index)
        latencies[index] = performance.now() - t
      }
    })
  )
  return { latencies, seconds: (performance.now() - start) / 1000 }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN
}

async function statusRps(clients: number, bare: boolean): Promise<number> {
  const s = await (setup ??= start())
  const server = bare ? s.bare : s.vtld
  const path = bare ? '/status' : s.statusPath
  await server.gc()
  const socket = server.socket
  const { seconds } = await drive(clients, STATUS_REQUESTS, async () => {
    await call(s, socket, clients, 'GET', path)
  })
  return STATUS_REQUESTS / seconds
}

/** p50 and p99 of EnableVpVtl on a fresh TD: VP0 enabled VTL1 on itself and sits in VTL1. */
async function enableVpLatency(clients: number): Promise<{ p50: number; p99: number }> {
  const s = await (setup ??= start())
  const socket = s.vtld.socket
  const post = (path: string, body: unknown) => call(s, socket, clients, 'POST', path, body)
  const td = (await post('/v1/tds', { vps: ENABLES + 1, memory: '64MiB' })) as { id: string }
  const hypercall = `/v1/tds/${td.id}/hypercall`
  const expectSuccess = async (body: unknown): Promise<void> => {
    const result = (await post(hypercall, body)) as { status?: string; activeVtl?: number }
    if (result.status !== undefined && result.status !== 'Success') {
      throw new Error(`hypercall ${JSON.stringify(body)}: ${JSON.stringify(result)}`)
    }
  }
  await expectSuccess({ vp: 0, code: '0x000d', input: ENABLE_PARTITION_VTL })
  await expectSuccess({ vp: 0, code: '0x000f', input: enableVpVtl(HV_VP_INDEX_SELF) })
  await expectSuccess({ vp: 0, code: '0x0011', input: '' }) // VtlCall: VP0 now runs VTL1
  await s.vtld.gc()
  const inputs = Array.from({ length: ENABLES }, (_, n) => enableVpVtl(n + 1))
  const { latencies } = await drive(clients, ENABLES, async (index) => {
    await expectSuccess({ vp: 0, code: '0x000f', input: inputs[index] })
  })
  await call(s, socket, clients, 'DELETE', `/v1/tds/${td.id}`)
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

/** The p99 and p50 cases of EnableVpVtl with `clients` clients (one run per round for both). */
const enableVpCases = (clients: number, target?: ValueCase['target']): ValueCase[] =>
  latencyPair(
    (p) => `daemon.enable-vp-${p}-${clients}`,
    () => enableVpLatency(clients),
    ENABLE_NOTE(clients),
    target
  )

function statusCase(clients: number, note: string): ValueCase {
  return {
    kind: 'value',
    id: `daemon.status-rps-${clients}`,
    unit: 'req/s',
    better: 'higher',
    note,
    sample: () => statusRps(clients, false),
  }
}

const STATUS_NOTE = (clients: number): string =>
  `GET /v1/tds/{id}/status (2-VP TD) over the unix socket of vtld in its own process, ` +
  `${clients} keep-alive clients in the bench process, ${STATUS_REQUESTS} requests per sample`
const ENABLE_NOTE = (clients: number): string =>
  `EnableVpVtl (raw POST /v1/tds/{id}/hypercall, from VP0 in VTL1, journaled) on ${ENABLES} fresh ` +
  `VPs of a ${ENABLES + 1}-VP TD, vtld in its own process, ${clients} concurrent clients in the ` +
  `bench process; latency per request`

export default defineSuite({
  name: 'daemon',
  samples: SAMPLES,
  teardown: async () => {
    // A failed start stopped what it started itself (its error is the sample's).
    const s = await setup?.catch(() => undefined)
    if (s !== undefined) await teardown(s)
  },
  cases: [
    {
      kind: 'value',
      id: 'daemon.bare-hono-rps-64',
      unit: 'req/s',
      better: 'higher',
      baselineOnly: true,
      note:
        'a bare hono server in its own process answering the status document as a constant on ' +
        'a unix socket',
      sample: () => statusRps(64, true),
    },
    {
      ...statusCase(64, STATUS_NOTE(64)),
      baseline: 'daemon.bare-hono-rps-64',
      target: { value: 0.8, unit: '×' },
    },
    statusCase(1, STATUS_NOTE(1)),
    statusCase(16, STATUS_NOTE(16)),
    ...enableVpCases(16, { value: 10, unit: 'ms' }),
    ...enableVpCases(1),
    ...enableVpCases(64),
  ],
})
