import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { HypercallCode } from '@vtl/core'
import { TdService } from '@vtl/daemon'
import { createRandom, type RawHypercall, type Random } from '@vtl/sim'
import {
  contextAt,
  enablePartitionVtl,
  enableSelf,
  enableVpVtl,
  gpnRange,
  modifyVtlProtectionMask,
  raw,
  startVirtualProcessor,
} from './guest-calls.js'
import type { InvariantLog } from './invariant-log.js'
import { ROW_DAMAGE, damagedStart, walDamage } from './journal-damage.js'
import { firstDifference } from './invariants.js'
import type { Campaign } from './runner.js'
import { VtldProcess } from './vtld-process.js'

const CLIENTS = 3
/** kill -9s per cycle (each followed by a restart and a check), then a graceful restart. */
const KILLS = 2
const MEMORY = '16MiB'

/** POST /v1/tds/{id}/hypercall's body. */
interface HypercallBody {
  vp: number
  code: number
  input: string
  repCount: number
}

/** One TD as its client knows it. */
interface TdModel {
  name: string
  vps: number
  /** Undefined while the create is in flight (unknown until the daemon lists it or not). */
  id: string | undefined
  /**
   * The histories the daemon may hold: every acknowledged hypercall, plus each subset of the
   * in-flight ones (one per kill at most) that the checks so far could not rule out.
   */
  histories: HypercallBody[][]
  /** The hypercall sent but not acknowledged when the daemon died. */
  inflight: HypercallBody | undefined
}

interface Client {
  index: number
  random: Random
  tds: TdModel[]
  created: number
}

function body(vp: number, call: RawHypercall): HypercallBody {
  return {
    vp,
    code: call.code,
    input: Buffer.from(call.input).toString('hex'),
    repCount: call.repCount,
  }
}

/** A mutation of the canonical sequence's kind: enables, starts, protections, VTL switches. */
function randomHypercall(random: Random, vps: number): HypercallBody {
  const vp = random.int(vps)
  const target = random.int(vps)
  const context = contextAt(0x10_0000n + BigInt(random.int(0x100)) * 0x1000n)
  switch (random.int(7)) {
    case 0:
      return body(vp, enablePartitionVtl(random.int(2)))
    case 1:
      return body(vp, enableSelf(context))
    case 2:
      return body(vp, enableVpVtl(target, context))
    case 3:
      return body(vp, startVirtualProcessor(target, random.pick([0, 1] as const), context))
    case 4: {
      const count = 1 + random.int(8)
      const gpns = gpnRange(random.int(4096 - count), count)
      return body(vp, modifyVtlProtectionMask(random.pick([0, 1, 3, 9, 0xf]), gpns))
    }
    case 5:
      return body(vp, raw(HypercallCode.VtlCall, new Uint8Array(0)))
    default:
      return body(vp, raw(HypercallCode.VtlReturn, new Uint8Array(0)))
  }
}

/**
 * A client streams mutations on its own TDs, one request at a time, until the daemon dies: so
 * per TD the order is the client's and at most one request is in flight at the kill.
 */
async function stream(
  vtld: VtldProcess,
  client: Client,
  seed: number,
  log: InvariantLog
): Promise<void> {
  const { random } = client
  for (;;) {
    const acked = client.tds.filter((td) => td.id !== undefined)
    if (acked.length === 0 || (client.tds.length < 3 && random.int(10) === 0)) {
      const td: TdModel = {
        name: `c${client.index}-s${seed}-${client.created++}`,
        vps: 2 + random.int(3),
        id: undefined,
        histories: [[]],
        inflight: undefined,
      }
      client.tds.push(td)
      let answer
      try {
        answer = await vtld.request('POST', '/v1/tds', {
          name: td.name,
          vps: td.vps,
          memory: MEMORY,
        })
      } catch {
        return
      }
      const view = answer.body as { id?: string } | undefined
      log.check(
        'a valid create is acknowledged',
        answer.status === 201 && typeof view?.id === 'string',
        () => {
          return `POST /v1/tds ${answer.status}: ${JSON.stringify(answer.body)}`
        }
      )
      td.id = view?.id
      log.tally('acknowledged creates')
      continue
    }
    const td = random.pick(acked)
    const call = randomHypercall(random, td.vps)
    td.inflight = call
    let answer
    try {
      answer = await vtld.request('POST', `/v1/tds/${td.id ?? ''}/hypercall`, call)
    } catch {
      return
    }
    td.inflight = undefined
    if (
      log.check('a valid hypercall is acknowledged', answer.status === 200, () => {
        return `hypercall ${answer.status}: ${JSON.stringify(answer.body)}`
      })
    ) {
      for (const history of td.histories) history.push(call)
      log.tally('acknowledged hypercalls')
    }
  }
}

