import { describe, expect, it } from 'vitest'
import { VmxExitBasic } from '@vtl/core'
import { parseScenario } from '../scenario/parse.js'
import { SimTd } from '../td/sim-td.js'
import { performStep } from './perform.js'
import type { GuestAction } from '../scenario/types.js'
import { instructionExit, type InstructionAction } from './instruction.js'

function td(): SimTd {
  return new SimTd({ vps: 1, memory: 8n << 20n })
}

function actions(text: string) {
  return parseScenario(
    `version: 1\npartition: { vps: 1, memory: 8MiB }\nsteps:\n${text}`
  ).steps.map((s) => s.action)
}

/** The one action of a one-step text. */
function action(text: string): GuestAction {
  const [only] = actions(text)
  if (only === undefined) throw new Error('no step')
  return only
}

/** The message in VTL1's SINT0 slot of VP 0, as a DataView. */
function slot(t: SimTd): DataView {
  const message = t.engine.vp(0).vtls[1].synic.message[0]
  if (message === undefined) throw new Error('no message posted')
  return new DataView(message.buffer)
}

/** VP 0 with VTL1 Active, SINT0 unmasked, VTL1's `setup` steps run, back in VTL0. */
function withVtl1(setup: string): SimTd {
  const t = td()
  const steps = actions(`
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: { targetVtl: 1, vpContext: { rflags: '0x202' } } } }
  - { vp: 0, vtlCall: {} }
  - { vp: 0, setRegister: { name: Sint0, value: '0x31' } }
${setup}
  - { vp: 0, vtlReturn: {} }
`)
  for (const action of steps) performStep(t, 0, action)
  return t
}

describe('instruction actions on the simulated TD (§13.16)', () => {
  it('parses the three actions with their defaults', () => {
    expect(
      actions(`
  - { vp: 0, io: { port: 0x60 } }
  - { vp: 0, io: { port: '0x61', size: 4, write: true, value: '0xffffffff' } }
  - { vp: 0, writeCr: { cr: 4, value: '0x20' } }
  - { vp: 0, msr: { msr: SysenterCs } }
  - { vp: 0, msr: { msr: 0xc0000080, value: '0xd01' } }
`)
    ).toEqual([
      { kind: 'io', port: 0x60, size: 1, write: false, value: 0n },
      { kind: 'io', port: 0x61, size: 4, write: true, value: 0xffff_ffffn },
      { kind: 'writeCr', cr: 4, value: 0x20n },
      { kind: 'msr', msr: 0x174, value: undefined },
      { kind: 'msr', msr: 0xc000_0080, value: 0xd01n },
    ])
  })

  it('exits as the hardware reports the instruction', () => {
    const regs = { rax: 0n, rcx: 0n, rdx: 0n, r8: 0n }
    const exit = (text: string) => instructionExit(action(text) as InstructionAction, regs)
    expect(exit('  - { vp: 0, io: { port: 0x60 } }')).toEqual({
      exitReason: VmxExitBasic.IO,
      exitQualification: 0x60_0008n,
      instructionInfo: 1n << 32n,
    })
    expect(exit('  - { vp: 0, io: { port: 0x61, size: 4, write: true } }').exitQualification).toBe(
      0x61_0003n
    )
    expect(exit('  - { vp: 0, writeCr: { cr: 4, value: 0 } }')).toMatchObject({
      exitReason: VmxExitBasic.CR_ACCESS,
      exitQualification: 4n,
    })
    expect(regs.rax).toBe(0n)
    expect(exit('  - { vp: 0, msr: { msr: Lstar } }').exitReason).toBe(VmxExitBasic.MSR_READ)
    expect(regs.rcx).toBe(0xc000_0082n)
    expect(exit("  - { vp: 0, msr: { msr: Lstar, value: '0x1122334455667788' } }").exitReason).toBe(
      VmxExitBasic.MSR_WRITE
    )
    expect([regs.rdx, regs.rax]).toEqual([0x1122_3344n, 0x5566_7788n])
    exit("  - { vp: 0, io: { port: 0x70, size: 2, write: true, value: '0xbeef' } }")
    expect([regs.rdx & 0xffffn, regs.rax]).toEqual([0x70n, 0x5566_beefn])
  })

  it('an intercepted OUT leaves the I/O-port message in VTL1 SINT0 slot, with DX, RAX and the VP state', () => {
    const t = withVtl1(
      "  - { vp: 0, hypercall: { code: 0x4d, input: 'ffffffffffffffff 02000000 00000000 6400000000000000' } }"
    )
    const vp = t.engine.vp(0)
    const rip = vp.vtls[0].registers.rip
    const out = action('  - { vp: 0, io: { port: 0x64, size: 2, write: true, value: 0xbeef } }')
    const { result } = performStep(t, 0, out)
    expect(result).toEqual({
      ok: false,
      intercept: { toVtl: 1, kind: 'io', port: 0x64, accessType: 'write' },
      activeVtl: 1,
    })
    const view = slot(t)
    expect(view.getUint32(0, true)).toBe(0x8001_0000)
    expect(view.getUint8(4)).toBe(128)
    expect(view.getUint32(16, true)).toBe(0) // vp_index
    expect(view.getUint8(16 + 4)).toBe(2) // 66 EF
    expect(view.getUint8(16 + 5)).toBe(1) // WRITE
    expect(view.getBigUint64(16 + 24, true)).toBe(rip)
    expect(view.getUint16(16 + 40, true)).toBe(0x64)
    expect(view.getUint8(16 + 42)).toBe(2)
    expect(view.getBigUint64(16 + 48, true) & 0xffffn).toBe(0xbeefn)
    expect(vp.vtls[0].registers.rip).toBe(rip)
    expect(vp.shared.rdx & 0xffffn).toBe(0x64n)
  })

  it('an intercepted WRMSR carries ECX in the message and EDX:EAX as the guest loaded them', () => {
    const t = withVtl1("  - { vp: 0, setRegister: { name: CrInterceptControl, value: '0x4000' } }")
    const wrmsr = action("  - { vp: 0, msr: { msr: Efer, value: '0x1234500000d01' } }")
    expect(performStep(t, 0, wrmsr).result).toMatchObject({
      intercept: { toVtl: 1, kind: 'msr', msr: '0xc0000080', accessType: 'write' },
    })
    const view = slot(t)
    expect(view.getUint32(0, true)).toBe(0x8001_0001)
    expect(view.getUint32(16 + 40, true)).toBe(0xc000_0080)
    expect(view.getBigUint64(16 + 48, true)).toBe(0x1_2345n)
    expect(view.getBigUint64(16 + 56, true)).toBe(0xd01n)
  })

  it('records the intercept in the trace', () => {
    const t = withVtl1("  - { vp: 0, setRegister: { name: CrInterceptControl, value: '0x1' } }")
    const masks = t.engine.vp(0).vtl1?.regIntercept
    if (masks === undefined) throw new Error('VTL1 not Active')
    masks.cr0Mask = 1n << 16n
    const cr0 = action("  - { vp: 0, writeCr: { cr: 0, value: '0x60000011' } }")
    performStep(t, 0, cr0)
    expect(t.trace.latest(10).some((e) => e.kind === 'intercept' && e.name === 'MOV CR0')).toBe(
      false
    )
    t.engine.vp(0).vtls[0].registers.cr0 = 0x8001_0031n
    performStep(t, 0, cr0)
    expect(t.trace.latest(10).some((e) => e.kind === 'intercept' && e.name === 'MOV CR0')).toBe(
      true
    )
  })
})
