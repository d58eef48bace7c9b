import { describe, expect, it } from 'vitest'
import {
  HV_PARTITION_ID_SELF,
  decodeHypercallResult,
  encodeEnablePartitionVtl,
  encodeEnableVpVtl,
  encodeHypercallControl,
  encodeModifySparseGpaPageHostVisibility,
  enablePartitionVtlFlags,
  zeroInitialVpContextX64,
} from '@vtl/core'
import { UntrustedHypervisor, type UntrustedHypervisorJson } from './untrusted-hypervisor.js'

const control = (code: number, repCount = 0, repStart = 0) =>
  encodeHypercallControl({
    code,
    fast: false,
    variableHeaderSize: 0,
    nested: false,
    repCount,
    repStart,
  })

const enablePartition = (targetVtl: number, flags = enablePartitionVtlFlags({})) =>
  encodeEnablePartitionVtl({ partitionId: HV_PARTITION_ID_SELF, targetVtl, flags })

const ZERO_CONTEXT = new Uint8Array(240).subarray(16)

function enableVp(vpIndex: number, targetVtl = 1, context?: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(240)
  const view = new DataView(bytes.buffer)
  view.setBigUint64(0, HV_PARTITION_ID_SELF, true)
  view.setUint32(8, vpIndex, true)
  view.setUint8(12, targetVtl)
  bytes.set(context ?? ZERO_CONTEXT, 16)
  return bytes
}

const status = (hv: UntrustedHypervisor, code: number, input: Uint8Array, reps = 0, start = 0) =>
  decodeHypercallResult(hv.hypercall(control(code, reps, start), input).result)

