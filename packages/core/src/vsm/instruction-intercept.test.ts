import { describe, expect, it } from 'vitest'
import { HvRegisterName as R } from '../hv/register-name.js'
import { HvStatus } from '../hv/status.js'
import { HvSyntheticMsr as Hv } from '../hv/synthetic-msr.js'
import { HvMapGpaFlags } from '../hv/map-gpa-flags.js'
import { Msr } from '../x86/msr.js'
import { installIntercept } from './handlers/install-intercept.js'
import { setVpRegister } from './handlers/register-access.js'
import { vtlReturn } from './handlers/vtl-switch.js'
import {
  CrInterceptBit,
  executeIo,
  executeMovToCr,
  executeRdmsr,
  executeWrmsr,
} from './instruction-intercept.js'
import type { InstructionOutcome } from './instruction-outcome.js'
import { snapshotEngine } from './snapshot.js'
import {
  bringUpBsp,
  enterVtl1,
  makeEngine,
  overlayTestbed,
  type Harness,
} from './testing/harness.js'

const CR0 = 0x8001_0031n // PE|ET|NE|WP|PG
const CR4 = 0x10_0220n // PAE|OSFXSR|SMEP
const WP = 1n << 16n
const SMEP = 1n << 20n
const RIP = 0x10_1000n

interface Setup {
  /** VTL1 register writes (on VTL1 itself) before it returns to VTL0. */
  vtl1?: [number, bigint][]
  /** I/O ports VTL1 installs: [port, access mask]. */
  ports?: [number, number][]
  /** SINT0 of VTL1 (default unmasked, vector 0x30). */
  sint0?: bigint
  /** Leave VTL1 not enabled at all. */
  noVtl1?: boolean
}

/** VP 0 in VTL0, long mode, after VTL1 configured its intercepts. */
function vtl0(setup: Setup = {}): Harness {
  const h = makeEngine(1)
  const vp = h.engine.vp(0)
  if (setup.noVtl1 !== true) {
    bringUpBsp(h)
    enterVtl1(h)
    for (const [name, value] of setup.vtl1 ?? []) {
      expect(setVpRegister(h.engine, 0, 1, 1, name, value)).toBe(0)
    }
    for (const [port, mask] of setup.ports ?? []) {
      expect(
        installIntercept(h.engine, 0, {
          partitionId: 0xffff_ffff_ffff_ffffn,
          accessTypeMask: mask,
          interceptType: 0,
          parameters: BigInt(port),
        })
      ).toBe(0)
    }
    vp.vtls[1].synic.sint[0] = setup.sint0 ?? 0x30n
    expect(vtlReturn(h.engine, 0, 0x12n, 1n)).toBe(true)
  }
  const regs = vp.vtls[0].registers
  Object.assign(regs, { cr0: CR0, cr4: CR4, efer: 0xd01n, rip: RIP, cr3: 0x1000n })
  regs.cs = { base: 0n, limit: 0xffff_ffff, selector: 8, attributes: 0xa09b }
  return h
}

function messageType(outcome: InstructionOutcome): number {
  if (outcome.kind !== 'intercepted') return 0
  return new DataView(outcome.message.buffer).getUint32(0, true)
}

const HVCI = [
  [R.CrInterceptControl, CrInterceptBit.Cr0Write | CrInterceptBit.Cr4Write],
  [R.CrInterceptCr0Mask, WP],
  [R.CrInterceptCr4Mask, SMEP],
] as [number, bigint][]

