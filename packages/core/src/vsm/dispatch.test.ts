import { describe, expect, it } from 'vitest'
import { HvStatus } from '../hv/status.js'
import { bytes, toHex } from '../hv/testing/arbitraries.js'
import { dispatchHypercall, type HypercallRequest } from './dispatch.js'
import { PendingOperation } from './shared-state.js'
import { snapshotEngine } from './snapshot.js'
import { bringUpBsp, control, makeEngine, type Harness } from './testing/harness.js'

/** EnableVpVtlX64 for VP SELF, VTL1, with the harness's valid context at RIP 0x10000 (240 bytes). */
const ENABLE_VP_VTL_PAGE = bytes(`
  ffffffffffffffff feffffff 01 000000
  0000010000000000 0080000000000000 0200000000000000
  0000000000000000 ffffffff 0800 9ba0
  0000000000000000 ffffffff 1000 93c0
  0000000000000000 ffffffff 1000 93c0
  0000000000000000 ffffffff 1000 93c0
  0000000000000000 ffffffff 1000 93c0
  0000000000000000 ffffffff 1000 93c0
  0000000000000000 67000000 1800 8b00
  0000000000000000 00000000 0000 8200
  000000000000 ff0f 0020000000000000
  000000000000 1f00 0030000000000000
  010d000000000000 3100008000000000 0040000000000000 2000000000000000 0604070006040700`)

/** EnablePartitionVtl(SELF, VTL1, flags 0). */
const ENABLE_PARTITION_PAGE = bytes('ffffffffffffffff 01 00 0000 00000000')

function enabled(h: Harness): void {
  const outcome = dispatchHypercall(h.engine, {
    vp: 0,
    control: 0x0dn,
    inputGpa: 0x1000n,
    input: ENABLE_PARTITION_PAGE,
  })
  expect(outcome).toMatchObject({ kind: 'completed', status: 0 })
}

interface Row {
  name: string
  setup?: (h: Harness) => void
  request: HypercallRequest
  status: HvStatus
}

const mem = (
  code: number,
  fields: Parameters<typeof control>[1],
  input: Uint8Array,
  gpa = 0x1000n
) => ({
  vp: 0,
  control: control(code, fields),
  inputGpa: gpa,
  outputGpa: 0x2000n,
  input,
})

// vsm-on-tdx.md §1.5: the generic checks, before any handler runs.
const rows: Row[] = [
  {
    name: 'unknown code 0x0001 → InvalidHypercallCode',
    request: mem(0x0001, {}, new Uint8Array(0)),
    status: 0x02,
  },
  {
    name: 'PostMessage (not in the paravisor table) → InvalidHypercallCode',
    request: mem(0x005c, {}, new Uint8Array(0)),
    status: 0x02,
  },
  {
    name: 'simple call with a rep count → InvalidHypercallInput',
    request: mem(0x0d, { repCount: 1 }, ENABLE_PARTITION_PAGE),
    status: 0x03,
  },
  {
    name: 'simple call with a rep start → InvalidHypercallInput',
    request: mem(0x0d, { repStart: 1 }, ENABLE_PARTITION_PAGE),
    status: 0x03,
  },
  {
    name: 'fixed-size simple call with a variable header → InvalidHypercallInput',
    request: mem(0x0d, { variableHeaderSize: 1 }, new Uint8Array(24)),
    status: 0x03,
  },
  {
    name: 'rep call with rep count 0 → InvalidHypercallInput',
    request: mem(0x0c, {}, new Uint8Array(16)),
    status: 0x03,
  },
  {
    name: 'rep call with rep start = rep count → InvalidHypercallInput',
    request: mem(0x0c, { repCount: 2, repStart: 2 }, new Uint8Array(32)),
    status: 0x03,
  },
  {
    name: 'rep call with a variable header → InvalidHypercallInput',
    request: mem(0x0c, { repCount: 1, variableHeaderSize: 1 }, new Uint8Array(32)),
    status: 0x03,
  },
  {
    name: 'fast EnableVpVtl needs 15 register pairs (> 7 on TDX) → InvalidHypercallInput',
    request: { vp: 0, control: control(0x0f, { fast: true }), fastRegisters: [] },
    status: 0x03,
  },
  {
    name: 'fast GetVpRegisters has output (no extended fast output) → InvalidHypercallInput',
    request: { vp: 0, control: control(0x50, { fast: true, repCount: 1 }), fastRegisters: [] },
    status: 0x03,
  },
  {
    name: 'input crossing a page boundary → InvalidHypercallInput',
    request: mem(0x0d, {}, ENABLE_PARTITION_PAGE, 0x1ff8n),
    status: 0x03,
  },
  {
    name: 'input crossing a page and unaligned: the straddle wins → InvalidHypercallInput',
    request: mem(0x0d, {}, ENABLE_PARTITION_PAGE, 0x1ffcn),
    status: 0x03,
  },
  {
    name: 'input GPA not 8-byte aligned → InvalidAlignment',
    request: mem(0x0d, {}, ENABLE_PARTITION_PAGE, 0x1004n),
    status: 0x04,
  },
  {
    name: 'output crossing a page boundary → InvalidHypercallInput',
    request: {
      ...mem(0x50, { repCount: 1 }, bytes('ffffffffffffffff feffffff 00 000000 04000d00')),
      outputGpa: 0x2ff8n,
    },
    status: 0x03,
  },
  {
    name: 'output GPA not 8-byte aligned → InvalidAlignment',
    request: {
      ...mem(0x50, { repCount: 1 }, bytes('ffffffffffffffff feffffff 00 000000 04000d00')),
      outputGpa: 0x2002n,
    },
    status: 0x04,
  },
  {
    name: 'guest memory shorter than the input (read failure) → InvalidHypercallInput',
    request: mem(0x0d, {}, ENABLE_PARTITION_PAGE.subarray(0, 8)),
    status: 0x03,
  },
]