/** What a fresh, journal-less TdService holds after `history`: status and snapshot. */
async function replay(td: TdModel, id: string, history: HypercallBody[]): Promise<unknown> {
  const service = new TdService()
  const view = await service.create({
    name: td.name,
    vps: td.vps,
    memory: 16n << 20n,
    gpaWidth: 48,
    mbec: true,
  })
  for (const call of history) {
    await service.hypercall(view.id, {
      vp: call.vp,
      code: call.code,
      input: Buffer.from(call.input, 'hex'),
      repStart: 0,
      repCount: call.repCount,
      varHeaderSize: 0,
      fast: false,
    })
  }
  const status = { ...((await service.status(view.id)) as object), id }
  const snapshot = await service.snapshotDocument(view.id)
  return JSON.parse(JSON.stringify({ status, snapshot })) as unknown
}

/**
 * After a restart: every acknowledged TD and hypercall is there, nothing else is, and each TD
 * equals the replay of its acknowledged history plus some subset of what was in flight (status
 * and whole-TD snapshot). The histories that match are kept for the next check.
 */
async function reconcile(vtld: VtldProcess, clients: Client[], log: InvariantLog): Promise<void> {
  const listed = (await vtld.request('GET', '/v1/tds')).body as {
    tds: { id: string; name: string | null }[]
  }
  const byName = new Map(listed.tds.map((td) => [td.name ?? '', td.id]))
  const known = new Set<string>()
  for (const client of clients) {
    client.tds = client.tds.filter((td) => {
      known.add(td.name)
      const id = byName.get(td.name)
      if (td.id === undefined) {
        // A create in flight at the kill: either outcome is allowed.
        log.tally(id === undefined ? 'in-flight creates lost' : 'in-flight creates kept')
        td.id = id
        return id !== undefined
      }
      log.check(
        'every acknowledged TD survives',
        id === td.id,
        () => `${td.name} (${td.id ?? ''}) is gone`
      )
      return id === td.id
    })
  }
  for (const td of listed.tds) {
    log.check(
      'no TD nobody created',
      known.has(td.name ?? ''),
      () => `unexpected TD ${td.id} (${String(td.name)})`
    )
  }
  for (const td of clients.flatMap((client) => client.tds)) {
    const id = td.id ?? ''
    const status = await vtld.request('GET', `/v1/tds/${id}/status`)
    const snapshot = await vtld.request('GET', `/v1/tds/${id}/snapshot`)
    const actual = { status: status.body, snapshot: snapshot.body }
    const candidates = td.histories.flatMap((h) =>
      td.inflight === undefined ? [h] : [h, [...h, td.inflight]]
    )
    const matching: HypercallBody[][] = []
    let closest: unknown
    for (const history of candidates) {
      const expected = await replay(td, id, history)
      if (isDeepStrictEqual(expected, actual)) matching.push(history)
      else closest ??= expected
    }
    log.check('state equals the replay of acknowledged + in-flight', matching.length > 0, () => {
      return `${td.name}: ${firstDifference(closest, actual)}`
    })
    if (td.inflight !== undefined) {
      const kept = matching.filter((h) => h.length > 0 && h.at(-1) === td.inflight).length
      log.tally(
        kept === 0
          ? 'in-flight hypercalls lost'
          : kept === matching.length
            ? 'in-flight hypercalls kept'
            : 'in-flight hypercalls undecided'
      )
    }
    td.histories = matching.length > 0 ? matching : td.histories
    td.inflight = undefined
  }
}

/** The clients' view as it is now, for a check that must not narrow it (a damaged copy's). */
function copyOf(clients: Client[]): Client[] {
  return clients.map((client) => ({
    ...client,
    tds: client.tds.map((td) => ({ ...td, histories: [...td.histories] })),
  }))
}