// vsm-on-tdx.md §13.16: CR0/CR4 writes of VTL0 against VTL1's CrInterceptControl and masks.
describe('MOV to CR0/CR4 from VTL0 (§13.16)', () => {
  const rows = [
    {
      name: 'CR0.WP cleared, cr0_write + WP mask → intercepted',
      setup: { vtl1: HVCI },
      cr: 0 as const,
      value: CR0 & ~WP,
      intercepted: HvStatus.Success,
    },
    {
      name: 'CR0.MP set (outside the mask) → performed',
      setup: { vtl1: HVCI },
      cr: 0 as const,
      value: CR0 | 2n,
      performed: CR0 | 2n,
    },
    {
      name: 'CR0 rewritten unchanged → performed',
      setup: { vtl1: HVCI },
      cr: 0 as const,
      value: CR0,
      performed: CR0,
    },
    {
      name: 'CR4.SMEP cleared, cr4_write + SMEP mask → intercepted',
      setup: { vtl1: HVCI },
      cr: 4 as const,
      value: CR4 & ~SMEP,
      intercepted: HvStatus.Success,
    },
    {
      name: 'CR4.PGE set (outside the mask) → performed',
      setup: { vtl1: HVCI },
      cr: 4 as const,
      value: CR4 | 0x80n,
      performed: CR4 | 0x80n,
    },
    {
      name: 'WP mask without cr0_write → performed',
      setup: { vtl1: [[R.CrInterceptCr0Mask, WP]] as [number, bigint][] },
      cr: 0 as const,
      value: CR0 & ~WP,
      performed: CR0 & ~WP,
    },
    {
      name: 'SINT0 masked → InvalidSynicState, not performed',
      setup: { vtl1: HVCI, sint0: 0x1_0030n },
      cr: 0 as const,
      value: CR0 & ~WP,
      intercepted: HvStatus.InvalidSynicState,
    },
    {
      name: 'no VTL1 → performed',
      setup: { noVtl1: true },
      cr: 0 as const,
      value: CR0 & ~WP,
      performed: CR0 & ~WP,
    },
    {
      name: 'PG without PE (not masked) → #GP',
      setup: { vtl1: HVCI },
      cr: 0 as const,
      value: 0x8001_0030n,
      gp: true,
    },
    {
      name: 'CR4.VMXE → #GP',
      setup: { vtl1: HVCI },
      cr: 4 as const,
      value: CR4 | 0x2000n,
      gp: true,
    },
  ]
  it.each(rows)('$name', (row) => {
    const h = vtl0(row.setup)
    const vp = h.engine.vp(0)
    const outcome = executeMovToCr(h.engine, 0, row.cr, row.value)
    const regs = vp.vtls[0].registers
    const current = row.cr === 0 ? regs.cr0 : regs.cr4
    if (row.intercepted !== undefined) {
      expect(outcome).toMatchObject({ kind: 'intercepted', status: row.intercepted })
      expect(messageType(outcome)).toBe(0x8001_0006)
      expect(current).toBe(row.cr === 0 ? CR0 : CR4)
      expect(regs.rip).toBe(RIP)
      expect(vp.exitVtl).toBe(row.intercepted === HvStatus.Success ? 1 : 0)
      expect(vp.vtls[1].synic.slotBusy[0]).toBe(row.intercepted === HvStatus.Success)
    } else if (row.gp === true) {
      expect(outcome).toEqual({ kind: 'exception', vector: 13 })
      expect(h.vpPort.exceptions.at(-1)).toEqual({
        vp: 0,
        vtl: 0,
        exception: { vector: 13, errorCode: 0 },
      })
      expect(regs.rip).toBe(RIP)
    } else {
      expect(outcome).toEqual({ kind: 'performed' })
      expect(current).toBe(row.performed)
      expect(regs.rip).toBe(RIP + 3n)
      expect(vp.exitVtl).toBe(0)
    }
  })

  it('a busy SIMP slot → ObjectInUse, nothing changed', () => {
    const h = vtl0({ vtl1: HVCI })
    h.engine.vp(0).vtls[1].synic.slotBusy[0] = true
    const before = snapshotEngine(h.engine)
    expect(executeMovToCr(h.engine, 0, 0, CR0 & ~WP)).toMatchObject({
      status: HvStatus.ObjectInUse,
    })
    expect(snapshotEngine(h.engine)).toEqual(before)
  })

  it('the register message carries VTL0 RIP, Cr0 and the value written', () => {
    const h = vtl0({ vtl1: HVCI })
    const outcome = executeMovToCr(h.engine, 0, 0, CR0 & ~WP)
    if (outcome.kind !== 'intercepted') throw new Error('not intercepted')
    const view = new DataView(outcome.message.buffer)
    expect(view.getBigUint64(16 + 24, true)).toBe(RIP)
    expect(view.getUint8(16 + 4)).toBe(3)
    expect(view.getUint32(16 + 44, true)).toBe(R.Cr0)
    expect(view.getBigUint64(16 + 48, true)).toBe(CR0 & ~WP)
    expect(h.engine.vp(0).vtls[1].synic.message[0]).toBe(outcome.message)
  })

  it('VTL1 writing its own CR0 is never intercepted', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    enterVtl1(h)
    for (const [name, value] of HVCI) setVpRegister(h.engine, 0, 1, 1, name, value)
    const cr0 = h.engine.vp(0).vtls[1].registers.cr0
    expect(executeMovToCr(h.engine, 0, 0, cr0 & ~WP)).toEqual({ kind: 'performed' })
    expect(h.engine.vp(0).vtls[1].registers.cr0).toBe(cr0 & ~WP)
  })
})