describe('generic dispatcher checks (§1.5)', () => {
  it.each(rows)('$name', (row) => {
    const h = makeEngine(2)
    row.setup?.(h)
    const vp = h.engine.vp(0)
    const rip = vp.vtls[0].registers.rip
    const before = snapshotEngine(h.engine)
    const outcome = dispatchHypercall(h.engine, row.request)
    expect(outcome).toMatchObject({
      kind: 'completed',
      status: row.status,
      repsCompleted: 0,
      advanceRip: true,
    })
    expect(outcome.kind === 'completed' && outcome.result).toBe(BigInt(row.status))
    // The guest sees the result in RAX and RIP past the VMCALL; nothing else changed.
    expect(vp.shared.rax).toBe(BigInt(row.status))
    expect(vp.vtls[0].registers.rip).toBe(rip + 3n)
    vp.shared.rax = 0n
    vp.vtls[0].registers.rip = rip
    expect(snapshotEngine(h.engine)).toEqual(before)
    expect(h.hv.calls).toEqual([])
  })
})

describe('dispatch from raw bytes', () => {
  it('EnablePartitionVtl then EnableVpVtl from hand-built input pages', () => {
    const h = makeEngine(2)
    enabled(h)
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: 0x0fn,
      inputGpa: 0x3000n,
      input: ENABLE_VP_VTL_PAGE,
    })
    expect(outcome).toEqual({
      kind: 'completed',
      result: 0n,
      status: 0,
      repsCompleted: 0,
      output: undefined,
      outputOffset: 0,
      advanceRip: true,
    })
    expect(h.engine.shared.pendingOperation(0, 1)).toBe(PendingOperation.EnableVpVtl)
    expect(h.hv.calls.map((c) => c.control)).toEqual([0x0dn, 0x0fn])
  })

  it('a fast EnablePartitionVtl takes its 16 bytes from RDX:R8', () => {
    const h = makeEngine(1)
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x0d, { fast: true }),
      fastRegisters: [0xffff_ffff_ffff_ffffn, 0x1n],
    })
    expect(outcome).toMatchObject({ kind: 'completed', status: 0 })
    expect(toHex(h.hv.calls[0]?.input ?? new Uint8Array())).toBe('ffffffffffffffff0100000000000000')
  })

  // §13.17: 7 register pairs in 64-bit mode, 1 in 32-bit mode.
  it.each([
    {
      name: 'SendSyntheticClusterIpi (16 B, 1 pair), 32-bit',
      code: 0x0b,
      longMode: false,
      status: 0,
    },
    {
      name: 'FlushVirtualAddressSpace (24 B, 2 pairs), 32-bit',
      code: 0x02,
      longMode: false,
      status: 0x03,
    },
    {
      name: 'FlushVirtualAddressSpace (24 B, 2 pairs), 64-bit',
      code: 0x02,
      longMode: true,
      status: 0,
    },
  ])('§13.17: fast $name → $status', ({ code, longMode, status }) => {
    const h = makeEngine(2)
    bringUpBsp(h)
    // IPI: vector 0x40 to VTL0 of VP 1; flush: all processors.
    const fastRegisters = code === 0x0b ? [0x40n, 0x2n] : [0n, 0x1n, 0n, 0n]
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(code, { fast: true }),
      fastRegisters,
      longMode,
    })
    expect(outcome).toMatchObject({ kind: 'completed', status })
  })

  it('a raw target_vtl byte that does not parse: AccessDenied for the partition call', () => {
    const h = makeEngine(1)
    const page = bytes('ffffffffffffffff 07 00 0000 00000000')
    expect(dispatchHypercall(h.engine, { vp: 0, control: 0x0dn, input: page })).toMatchObject({
      status: 0x06,
    })
  })

  it('a flush from VTL0 while VP 1 holds a TLB lock completes and records the wait (§13.15)', () => {
    const h = makeEngine(2)
    bringUpBsp(h)
    h.engine.shared.setTlbLocked(1, 0, true)
    const vp = h.engine.vp(0)
    const rip = vp.vtls[0].registers.rip
    const request = {
      vp: 0,
      control: control(0x02, { fast: true }),
      fastRegisters: [0n, 0x1n, 0n, 0n],
    }
    expect(dispatchHypercall(h.engine, request)).toMatchObject({ kind: 'completed', status: 0 })
    expect(vp.vtls[0].registers.rip).toBe(rip + 3n)
    expect(vp.tlbWait).toEqual([[1], undefined])
  })

  it('Timeout in a rep call rewrites the control word with rep start = the reps done', () => {
    // The flushes and the TLB-lock registers no longer wait this way (§13.15, §13.17); the generic
    // rule stays for a port that answers Timeout part-way (hv1_hypercall's rep continuation).
    const h = makeEngine(1)
    h.protection.timeoutAt = 0x30n
    // ModifySparseGpaPageHostVisibility to shared, resumed at element 1 of 4.
    const page = bytes(`
      ffffffffffffffff 03000000 00000000
      1000000000000000 2000000000000000 3000000000000000 4000000000000000`)
    const request = {
      vp: 0,
      control: control(0xdb, { repCount: 4, repStart: 1 }),
      inputGpa: 0x4000n,
      input: page,
    }
    const outcome = dispatchHypercall(h.engine, request)
    const expected = control(0xdb, { repCount: 4, repStart: 2 })
    expect(outcome).toEqual({ kind: 'retry', control: expected, advanceRip: false })
    expect(h.engine.vp(0).shared.rcx).toBe(expected)
    expect(h.protection.calls).toEqual(['visibility vtl0 shared [32,48,64]'])
    h.protection.timeoutAt = undefined
    expect(dispatchHypercall(h.engine, { ...request, control: expected })).toMatchObject({
      kind: 'completed',
      status: 0,
      repsCompleted: 4,
    })
  })

  it('QuerySparseGpaPageHostVisibility writes one byte per GPN', () => {
    const h = makeEngine(1)
    h.protection.shared.add(0x11n)
    const page = bytes('ffffffffffffffff 1000000000000000 1100000000000000')
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: control(0x11c, { repCount: 2 }),
      inputGpa: 0x1000n,
      outputGpa: 0x2000n,
      input: page,
    })
    expect(outcome).toMatchObject({ kind: 'completed', status: 0, repsCompleted: 2 })
    expect(outcome.kind === 'completed' && toHex(outcome.output ?? new Uint8Array())).toBe('0003')
  })
})
