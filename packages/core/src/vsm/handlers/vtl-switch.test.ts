import { describe, expect, it } from 'vitest'
import { HvStatus } from '../../hv/status.js'
import { VtlEntryReason } from '../../hv/vp-assist-page.js'
import { dispatchHypercall } from '../dispatch.js'
import { snapshotEngine } from '../snapshot.js'
import { bringUpBsp, control, enterVtl1, makeEngine, type Harness } from '../testing/harness.js'
import { enablePartitionVtl } from './enable-partition-vtl.js'
import { enableVpVtl } from './enable-vp-vtl.js'
import { HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { enablePartitionVtlFlags } from '../../hv/enable-partition-vtl.js'
import { validContext } from '../testing/harness.js'

const VTL_CALL = 0x11
const VTL_RETURN = 0x12

interface Row {
  name: string
  setup: (h: Harness) => void
  control: bigint
  input: bigint
}

const active = (h: Harness): void => {
  bringUpBsp(h)
}
const inVtl1 = (h: Harness): void => {
  bringUpBsp(h)
  enterVtl1(h)
}

// vsm-on-tdx.md §7.2: every refusal is #UD in the calling VTL, RIP unchanged, no status.
const refusals: Row[] = [
  { name: 'VtlCall from VTL1', setup: inVtl1, control: 0x11n, input: 0n },
  { name: 'VtlCall with VSM never enabled', setup: () => undefined, control: 0x11n, input: 0n },
  {
    name: 'VtlCall when EnableVpVtl succeeded but the VP has not handled its wake (EnableCalled)',
    setup: (h) => {
      const flags = enablePartitionVtlFlags()
      expect(
        enablePartitionVtl(h.engine, { partitionId: HV_PARTITION_ID_SELF, targetVtl: 1, flags })
      ).toBe(0)
      const input = {
        partitionId: HV_PARTITION_ID_SELF,
        vpIndex: 0,
        targetVtl: 1,
        context: validContext(),
      }
      expect(enableVpVtl(h.engine, 0, input)).toBe(0)
    },
    control: 0x11n,
    input: 0n,
  },
  {
    name: 'VtlCall with the fast bit',
    setup: active,
    control: control(VTL_CALL, { fast: true }),
    input: 0n,
  },
  {
    name: 'VtlCall with a rep count',
    setup: active,
    control: control(VTL_CALL, { repCount: 1 }),
    input: 0n,
  },
  {
    name: 'VtlCall with a rep start',
    setup: active,
    control: control(VTL_CALL, { repStart: 1 }),
    input: 0n,
  },
  {
    name: 'VtlCall with a variable header',
    setup: active,
    control: control(VTL_CALL, { variableHeaderSize: 1 }),
    input: 0n,
  },
  {
    name: 'VtlCall with the nested bit',
    setup: active,
    control: control(VTL_CALL, { nested: true }),
    input: 0n,
  },
  {
    name: 'VtlCall with a reserved control bit',
    setup: active,
    control: 0x11n | (1n << 60n),
    input: 0n,
  },
  { name: 'VtlCall with input 1', setup: active, control: 0x11n, input: 1n },
  { name: 'VtlReturn from VTL0', setup: active, control: 0x12n, input: 0n },
  {
    name: 'VtlReturn with input 2 (hv1 test_vtl_return)',
    setup: inVtl1,
    control: 0x12n,
    input: 2n,
  },
  { name: 'VtlReturn with input bit 63', setup: inVtl1, control: 0x12n, input: 1n << 63n },
  { name: 'VtlReturn with input 3 (fast bit and bit 1)', setup: inVtl1, control: 0x12n, input: 3n },
  { name: 'VtlReturn with control bit 16 alone', setup: inVtl1, control: 0x1_0012n, input: 0n },
  {
    name: 'VtlReturn with the fast control bit',
    setup: inVtl1,
    control: control(VTL_RETURN, { fast: true }),
    input: 0n,
  },
  {
    name: 'VtlReturn with a rep count',
    setup: inVtl1,
    control: control(VTL_RETURN, { repCount: 2 }),
    input: 0n,
  },
]

describe('VtlCall / VtlReturn refusals (§7.2) → #UD', () => {
  it.each(refusals)('$name', (row) => {
    const h = makeEngine(2)
    row.setup(h)
    const vtl = h.engine.vp(0).exitVtl
    const before = snapshotEngine(h.engine)
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: row.control,
      vtlInput: row.input,
    })
    expect(outcome).toEqual({ kind: 'exception', vector: 6, advanceRip: false })
    expect(h.vpPort.exceptions).toEqual([{ vp: 0, vtl, exception: { vector: 6 } }])
    expect(snapshotEngine(h.engine)).toEqual(before)
  })
})