describe('RDMSR/WRMSR from VTL0 (§13.16)', () => {
  const LSTAR_BIT: [number, bigint][] = [[R.CrInterceptControl, CrInterceptBit.MsrLstarWrite]]
  it.each([
    {
      name: 'LSTAR with msr_lstar_write → intercepted',
      setup: { vtl1: LSTAR_BIT },
      msr: Msr.Lstar,
      value: 0xffff_f800_0000_1000n,
      intercepted: true,
    },
    {
      name: 'LSTAR without the bit → written',
      setup: {},
      msr: Msr.Lstar,
      value: 0xffff_f800_0000_1000n,
      written: 0xffff_f800_0000_1000n,
    },
    {
      name: 'STAR with only msr_lstar_write → written',
      setup: { vtl1: LSTAR_BIT },
      msr: Msr.Star,
      value: 0x0023_0010_0000_0000n,
      written: 0x0023_0010_0000_0000n,
    },
    {
      name: 'LSTAR not canonical → #GP',
      setup: {},
      msr: Msr.Lstar,
      value: 0x0100_0000_0000_0000n,
      gp: true,
    },
    {
      name: 'the intercept comes before the value check',
      setup: { vtl1: LSTAR_BIT },
      msr: Msr.Lstar,
      value: 0x0100_0000_0000_0000n,
      intercepted: true,
    },
    { name: 'EFER without NXE → #GP', setup: {}, msr: Msr.Efer, value: 0x501n, gp: true },
    {
      name: 'EFER.SCE cleared → written, LMA kept',
      setup: {},
      msr: Msr.Efer,
      value: 0x900n,
      written: 0xd00n,
    },
    {
      name: 'EFER.LME cleared while paging → #GP',
      setup: {},
      msr: Msr.Efer,
      value: 0x801n,
      gp: true,
    },
    { name: 'PAT type 2 → #GP', setup: {}, msr: Msr.Pat, value: 0x2n, gp: true },
    { name: 'SFMASK bit 32 → #GP', setup: {}, msr: Msr.Sfmask, value: 0x1_0000_0000n, gp: true },
    {
      name: 'IA32_MISC_ENABLE write is dropped',
      setup: {},
      msr: Msr.MiscEnable,
      value: 0n,
      written: 0x85_1809n,
    },
    {
      name: 'an unknown MSR write is ignored (reads 0)',
      setup: {},
      msr: 0x1234,
      value: 5n,
      written: 0n,
    },
  ])('$name', (row) => {
    const h = vtl0(row.setup)
    const vp = h.engine.vp(0)
    vp.shared.rax = row.value & 0xffff_ffffn
    vp.shared.rdx = row.value >> 32n
    const outcome = executeWrmsr(h.engine, 0, row.msr, row.value)
    if (row.intercepted === true) {
      expect(outcome).toMatchObject({ kind: 'intercepted', status: 0 })
      expect(messageType(outcome)).toBe(0x8001_0001)
      if (outcome.kind === 'intercepted') {
        const view = new DataView(outcome.message.buffer)
        expect(view.getUint32(16 + 40, true)).toBe(row.msr)
        expect(view.getBigUint64(16 + 48, true)).toBe(row.value >> 32n)
        expect(view.getBigUint64(16 + 56, true)).toBe(row.value & 0xffff_ffffn)
      }
      expect(vp.vtls[0].registers.rip).toBe(RIP)
      return
    }
    if (row.gp === true) {
      expect(outcome).toEqual({ kind: 'exception', vector: 13 })
      expect(vp.vtls[0].registers.rip).toBe(RIP)
      return
    }
    expect(outcome).toEqual({ kind: 'performed' })
    expect(vp.vtls[0].registers.rip).toBe(RIP + 2n)
    expect(executeRdmsr(h.engine, 0, row.msr)).toEqual({ kind: 'performed', value: row.written })
    expect(vp.shared.rax).toBe((row.written ?? 0n) & 0xffff_ffffn)
    expect(vp.shared.rdx).toBe((row.written ?? 0n) >> 32n)
  })
})

