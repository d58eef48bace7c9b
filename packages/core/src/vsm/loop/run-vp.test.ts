import { describe, expect, it } from 'vitest'
import { HvStatus } from '../../hv/status.js'
import type { GuestVtl } from '../../hv/vtl.js'
import { HypercallCode } from '../../hv/hypercall-code.js'
import { encodeGetVpRegisters } from '../../hv/vp-registers.js'
import { VmxExitBasic } from '../../tdx/vmx-exit.js'
import { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF } from '../../hv/index.js'
import { HvRegisterName } from '../../hv/register-name.js'
import { bringUpBsp, control, makeEngine, type Harness } from '../testing/harness.js'
import { runVp, runVpAsync } from './run-vp.js'
import type { PageFacts } from './mem-access.js'
import type { AsyncVpBacking, VpBacking } from './vp-backing.js'
import { emptyVpExit, type VpExit } from './vp-exit.js'

const RAM = 0x10000n
const FULL = 0x800f

/**
 * A backing whose L2 is a function: it gets the engine's shared registers (the L2 guest state)
 * and returns the exit; guest RAM is one flat buffer.
 */
class FakeBacking implements VpBacking {
  readonly gpaWidth = 48 as const
  readonly mbecCapable = true
  readonly ram = new Uint8Array(Number(RAM))
  readonly xmmRegs: bigint[] = Array.from({ length: 12 }, () => 0n)
  readonly entered: GuestVtl[] = []
  page: PageFacts = { ram: true, shared: false, accepted: true, vm1: FULL, vm2: 0 }
  constructor(
    readonly h: Harness,
    public guest: (vtl: GuestVtl) => Partial<VpExit>
  ) {}
  enter(_vp: number, vtl: GuestVtl): VpExit {
    this.entered.push(vtl)
    return { ...emptyVpExit(), ...this.guest(vtl) }
  }
  xmm(): readonly bigint[] {
    return this.xmmRegs
  }
  readGuest(gpa: bigint, length: number): Uint8Array | undefined {
    return gpa + BigInt(length) <= RAM
      ? this.ram.slice(Number(gpa), Number(gpa) + length)
      : undefined
  }
  writeGuest(gpa: bigint, bytes: Uint8Array): boolean {
    if (gpa + BigInt(bytes.length) > RAM) return false
    this.ram.set(bytes, Number(gpa))
    return true
  }
  pageFacts(): PageFacts {
    return this.page
  }
}

const vmcall = (cpl = 0): Partial<VpExit> => ({
  reason: VmxExitBasic.VMCALL,
  instructionLength: 3,
  cpl,
})

