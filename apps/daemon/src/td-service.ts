import { randomUUID } from 'node:crypto'
import {
  GuestVsmState,
  HvRegisterName,
  VtlError,
  getVpRegister,
  hvStatusName,
  type GuestVtl,
} from '@vtl/core'
import { formatHex } from '@vtl/core/schemas'
import { SimTd, performStep, type StepResult } from '@vtl/sim'
import { CommandQueue } from './command-queue.js'
import type { CreateRecord, HypercallRecord, Journal, JournalRecord } from './journal.js'
import { ProblemError } from './problem.js'

/** What POST /v1/tds asks for (decoded). */
export interface TdSpec {
  name?: string | undefined
  vps: number
  memory: bigint
  gpaWidth: 48 | 52
  mbec: boolean
}

/** A raw hypercall as the guest issues it (decoded). */
export interface HypercallSpec {
  vp: number
  code: number
  input: Uint8Array
  repStart: number
  repCount: number
  varHeaderSize: number
  fast: boolean
}

/** A TD as the API shows it. */
export interface TdView {
  id: string
  name: string | null
  backend: 'sim'
  vps: number
  memory: string
  gpaWidth: 48 | 52
  mbec: boolean
  state: string
}

interface TdEntry {
  record: CreateRecord
  td: SimTd
  queue: CommandQueue
}

const VSM_STATE_NAMES: Readonly<Record<number, string>> = {
  [GuestVsmState.NotPlatformSupported]: 'NotPlatformSupported',
  [GuestVsmState.NotGuestEnabled]: 'NotGuestEnabled',
  [GuestVsmState.Enabled]: 'Enabled',
}

/** The daemon's TDs (simulated), each with its own serialised command queue. */
export class TdService {
  private readonly tds = new Map<string, TdEntry>()
  private readonly journal: Journal | undefined

  constructor(journal?: Journal) {
    this.journal = journal
    if (journal !== undefined) for (const record of journal.records()) this.replay(record)
  }

  private replay(record: JournalRecord): void {
    switch (record.op) {
      case 'td.create':
        this.build(record)
        break
      case 'td.delete':
        this.tds.delete(record.td)
        break
      case 'hypercall': {
        const entry = this.tds.get(record.td)
        if (entry !== undefined) this.apply(entry, record)
        break
      }
    }
  }

  private build(record: CreateRecord): TdEntry {
    const td = new SimTd({
      vps: record.vps,
      memory: BigInt(record.memory),
      gpaWidth: record.gpaWidth,
      mbecCapable: record.mbec,
    })
    const entry: TdEntry = { record, td, queue: new CommandQueue() }
    this.tds.set(record.td, entry)
    return entry
  }

  private apply(entry: TdEntry, record: HypercallRecord): StepResult {
    return performStep(entry.td, record.vp, {
      kind: 'hypercall',
      call: {
        kind: 'raw',
        code: record.code,
        input: Buffer.from(record.input, 'hex'),
        repStart: record.repStart,
        repCount: record.repCount,
        varHeaderSize: record.varHeaderSize,
        fast: record.fast,
      },
    }).result
  }

  private entry(id: string): TdEntry {
    const entry = this.tds.get(id)
    if (entry === undefined) throw new ProblemError('E_NO_TD', `no TD with id ${id}`)
    return entry
  }

  private view(entry: TdEntry): TdView {
    const { record } = entry
    return {
      id: record.td,
      name: record.name ?? null,
      backend: 'sim',
      vps: record.vps,
      memory: record.memory,
      gpaWidth: record.gpaWidth,
      mbec: record.mbec,
      state: 'running',
    }
  }