// `hv.rs`/`synic.rs` `msr_write`/`msr_read`, reached from a TDX MSR exit through `write_msr_cvm`:
// the overlay MSRs map guest RAM (§13.14), a refusal is #GP and changes nothing.
describe('RDMSR/WRMSR of the synthetic MSRs', () => {
  const RW = HvMapGpaFlags.Readable | HvMapGpaFlags.Writable
  const overlay = (gpn: number) => `overlay vtl0 ${gpn} check ${RW} perms undefined`
  it.each([
    {
      name: 'VP_ASSIST_PAGE maps the page',
      msr: Hv.VpAssistPage,
      value: 0x50001n,
      calls: [overlay(0x50)],
    },
    {
      name: 'VP_ASSIST_PAGE disabled: no mapping',
      msr: Hv.VpAssistPage,
      value: 0x50000n,
      calls: [],
    },
    {
      name: 'VP_ASSIST_PAGE reserved bit 1 → #GP',
      msr: Hv.VpAssistPage,
      value: 0x50003n,
      gp: true,
      calls: [],
    },
    {
      name: 'VP_ASSIST_PAGE on a refused page → #GP',
      msr: Hv.VpAssistPage,
      value: 0x66001n,
      gp: true,
      calls: [overlay(0x66)],
    },
    { name: 'SIMP maps the page', msr: Hv.Simp, value: 0x51001n, calls: [overlay(0x51)] },
    {
      name: 'SIMP on a refused page → #GP',
      msr: Hv.Simp,
      value: 0x66001n,
      gp: true,
      calls: [overlay(0x66)],
    },
    { name: 'SIEFP maps the page', msr: Hv.Siefp, value: 0x52001n, calls: [overlay(0x52)] },
    {
      name: 'SIEFP on a refused page → #GP',
      msr: Hv.Siefp,
      value: 0x66001n,
      gp: true,
      calls: [overlay(0x66)],
    },
    { name: 'SCONTROL', msr: Hv.Scontrol, value: 1n, calls: [] },
    { name: 'SINT0', msr: Hv.Sint0, value: 0x1_0030n, calls: [] },
    { name: 'SINT15', msr: Hv.Sint15, value: 0x40n, calls: [] },
    { name: 'EOM is accepted and reads 0', msr: Hv.Eom, value: 0n, read: 0n, calls: [] },
    { name: 'SVERSION is read-only → #GP', msr: Hv.Sversion, value: 1n, gp: true, calls: [] },
    { name: 'VP_INDEX is read-only → #GP', msr: Hv.VpIndex, value: 0n, gp: true, calls: [] },
    {
      name: 'TIME_REF_COUNT is read-only → #GP',
      msr: Hv.TimeRefCount,
      value: 0n,
      gp: true,
      calls: [],
    },
    {
      name: 'TSC_FREQUENCY is read-only → #GP',
      msr: Hv.TscFrequency,
      value: 0n,
      gp: true,
      calls: [],
    },
  ])('$name', (row) => {
    const { engine, vp, protection, page } = overlayTestbed()
    protection.refused.add(0x66n)
    vp.vtls[0].registers.rip = RIP
    const before = structuredClone(vp.vtls[0])
    const outcome = executeWrmsr(engine, 0, row.msr, row.value)
    expect(protection.calls).toEqual(row.calls)
    if (row.gp === true) {
      expect(outcome).toEqual({ kind: 'exception', vector: 13 })
      expect(vp.vtls[0]).toEqual(before)
      return
    }
    expect(outcome).toEqual({ kind: 'performed' })
    expect(vp.vtls[0].registers.rip).toBe(RIP + 2n)
    const read = row.read ?? row.value
    expect(executeRdmsr(engine, 0, row.msr)).toEqual({ kind: 'performed', value: read })
    expect(vp.shared.rax).toBe(read & 0xffff_ffffn)
    if (row.calls.length > 0) {
      // The overlay's (zeroed) contents now live in guest RAM, and the VTL sees its writes there.
      expect(page(Number(row.value >> 12n)).every((byte) => byte === 0)).toBe(true)
    }
  })

  it('RDMSR of SVERSION is 1 and of VP_INDEX the VP index', () => {
    const h = makeEngine(3)
    expect(executeRdmsr(h.engine, 2, Hv.Sversion)).toMatchObject({ value: 1n })
    expect(executeRdmsr(h.engine, 2, Hv.VpIndex)).toMatchObject({ value: 2n })
  })

  // Deviation (instruction-intercept.ts): no guest OS id, reference TSC page or synthetic timers.
  it.each([0x4000_0000, 0x4000_0021, 0x4000_00b0, 0x4000_00b7])(
    'MSR %#x is not modelled: the write is ignored and it reads 0',
    (msr) => {
      const { engine, vp, protection } = overlayTestbed()
      vp.vtls[0].registers.rip = RIP
      expect(executeWrmsr(engine, 0, msr, 0x5_0003n)).toEqual({ kind: 'performed' })
      expect(protection.calls).toEqual([])
      expect(executeRdmsr(engine, 0, msr)).toEqual({ kind: 'performed', value: 0n })
    }
  )

  it('each VTL has its own SynIC MSRs', () => {
    const h = vtl0()
    expect(executeWrmsr(h.engine, 0, Hv.Sint0, 0x31n)).toEqual({ kind: 'performed' })
    const vp = h.engine.vp(0)
    expect(vp.vtls[0].synic.sint[0]).toBe(0x31n)
    expect(vp.vtls[1].synic.sint[0]).toBe(0x30n)
  })
})