describe('runVp: the one VP loop (§6.4) over a backing', () => {
  it('reads a memory hypercall from RCX/RDX/R8 and guest RAM, writes output and RAX, advances RIP', () => {
    const h = makeEngine(1)
    const regs = h.engine.vp(0).shared
    const backing = new FakeBacking(h, () => {
      const input = encodeGetVpRegisters(
        { partitionId: HV_PARTITION_ID_SELF, vpIndex: HV_VP_INDEX_SELF, targetVtl: 0 },
        [HvRegisterName.VsmCapabilities]
      )
      backing.ram.set(input, 0x2000)
      regs.rcx = control(HypercallCode.GetVpRegisters, { repCount: 1 })
      regs.rdx = 0x2000n
      regs.r8 = 0x3000n
      return vmcall()
    })
    backing.ram.fill(0xee, 0x3000, 0x3010)
    const rip = h.engine.vp(0).vtls[0].registers.rip
    const run = runVp(h.engine, backing, 0)
    expect(run.exit?.kind).toBe('vmcall')
    if (run.exit?.kind !== 'vmcall' || run.exit.outcome.kind !== 'completed') throw new Error()
    expect(run.exit.outcome.status).toBe(HvStatus.Success)
    // RAX: Success with one rep completed; the 16-byte value landed at R8.
    expect(regs.rax).toBe(1n << 32n)
    expect([...backing.ram.subarray(0x3000, 0x3010)]).toEqual([
      2,
      0,
      2,
      ...new Array<number>(13).fill(0),
    ])
    expect(h.engine.vp(0).vtls[0].registers.rip).toBe(rip + 3n)
  })

  it('an unreadable input page fails the call (InvalidHypercallInput), RIP advanced', () => {
    const h = makeEngine(1)
    const regs = h.engine.vp(0).shared
    const backing = new FakeBacking(h, () => {
      regs.rcx = control(HypercallCode.GetVpRegisters, { repCount: 1 })
      regs.rdx = RAM
      regs.r8 = 0x3000n
      return vmcall()
    })
    const run = runVp(h.engine, backing, 0)
    if (run.exit?.kind !== 'vmcall' || run.exit.outcome.kind !== 'completed') throw new Error()
    expect(run.exit.outcome.status).toBe(HvStatus.InvalidHypercallInput)
  })

  it('a fast call takes RDX, R8 and then XMM0.. as its input', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    const regs = h.engine.vp(0).shared
    // ModifyVtlProtectionMask, fast, one GPN: header (16 bytes) in RDX:R8, the GPN in XMM0 low.
    const backing = new FakeBacking(h, () => {
      regs.rcx = control(HypercallCode.ModifyVtlProtectionMask, { repCount: 1, fast: true })
      regs.rdx = HV_PARTITION_ID_SELF
      regs.r8 = 0n // map flags 0, target VTL 0 (VTL0 caller: AccessDenied for a lower target)
      backing.xmmRegs[0] = 0x10n
      return vmcall()
    })
    const run = runVp(h.engine, backing, 0)
    if (run.exit?.kind !== 'vmcall' || run.exit.outcome.kind !== 'completed') throw new Error()
    expect(run.exit.outcome.status).not.toBe(HvStatus.InvalidHypercallInput)
  })

  it('a VMCALL at CPL 3 gets #GP: nothing dispatched, RIP not advanced (§7.2)', () => {
    const h = makeEngine(1)
    const regs = h.engine.vp(0).shared
    const backing = new FakeBacking(h, () => {
      regs.rcx = BigInt(HypercallCode.VtlCall)
      return vmcall(3)
    })
    const rip = h.engine.vp(0).vtls[0].registers.rip
    const run = runVp(h.engine, backing, 0)
    expect(run.exit).toMatchObject({ kind: 'vmcall', outcome: { kind: 'exception', vector: 13 } })
    expect(h.vpPort.exceptions).toEqual([
      { vp: 0, vtl: 0, exception: { vector: 13, errorCode: 0 } },
    ])
    expect(h.engine.vp(0).vtls[0].registers.rip).toBe(rip)
  })

  it('VtlCall from RCX=0x11/RAX=0 switches to VTL1 and the next entry runs VTL1', () => {
    const h = makeEngine(1)
    bringUpBsp(h)
    const regs = h.engine.vp(0).shared
    const backing = new FakeBacking(h, () => {
      regs.rax = 0n
      regs.rcx = 0x11n
      return vmcall()
    })
    const run = runVp(h.engine, backing, 0)
    expect(run).toMatchObject({ vtl: 0, activeVtl: 1, exit: { outcome: { kind: 'vtl-switch' } } })
  })

  it("two TDs never share a VTL-switch exit: editing one leaves the other TD's next VtlCall as it was", () => {
    const td = (): (() => ReturnType<typeof runVp>) => {
      const h = makeEngine(1)
      bringUpBsp(h)
      const regs = h.engine.vp(0).shared
      const backing = new FakeBacking(h, () => {
        regs.rax = 0n
        regs.rcx = 0x11n
        return vmcall()
      })
      return () => runVp(h.engine, backing, 0)
    }
    const a = td()
    const b = td()
    const exitA = a().exit as { control: bigint; tag?: string }
    // A caller that edits TD A's exit (it should not) changes nothing TD B sees.
    exitA.control = 0x12n
    exitA.tag = 'td-A'
    const exitB = b().exit
    expect(exitB).not.toBe(exitA)
    expect(exitB).toEqual({
      kind: 'vmcall',
      control: 0x11n,
      outputGpa: 0n,
      outcome: { kind: 'vtl-switch', vtl: 1, advanceRip: true },
    })
  })

  it.each([
    [
      'VTL1 took R: intercept needs SINT0 (masked: InvalidSynicState)',
      1n,
      { ...pageOk(), vm1: 0x8000 },
      'intercept-failed',
    ],
    ['the page is allowed now: spurious', 1n, pageOk(), 'spurious'],
    ['not RAM: #MC', 2n, { ...pageOk(), ram: false }, 'machine-check'],
    [
      'a fetch from a readable page: spurious (§13.3)',
      4n,
      { ...pageOk(), vm1: 0x8001 },
      'spurious',
    ],
  ] as const)('EPT violation, %s', (_name, qualification, page, kind) => {
    const h = makeEngine(1)
    bringUpBsp(h)
    const backing = new FakeBacking(h, () => ({
      reason: VmxExitBasic.EPT_VIOLATION,
      qualification,
      gpa: 0x5008n,
    }))
    backing.page = page
    const rip = h.engine.vp(0).vtls[0].registers.rip
    const run = runVp(h.engine, backing, 0)
    expect(run.exit).toMatchObject({ kind: 'ept-violation', outcome: { kind } })
    expect(h.engine.vp(0).vtls[0].registers.rip).toBe(rip)
    expect(h.vpPort.exceptions.length).toBe(kind === 'machine-check' ? 1 : 0)
  })

  it('HLT advances RIP and halts the VTL until an interrupt is injected', () => {
    const h = makeEngine(1)
    const backing = new FakeBacking(h, () => ({ reason: VmxExitBasic.HLT, instructionLength: 1 }))
    const rip = h.engine.vp(0).vtls[0].registers.rip
    expect(runVp(h.engine, backing, 0).exit?.kind).toBe('hlt')
    expect(h.engine.vp(0).vtls[0].registers.rip).toBe(rip + 1n)
    expect(runVp(h.engine, backing, 0)).toMatchObject({ blocked: 'VpBlocked', exit: undefined })
    expect(backing.entered).toEqual([0])
    h.engine.vp(0).vtls[0].registers.rflags |= 1n << 9n
    h.engine.vp(0).vtls[0].apic.request(0x40)
    expect(runVp(h.engine, backing, 0).blocked).toBeUndefined()
    expect(backing.entered).toEqual([0, 0])
  })

  it('a VP waiting for SIPI is not entered; a status ≥ PENDING_INTERRUPT is not-run', () => {
    const h = makeEngine(2)
    const backing = new FakeBacking(h, () => ({ tdxStatus: 0x1120 }))
    expect(runVp(h.engine, backing, 1)).toMatchObject({ blocked: 'VpNotRunning' })
    expect(runVp(h.engine, backing, 0).exit).toEqual({ kind: 'not-run', tdxStatus: 0x1120 })
    backing.guest = () => ({ reason: VmxExitBasic.EXTERNAL_INTERRUPT })
    expect(runVp(h.engine, backing, 0).exit).toEqual({ kind: 'preempted' })
    backing.guest = () => ({ reason: VmxExitBasic.CPUID })
    expect(runVp(h.engine, backing, 0).exit).toEqual({
      kind: 'unhandled',
      reason: VmxExitBasic.CPUID,
    })
  })

  it('runVpAsync prepares and enters again after a cancelled run, up to its limit', async () => {
    const h = makeEngine(1)
    const sync = new FakeBacking(h, () => ({ reason: VmxExitBasic.EXTERNAL_INTERRUPT }))
    let cancels = 2
    const backing: AsyncVpBacking = {
      gpaWidth: 48,
      mbecCapable: true,
      xmm: () => sync.xmm(),
      readGuest: (gpa, length) => sync.readGuest(gpa, length),
      writeGuest: (gpa, bytes) => sync.writeGuest(gpa, bytes),
      pageFacts: () => sync.pageFacts(),
      enter: (vp, vtl) => Promise.resolve(cancels-- > 0 ? undefined : sync.enter(vp, vtl)),
    }
    expect((await runVpAsync(h.engine, backing, 0)).exit).toEqual({ kind: 'preempted' })
    cancels = 5
    const run = await runVpAsync(h.engine, backing, 0, { maxCancelled: 3 })
    expect(run.exit).toBeUndefined()
    expect(run.blocked).toBeUndefined()
  })
})

function pageOk(): PageFacts {
  return { ram: true, shared: false, accepted: true, vm1: FULL, vm2: 0 }
}