  create(spec: TdSpec): TdView {
    if (spec.name !== undefined) {
      for (const entry of this.tds.values()) {
        if (entry.record.name === spec.name) {
          throw new ProblemError(
            'E_TD_EXISTS',
            `a TD named ${spec.name} exists (${entry.record.td})`
          )
        }
      }
    }
    const record: CreateRecord = {
      op: 'td.create',
      td: `td-${randomUUID().slice(0, 8)}`,
      name: spec.name,
      vps: spec.vps,
      memory: formatHex(spec.memory),
      gpaWidth: spec.gpaWidth,
      mbec: spec.mbec,
    }
    // Build first (a bad geometry throws before anything is journaled), then journal, then answer.
    let entry: TdEntry
    try {
      entry = this.build(record)
    } catch (error) {
      // The simulator refuses a geometry the schema cannot see (alignment, GPA width): bad input.
      if (VtlError.isInstance(error)) {
        throw new ProblemError('E_BAD_TD', `${error.message} (${error.code})`)
      }
      throw error
    }
    try {
      this.journal?.append(record)
    } catch (error) {
      this.tds.delete(record.td)
      throw error
    }
    return this.view(entry)
  }

  list(): TdView[] {
    return [...this.tds.values()].map((entry) => this.view(entry))
  }

  show(id: string): TdView {
    return this.view(this.entry(id))
  }

  /** Deletes a TD after the commands already queued on it. */
  async delete(id: string): Promise<void> {
    const entry = this.entry(id)
    await entry.queue.run(() => {
      if (this.tds.get(id) !== entry) throw new ProblemError('E_NO_TD', `no TD with id ${id}`)
      this.journal?.append({ op: 'td.delete', td: id })
      this.tds.delete(id)
    })
  }

  /** Guest VSM state of the partition and of each VP (registers as the VP's active VTL reads them). */
  async status(id: string): Promise<unknown> {
    const entry = this.entry(id)
    return await entry.queue.run(() => {
      const { engine } = entry.td
      const vps = []
      let partitionStatus: string | undefined
      for (let vp = 0; vp < entry.record.vps; vp++) {
        const state = engine.vp(vp)
        const vtl: GuestVtl = state.exitVtl
        const vpStatus = getVpRegister(engine, vp, vtl, vtl, HvRegisterName.VsmVpStatus)
        if (partitionStatus === undefined) {
          const read = getVpRegister(engine, vp, vtl, vtl, HvRegisterName.VsmPartitionStatus)
          partitionStatus = formatHex(read.value)
        }
        vps.push({
          vp,
          activeVtl: vtl,
          vtl1Enabled: engine.shared.vtl1EnableCalled(vp),
          vsmVpStatus: formatHex(vpStatus.value),
          readStatus: hvStatusName(vpStatus.status) ?? formatHex(vpStatus.status),
        })
      }
      return {
        id,
        partition: {
          guestVsmState: VSM_STATE_NAMES[engine.guestVsmState] ?? String(engine.guestVsmState),
          vsmPartitionStatus: partitionStatus ?? '0x0',
        },
        vps,
      }
    })
  }

  /** Issues a raw hypercall from a VP; journaled before the answer is returned. */
  async hypercall(id: string, spec: HypercallSpec): Promise<StepResult> {
    const entry = this.entry(id)
    if (spec.vp >= entry.record.vps) {
      throw new ProblemError(
        'E_BAD_VP',
        `vp ${spec.vp} is out of range: TD ${id} has ${entry.record.vps} VPs`
      )
    }
    return await entry.queue.run(() => {
      if (this.tds.get(id) !== entry) throw new ProblemError('E_NO_TD', `no TD with id ${id}`)
      const record: HypercallRecord = {
        op: 'hypercall',
        td: id,
        vp: spec.vp,
        code: spec.code,
        input: Buffer.from(spec.input).toString('hex'),
        repStart: spec.repStart,
        repCount: spec.repCount,
        varHeaderSize: spec.varHeaderSize,
        fast: spec.fast,
      }
      const result = this.apply(entry, record)
      this.journal?.append(record)
      return result
    })
  }

  /** Waits for every queued command of every TD. */
  async drain(): Promise<void> {
    await Promise.all([...this.tds.values()].map((entry) => entry.queue.drain()))
  }
}