describe('IN/OUT from VTL0 (§13.16)', () => {
  it.each([
    {
      name: 'IN on a read-intercepted port → intercepted READ',
      ports: [[0x64, 1]],
      write: false,
      size: 1 as const,
      intercepted: 0,
    },
    {
      name: 'OUT on a read-only-intercepted port → performed',
      ports: [[0x64, 1]],
      write: true,
      size: 1 as const,
    },
    {
      name: 'OUT on a write-intercepted port → intercepted WRITE',
      ports: [[0x64, 2]],
      write: true,
      size: 4 as const,
      intercepted: 1,
    },
    {
      name: 'IN after the intercept was removed (mask 0) → all ones',
      ports: [
        [0x64, 3],
        [0x64, 0],
      ],
      write: false,
      size: 2 as const,
    },
    {
      name: 'IN on an unclaimed port, no VTL1 → all ones',
      ports: [],
      write: false,
      size: 4 as const,
      noVtl1: true,
    },
  ] as {
    name: string
    ports: [number, number][]
    write: boolean
    size: 1 | 2 | 4
    intercepted?: number
    noVtl1?: boolean
  }[])('$name', (row) => {
    const h = vtl0({ ports: row.ports, ...(row.noVtl1 === true ? { noVtl1: true } : {}) })
    const vp = h.engine.vp(0)
    vp.shared.rax = 0x1234_5678_9abc_def0n
    const outcome = executeIo(h.engine, 0, { port: 0x64, size: row.size, write: row.write })
    const length = BigInt(row.size === 2 ? 2 : 1)
    if (row.intercepted !== undefined) {
      expect(outcome).toMatchObject({ kind: 'intercepted', status: 0 })
      expect(messageType(outcome)).toBe(0x8001_0000)
      if (outcome.kind === 'intercepted') {
        const view = new DataView(outcome.message.buffer)
        expect(view.getUint8(16 + 5)).toBe(row.intercepted)
        expect(view.getUint16(16 + 40, true)).toBe(0x64)
        expect(view.getUint8(16 + 42)).toBe(row.size)
        expect(view.getBigUint64(16 + 48, true)).toBe(0x1234_5678_9abc_def0n)
      }
      expect(vp.vtls[0].registers.rip).toBe(RIP)
      return
    }
    expect(vp.vtls[0].registers.rip).toBe(RIP + length)
    if (row.write) {
      expect(outcome).toEqual({ kind: 'performed' })
      return
    }
    const ones = (1n << BigInt(row.size * 8)) - 1n
    expect(outcome).toEqual({ kind: 'performed', value: ones })
    // IN EAX zero-extends; IN AL/AX keep the rest of RAX.
    expect(vp.shared.rax).toBe(row.size === 4 ? ones : (0x1234_5678_9abc_def0n & ~ones) | ones)
  })
})