describe('VtlCall / VtlReturn effects (§7.2)', () => {
  it('VtlCall advances VTL0 RIP by 3 and enters VTL1 with entry reason VTL_CALL', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    const vp = h.engine.vp(0)
    vp.vtls[0].registers.rip = 0x40_0000n
    vp.shared.rax = 0n
    vp.shared.rcx = 0x11n
    const vtl1Rip = vp.vtls[1].registers.rip
    const outcome = dispatchHypercall(h.engine, { vp: 0, control: 0x11n })
    expect(outcome).toEqual({ kind: 'vtl-switch', vtl: 1, advanceRip: true })
    expect(vp.vtls[0].registers.rip).toBe(0x40_0003n)
    expect(vp.vtls[1].registers.rip).toBe(vtl1Rip)
    expect(vp.exitVtl).toBe(1)
    expect(vp.vtls[1].control.entryReason).toBe(VtlEntryReason.VtlCall)
    // No result register is written.
    expect(vp.shared.rax).toBe(0n)
    expect(vp.shared.rcx).toBe(0x11n)
  })

  it('VtlCall input comes from RAX by default: a non-zero RAX is #UD', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    h.engine.vp(0).shared.rax = 5n
    expect(dispatchHypercall(h.engine, { vp: 0, control: 0x11n }).kind).toBe('exception')
  })

  it('fast VtlReturn advances VTL1 RIP, returns to VTL0 and leaves RAX/RCX alone', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    enterVtl1(h)
    const vp = h.engine.vp(0)
    vp.vtls[1].control.registers = [0xaaaan, 0xbbbbn]
    vp.vtls[1].vpAssistPage = 0x5000n | 1n
    vp.shared.rax = 1n
    vp.shared.rcx = 0x12n
    const rip = vp.vtls[1].registers.rip
    expect(dispatchHypercall(h.engine, { vp: 0, control: 0x12n })).toEqual({
      kind: 'vtl-switch',
      vtl: 0,
      advanceRip: true,
    })
    expect(vp.vtls[1].registers.rip).toBe(rip + 3n)
    expect(vp.exitVtl).toBe(0)
    expect(vp.shared.rax).toBe(1n)
    expect(vp.shared.rcx).toBe(0x12n)
  })

  it.each([
    { name: 'VtlCall', vtl: 0 as const, control: 0x11n, input: 0n, setup: active },
    { name: 'VtlReturn', vtl: 1 as const, control: 0x12n, input: 1n, setup: inVtl1 },
  ])('$name advances a RIP at the top of the address space past 2^64 to 1', (row) => {
    const h = makeEngine(1)
    row.setup(h)
    const regs = h.engine.vp(0).vtls[row.vtl].registers
    regs.rip = 0xffff_ffff_ffff_fffen
    const outcome = dispatchHypercall(h.engine, {
      vp: 0,
      control: row.control,
      vtlInput: row.input,
    })
    expect(outcome.kind).toBe('vtl-switch')
    expect(regs.rip).toBe(1n)
  })

  it('non-fast VtlReturn copies registers[0..2] of VTL1 assist page into the shared RAX/RCX', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    enterVtl1(h)
    const vp = h.engine.vp(0)
    vp.vtls[1].vpAssistPage = 0x5000n | 1n
    vp.vtls[1].control.registers = [0xaaaan, 0xbbbbn]
    dispatchHypercall(h.engine, { vp: 0, control: 0x12n, vtlInput: 0n })
    expect(vp.shared.rax).toBe(0xaaaan)
    expect(vp.shared.rcx).toBe(0xbbbbn)
  })

  it('non-fast VtlReturn without a VTL1 assist page copies zeros (§13.9)', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    enterVtl1(h)
    const vp = h.engine.vp(0)
    vp.vtls[1].control.registers = [0xaaaan, 0xbbbbn]
    vp.shared.rax = 0n
    vp.shared.rcx = 0x1234n
    dispatchHypercall(h.engine, { vp: 0, control: 0x12n })
    expect(vp.shared.rax).toBe(0n)
    expect(vp.shared.rcx).toBe(0n)
  })

  it('VtlReturn releases the TLB lock VTL1 holds and auto-resets VINA', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    enterVtl1(h)
    const vp = h.engine.vp(0)
    h.engine.shared.setTlbLocked(0, 0, true)
    vp.vtls[1].synic.vina = 0x330n // vector 0x30, enabled, auto_reset
    vp.vtls[1].control.vinaStatus = 1
    dispatchHypercall(h.engine, { vp: 0, control: 0x12n, vtlInput: 1n })
    expect(h.engine.shared.tlbLocked(0, 0)).toBe(false)
    expect(vp.vtls[1].control.vinaStatus).toBe(0)
  })

  it('VINA without auto_reset stays asserted across VtlReturn', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    enterVtl1(h)
    const vp = h.engine.vp(0)
    vp.vtls[1].synic.vina = 0x130n
    vp.vtls[1].control.vinaStatus = 1
    dispatchHypercall(h.engine, { vp: 0, control: 0x12n, vtlInput: 1n })
    expect(vp.vtls[1].control.vinaStatus).toBe(1)
  })

  it('a VMCALL at CPL 3 is #GP before anything else, even for VtlCall', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    const before = snapshotEngine(h.engine)
    expect(dispatchHypercall(h.engine, { vp: 0, control: 0x11n, cpl: 3 })).toEqual({
      kind: 'exception',
      vector: 13,
      advanceRip: false,
    })
    expect(h.vpPort.exceptions).toEqual([
      { vp: 0, vtl: 0, exception: { vector: 13, errorCode: 0 } },
    ])
    expect(snapshotEngine(h.engine)).toEqual(before)
    expect(dispatchHypercall(h.engine, { vp: 0, control: 0x9999n, cpl: 1 }).kind).toBe('exception')
  })

  it('a round trip leaves VTL0 one VMCALL further and VTL1 one VMCALL further', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    const vp = h.engine.vp(0)
    const [rip0, rip1] = [vp.vtls[0].registers.rip, vp.vtls[1].registers.rip]
    for (let i = 0; i < 5; i++) {
      vp.shared.rax = 0n
      expect(dispatchHypercall(h.engine, { vp: 0, control: 0x11n }).kind).toBe('vtl-switch')
      expect(dispatchHypercall(h.engine, { vp: 0, control: 0x12n, vtlInput: 1n }).kind).toBe(
        'vtl-switch'
      )
    }
    expect(vp.vtls[0].registers.rip).toBe(rip0 + 15n)
    expect(vp.vtls[1].registers.rip).toBe(rip1 + 15n)
    expect(h.vpPort.exceptions).toEqual([])
    expect(HvStatus.Success).toBe(0)
  })
})
