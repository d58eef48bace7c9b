// Test helper thread for host-channel.test.ts: a HostClient issuing a fixed script of requests
// against the owner on the test's thread. Loaded through boot.mjs.
import { parentPort, workerData } from 'node:worker_threads'
import {
  HV_MAP_GPA_PERMISSIONS_ALL,
  HvMapGpaFlags,
  encodeEnablePartitionVtl,
  enablePartitionVtlFlags,
  HV_PARTITION_ID_SELF,
} from '@vtl/core'
import { HostClient, type PagePermission } from './host-channel.js'

export interface HostTestInput {
  channel: SharedArrayBuffer
  /** Word 0: set to 1 when the script is done (the owner's stop condition). */
  done: SharedArrayBuffer
  /** A GPN past the end of RAM. */
  outside: number
}

export interface HostTestOutput {
  statuses: number[]
  /** Permission of GPN 3 for VTL0 right after each acknowledged change. */
  seen: PagePermission[]
  epochs: number[]
  visibility: { status: number; processed: number }
  shared: boolean[]
  hypercall: bigint
  tooMany: string
}

const input = workerData as HostTestInput
const client = new HostClient(input.channel)
const out: HostTestOutput = {
  statuses: [],
  seen: [],
  epochs: [],
  visibility: { status: -1, processed: -1 },
  shared: [],
  hypercall: 0n,
  tooMany: '',
}
const R = HvMapGpaFlags.Readable
for (const flags of [R, HV_MAP_GPA_PERMISSIONS_ALL, 0]) {
  out.statuses.push(client.changeVtlProtections(0, [3n, 4n], flags))
  out.seen.push(client.permission(0, 3))
  out.epochs.push(client.epoch)
}
// A page that is not RAM: refused, nothing published.
out.statuses.push(client.changeVtlProtections(0, [3n, BigInt(input.outside)], R))
out.seen.push(client.permission(0, 3))
out.epochs.push(client.epoch)
// VTL1's default (the EnablePartitionVtl sweep): every page gets VTL1 access.
out.statuses.push(client.changeDefaultVtlProtections(1, HV_MAP_GPA_PERMISSIONS_ALL))
out.seen.push(client.permission(1, 5))
out.epochs.push(client.epoch)
out.visibility = client.changeHostVisibility(0, [6n, 7n], true)
out.shared = client.queryHostVisibility([5n, 6n, 7n]).shared
out.hypercall = client.hypercall(
  0x0dn,
  encodeEnablePartitionVtl({
    partitionId: HV_PARTITION_ID_SELF,
    targetVtl: 1,
    flags: enablePartitionVtlFlags(),
  })
).result
try {
  client.changeVtlProtections(
    0,
    Array.from({ length: 2000 }, () => 1n),
    R
  )
} catch (error) {
  out.tooMany = error instanceof Error ? error.message : String(error)
}
Atomics.store(new Int32Array(input.done), 0, 1)
client.kickOwner()
parentPort?.postMessage(out)