export interface CrashOptions {
  /** Adds an acknowledged TD the daemon never saw (tests prove the check sees a lost mutation). */
  phantom?: boolean
}

/**
 * A second vtld on the live data dir, while the clients stream: it must exit 2 naming the holder
 * (two daemons on one journal would both acknowledge, and one's compaction drop the other's).
 */
async function secondDaemon(socket: string, dataDir: string, log: InvariantLog): Promise<void> {
  let started: VtldProcess | undefined
  let refusal = ''
  try {
    started = await VtldProcess.start(socket, dataDir)
  } catch (error) {
    refusal = error instanceof Error ? error.message : String(error)
  }
  if (started !== undefined) await started.kill()
  log.check(
    'a second vtld on a live data dir exits 2 naming the holder',
    started === undefined && /exited \(2\)[\s\S]*is in use by vtld pid \d+/.test(refusal),
    () => (started === undefined ? refusal : 'the second vtld started')
  )
  log.tally('second daemons refused')
}

/**
 * `crash`: each cycle starts vtld as a child process on a fresh data dir, streams mutations from
 * several clients (TD creates and raw hypercalls: enables, starts, protections, VTL switches),
 * kill -9s it at a seeded random moment and restarts it, twice (the first time, a second vtld on the
same data dir must be refused meanwhile); then stops it gracefully and
 * starts it once more. After each restart every acknowledged mutation must be there and each TD
 * must equal a fresh in-process replay of its acknowledged requests plus a subset of the ones in
 * flight at the kill (GET status and the whole-TD snapshot). Kill timing is seeded, but how far
 * the clients got by then depends on the machine: a replayed seed reruns the same streams.
 * Journal damage (`journal-damage.ts`) is tried on copies: the last kill -9 image with a WAL
 * damage (one kind per seed, in turn), the stopped data dir with one changed byte in a stored TD.
 */
export function createCrashCampaign(options: CrashOptions = {}): Campaign {
  return {
    name: 'crash',
    unit: 'kill -9 cycle',
    defaultRuns: 20,
    defaultBudgetSeconds: Number.POSITIVE_INFINITY,
    async run(seed: number, log: InvariantLog): Promise<number> {
      const random = createRandom(seed)
      const dir = await mkdtemp(join(tmpdir(), 'vtl-crash-'))
      const socket = join(dir, 'vtld.sock')
      const dataDir = join(dir, 'data')
      const clients: Client[] = Array.from({ length: CLIENTS }, (_, index) => ({
        index,
        random: random.fork(`client ${index}`),
        tds: [],
        created: 0,
      }))
      try {
        for (let kill = 0; kill < KILLS; kill++) {
          const vtld = await VtldProcess.start(socket, dataDir)
          if (kill > 0) await reconcile(vtld, clients, log)
          const streams = clients.map((client) => stream(vtld, client, seed, log))
          if (kill === 0) await secondDaemon(join(dir, 'second.sock'), dataDir, log)
          await new Promise((resolve) => setTimeout(resolve, 150 + random.int(850)))
          await vtld.kill()
          await Promise.all(streams)
          log.tally('kill -9')
          if (kill === KILLS - 1) {
            // A copy of the crash image, damaged: refused, or served without loss.
            await damagedStart(dataDir, dir, walDamage(seed), log, (damaged) =>
              reconcile(damaged, copyOf(clients), log)
            )
          }
          if (options.phantom === true && kill === 0) {
            clients[0]?.tds.push({
              name: 'phantom',
              vps: 2,
              id: 'td-phantom',
              histories: [[]],
              inflight: undefined,
            })
          }
        }
        let vtld = await VtldProcess.start(socket, dataDir)
        await reconcile(vtld, clients, log)
        const code = await vtld.stop()
        log.check(
          'graceful shutdown exits 0',
          code === 0,
          () => `exit ${String(code)}: ${vtld.log}`
        )
        // Graceful shutdown snapshots and compacts: that path must lose nothing either.
        vtld = await VtldProcess.start(socket, dataDir)
        await reconcile(vtld, clients, log)
        await vtld.stop()
        await damagedStart(dataDir, dir, ROW_DAMAGE, log, (damaged) =>
          reconcile(damaged, copyOf(clients), log)
        )
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
      return 1
    },
  }
}