describe('UntrustedHypervisor', () => {
  it('EnablePartitionVtl: Success the first time, InvalidVtlState after', () => {
    const hv = new UntrustedHypervisor({ vps: 2 })
    expect(status(hv, 0x0d, enablePartition(1)).status).toBe(0x0000)
    expect(status(hv, 0x0d, enablePartition(1)).status).toBe(0x0051)
    expect(hv.calls.map((c) => [c.name, c.status])).toEqual([
      ['EnablePartitionVtl', 'Success'],
      ['EnablePartitionVtl', 'InvalidVtlState'],
    ])
    expect(hv.partitionVtl1Enabled).toBe(true)
  })

  it.each([
    ['VTL0', enablePartition(0), 0x0005],
    ['VTL2 (the paravisor is already there)', enablePartition(2), 0x0051],
    ['VTL3', enablePartition(3), 0x0005],
    [
      'another partition',
      encodeEnablePartitionVtl({
        partitionId: 5n,
        targetVtl: 1,
        flags: enablePartitionVtlFlags({}),
      }),
      0x000d,
    ],
    ['15 bytes', enablePartition(1).subarray(0, 15), 0x0003],
  ])('EnablePartitionVtl of %s → status %d, nothing enabled', (_name, input, expected) => {
    const hv = new UntrustedHypervisor({ vps: 1 })
    expect(status(hv, 0x0d, input).status).toBe(expected)
    expect(hv.partitionVtl1Enabled).toBe(false)
  })

  it('records the exact bytes, the control word and the result word', () => {
    const hv = new UntrustedHypervisor({ vps: 1 })
    hv.hypercall(control(0x0d), enablePartition(1, enablePartitionVtlFlags({ enableMbec: true })))
    expect(hv.calls).toEqual([
      {
        control: '0xd',
        code: 13,
        name: 'EnablePartitionVtl',
        input: 'ffffffffffffffff0101000000000000',
        result: '0x0',
        status: 'Success',
        repsCompleted: 0,
      },
    ])
    // A CVM paravisor forwards flags = 0: anything else is flagged.
    expect(hv.anomalies).toEqual([
      {
        call: 0,
        kind: 'enable-partition-flags',
        detail: 'flags 0x1 reached the host; OpenHCL forwards 0 on CVMs',
      },
    ])
  })

  it('EnableVpVtl: once per VP, after the partition, zero context checked', () => {
    const hv = new UntrustedHypervisor({ vps: 4 })
    expect(status(hv, 0x0f, enableVp(1)).status).toBe(0x0051) // partition not enabled
    status(hv, 0x0d, enablePartition(1))
    expect(status(hv, 0x0f, enableVp(1)).status).toBe(0x0000)
    expect(status(hv, 0x0f, enableVp(1)).status).toBe(0x0086)
    expect(status(hv, 0x0f, enableVp(4)).status).toBe(0x000e)
    expect(status(hv, 0x0f, enableVp(2, 2)).status).toBe(0x0005)
    expect(status(hv, 0x0f, enableVp(2).subarray(0, 239)).status).toBe(0x0003)
    expect(hv.anomalies).toEqual([])
    const context = new Uint8Array(224)
    context[8] = 0x10 // RSP
    expect(status(hv, 0x0f, enableVp(3, 1, context)).status).toBe(0x0000)
    expect(hv.anomalies).toEqual([
      {
        call: 7,
        kind: 'enable-vp-context-not-zero',
        detail: 'VP 3: context byte 8 is not 0; on TDX the host gets a zeroed context',
      },
    ])
    expect([1, 2, 3].map((vp) => hv.vpVtl1Enabled(vp))).toEqual([true, false, true])
  })

  it('EnableVpVtl input built by the core codec with a zero context is 240 bytes of what we expect', () => {
    const hv = new UntrustedHypervisor({ vps: 1 })
    status(hv, 0x0d, enablePartition(1))
    const input = encodeEnableVpVtl({
      partitionId: HV_PARTITION_ID_SELF,
      vpIndex: 0,
      targetVtl: 1,
      context: zeroInitialVpContextX64(),
    })
    expect(status(hv, 0x0f, input).status).toBe(0)
    expect(hv.calls[1]?.input).toBe(`ffffffffffffffff0000000001000000${'00'.repeat(224)}`)
  })

  it.each([0, 1, 3, 4, 5, 100, 219, 220, 223])(
    'EnableVpVtl with context byte %i set: the anomaly names it, the record keeps every byte',
    (byte) => {
      const hv = new UntrustedHypervisor({ vps: 2 })
      status(hv, 0x0d, enablePartition(1))
      const context = new Uint8Array(224)
      context[byte] = 0x5a
      const input = enableVp(1, 1, context)
      expect(status(hv, 0x0f, input).status).toBe(0)
      expect(hv.anomalies.map((a) => a.detail)).toEqual([
        `VP 1: context byte ${byte} is not 0; on TDX the host gets a zeroed context`,
      ])
      expect(hv.calls[1]?.input).toBe(Buffer.from(input).toString('hex'))
    }
  )

  it('ModifySparseGpaPageHostVisibility: reps completed, shared pages tracked, rep start honoured', () => {
    const hv = new UntrustedHypervisor({ vps: 1 })
    const share = encodeModifySparseGpaPageHostVisibility(
      { partitionId: HV_PARTITION_ID_SELF, hostVisibility: 3 },
      [0x10n, 0x11n, 0x40n]
    )
    expect(status(hv, 0xdb, share, 3)).toEqual({ status: 0, repsCompleted: 3, reservedBits: 0n })
    expect([0x10, 0x11, 0x12, 0x40].map((g) => hv.isShared(g))).toEqual([true, true, false, true])
    const unshare = encodeModifySparseGpaPageHostVisibility(
      { partitionId: HV_PARTITION_ID_SELF, hostVisibility: 0 },
      [0x10n, 0x11n]
    )
    expect(status(hv, 0xdb, unshare, 2, 1)).toEqual({
      status: 0,
      repsCompleted: 2,
      reservedBits: 0n,
    })
    expect([0x10, 0x11].map((g) => hv.isShared(g))).toEqual([true, false])
    const readOnly = encodeModifySparseGpaPageHostVisibility(
      { partitionId: HV_PARTITION_ID_SELF, hostVisibility: 1 },
      [0x20n]
    )
    expect(status(hv, 0xdb, readOnly, 1).status).toBe(0x0005)
    expect(status(hv, 0xdb, share, 2).status).toBe(0x0003) // rep count disagrees with the size
  })

  it.each([
    ['VtlCall', 0x11],
    ['ModifyVtlProtectionMask', 0x0c],
    ['an unassigned code', 0x7777],
  ])('%s → InvalidHypercallCode', (_name, code) => {
    const hv = new UntrustedHypervisor({ vps: 1 })
    expect(status(hv, code, new Uint8Array([1, 2])).status).toBe(0x0002)
    expect(hv.calls[0]?.input).toBe('0102')
  })

  it('keeps at most recordLimit calls; counts stay exact; toJSON/fromJSON round-trips', () => {
    const hv = new UntrustedHypervisor({ vps: 2, recordLimit: 2 })
    status(hv, 0x0d, enablePartition(1))
    status(hv, 0x0f, enableVp(0))
    status(hv, 0x0f, enableVp(1, 1, new Uint8Array(224).fill(1)))
    expect(hv.calls.map((c) => c.name)).toEqual(['EnableVpVtl', 'EnableVpVtl'])
    expect(hv.droppedCalls).toBe(1)
    expect(hv.callCounts()).toEqual({ EnablePartitionVtl: 1, EnableVpVtl: 2 })
    expect(hv.anomalies[0]?.call).toBe(2)
    const copy = UntrustedHypervisor.fromJSON(
      JSON.parse(JSON.stringify(hv.toJSON())) as UntrustedHypervisorJson,
      2
    )
    expect(copy.toJSON()).toEqual(hv.toJSON())
    // Behaves the same afterwards.
    expect(status(copy, 0x0f, enableVp(1)).status).toBe(0x0086)
    expect(status(copy, 0x0d, enablePartition(1)).status).toBe(0x0051)
  })
})
