import { formatByteSize } from '@vtl/core/schemas'
import type { VtldAnswers, VtldClient } from './client.js'
import { renderTd, renderVsmStatus } from './output/answers.js'

// `vtl td show`: the TD, its VPs and guest VSM state, and a summary of its memory, from the three
// reads the daemon offers (the TD, its status, its memory runs).

type Run = VtldAnswers['mem.show']['runs'][number]

/** What the GPA runs add up to, in bytes. */
export interface MemorySummary {
  runs: number
  ram: string
  shared: string
  notAccepted: string
  /** RAM whose VTL0 permissions are less than `rwxu` (VTL1 protected it). */
  protectedForVtl0: string
}

const hex = (n: bigint): string => `0x${n.toString(16)}`

export function summarizeMemory(runs: readonly Run[]): MemorySummary {
  let ram = 0n
  let shared = 0n
  let notAccepted = 0n
  let protectedBytes = 0n
  for (const r of runs) {
    if (r.kind !== 'ram') continue
    const size = BigInt(r.size)
    ram += size
    if (r.visibility === 'shared') shared += size
    if (!r.accepted) notAccepted += size
    if (r.vtl0 !== 'rwxu') protectedBytes += size
  }
  return {
    runs: runs.length,
    ram: hex(ram),
    shared: hex(shared),
    notAccepted: hex(notAccepted),
    protectedForVtl0: hex(protectedBytes),
  }
}

/** The TD as `td list` shows it, its guest VSM state as `vsm status` does, and its memory. */
export type TdOverview = VtldAnswers['td.show'] & {
  vsm: Pick<VtldAnswers['vsm.status'], 'partition' | 'vps'>
  memoryMap: MemorySummary
}

export async function tdOverview(client: VtldClient, td: string): Promise<TdOverview> {
  const shown = await client.request({ op: 'td.show', td })
  const status = await client.request({ op: 'vsm.status', td: shown.id })
  const memory = await client.request({ op: 'mem.show', td: shown.id })
  return {
    ...shown,
    vsm: { partition: status.partition, vps: status.vps },
    memoryMap: summarizeMemory(memory.runs),
  }
}

export function renderTdOverview(o: TdOverview, width: number): string {
  const { vsm, memoryMap: m, ...td } = o
  const size = (h: string): string => formatByteSize(BigInt(h))
  return [
    renderTd(td, width),
    renderVsmStatus({ id: o.id, ...vsm }, width),
    `memory: ${size(m.ram)} RAM in ${m.runs} run(s); ${size(m.shared)} shared, ${size(m.notAccepted)} not accepted, ${size(m.protectedForVtl0)} protected from VTL0 (less than rwxu)`,
  ].join('\n')
}
