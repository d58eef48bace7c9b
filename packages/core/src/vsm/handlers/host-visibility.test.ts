import { describe, expect, it } from 'vitest'
import { HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { HvStatus } from '../../hv/status.js'
import { bytes, toHex } from '../../hv/testing/arbitraries.js'
import { dispatchHypercall } from '../dispatch.js'
import { snapshotEngine } from '../snapshot.js'
import { control, makeEngine } from '../testing/harness.js'
import {
  modifySparseGpaPageHostVisibility,
  querySparseGpaPageHostVisibility,
} from './host-visibility.js'

const header = (hostVisibility: number, partitionId = HV_PARTITION_ID_SELF) => ({
  partitionId,
  hostVisibility,
})

describe('ModifySparseGpaPageHostVisibility (§5.6, §13.9)', () => {
  const refusals = [
    { name: 'partition not SELF → AccessDenied', header: header(3, 0n), status: 0x06 },
    { name: 'read-only visibility (1) → InvalidParameter', header: header(1), status: 0x05 },
    { name: 'visibility 2 → InvalidParameter', header: header(2), status: 0x05 },
  ]
  it.each(refusals)('$name', (row) => {
    const h = makeEngine(1)
    const before = snapshotEngine(h.engine)
    expect(modifySparseGpaPageHostVisibility(h.engine, 0, row.header, [1n])).toEqual({
      status: row.status,
      processed: 0,
    })
    expect(snapshotEngine(h.engine)).toEqual(before)
    expect(h.hv.calls).toEqual([])
    expect(h.protection.calls).toEqual([])
  })

  it('sharing: memory first, then VTL2 tells the hypervisor the pages it took', () => {
    const h = makeEngine(1)
    expect(modifySparseGpaPageHostVisibility(h.engine, 0, header(3), [0x10n, 0x11n])).toEqual({
      status: 0,
      processed: 2,
    })
    expect(h.protection.calls).toEqual(['visibility vtl0 shared [16,17]'])
    expect(h.hv.calls).toHaveLength(1)
    expect(h.hv.calls[0]?.control).toBe(0x2_0000_00dbn)
    expect(toHex(h.hv.calls[0]?.input ?? new Uint8Array())).toBe(
      'ffffffffffffffff' + '03000000' + '00000000' + '1000000000000000' + '1100000000000000'
    )
  })

  it('a page VTL1 made non-R/W stops VTL0 sharing there: AccessDenied with that index', () => {
    const h = makeEngine(1)
    h.protection.unshareable.add(0x12n)
    expect(
      modifySparseGpaPageHostVisibility(h.engine, 0, header(3), [0x10n, 0x11n, 0x12n, 0x13n])
    ).toEqual({
      status: HvStatus.AccessDenied,
      processed: 2,
    })
    expect(h.hv.calls[0]?.control).toBe(0x2_0000_00dbn)
  })

  it('a host failure while sharing is a typed panic, as in OpenHCL (no safe rollback)', () => {
    const h = makeEngine(1)
    h.hv.answer = () => HvStatus.InsufficientMemory
    expect(() => modifySparseGpaPageHostVisibility(h.engine, 0, header(3), [0x10n, 0x11n])).toThrow(
      expect.objectContaining({ code: 'E_HV_STATUS' })
    )
  })

  it('making pages private: the hypervisor first, then memory', () => {
    const h = makeEngine(1)
    h.protection.shared.add(0x10n)
    expect(modifySparseGpaPageHostVisibility(h.engine, 0, header(0), [0x10n])).toEqual({
      status: 0,
      processed: 1,
    })
    expect(toHex(h.hv.calls[0]?.input.subarray(8, 12) ?? new Uint8Array())).toBe('00000000')
    expect(h.protection.shared.size).toBe(0)
  })
})

describe('QuerySparseGpaPageHostVisibility', () => {
  it('partition not SELF → AccessDenied', () => {
    const h = makeEngine(1)
    expect(querySparseGpaPageHostVisibility(h.engine, { partitionId: 1n }, [1n]).status).toBe(0x06)
  })

  it('answers 3 for shared pages and 0 for private ones', () => {
    const h = makeEngine(1)
    h.protection.shared.add(2n)
    const result = querySparseGpaPageHostVisibility(
      h.engine,
      { partitionId: HV_PARTITION_ID_SELF },
      [1n, 2n]
    )
    expect(result.status).toBe(0)
    expect(Array.from(result.output ?? [])).toEqual([0, 3])
  })

  // §13.17: the index of the first non-RAM GPN, plus the rep start, with OperationDenied.
  it.each([
    { name: 'the 3rd of 4', repStart: 0, reps: 2 },
    { name: 'rep start 1, the 3rd of 4', repStart: 1, reps: 2 },
  ])('§13.17: a non-RAM GPN ($name) → OperationDenied, reps completed $reps', (row) => {
    const h = makeEngine(1)
    h.protection.notRam.add(0x12n)
    const page = bytes(
      'ffffffffffffffff 1000000000000000 1100000000000000 1200000000000000 1300000000000000'
    )
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x11c, { repCount: 4, repStart: row.repStart }),
      inputGpa: 0x1000n,
      outputGpa: 0x2000n,
      input: page,
    })
    expect(outcome).toMatchObject({ kind: 'completed', status: 0x08, repsCompleted: row.reps })
  })
})
