import { join } from 'node:path'
import { VmxExitBasic, endOfInterrupt } from '@vtl/core'
import {
  createScenarioTd,
  loadScenarioFile,
  parseScenario,
  runScenario,
  runSteps,
  type L2Cpu,
  type Scenario,
  type SimTd,
  type VpEnterExit,
} from '@vtl/sim'
import { describe, expect, it } from 'vitest'
import { buildKernel, KERNELS_DIR } from '../test/kernels.js'
import { nasm } from '../test/nasm.js'
import { guestCodeSkip } from '../test/skip.js'
import { x86ScenarioCpu } from './scenario-cpu.js'
import type { X86TdCpu } from './x86-td-cpu.js'

const skip = guestCodeSkip()

const HEAD = '%include "vtl-guest.asm"\nbits 64\n'

/** A one-VP x86 scenario over inline images (VTL0 code at 0x100000, VTL1 code at 0x400000). */
function scenario(vtl0: string, vtl1: string, steps: string): Scenario {
  const images = [
    `{ gpa: "0x100000", hex: "${nasm(`${HEAD}org 0x100000\n${vtl0}`).toString('hex')}" }`,
  ]
  if (vtl1 !== '') {
    images.push(
      `{ gpa: "0x400000", hex: "${nasm(`${HEAD}org 0x400000\n${vtl1}`).toString('hex')}" }`
    )
  }
  return parseScenario(`version: 1
partition:
  vps: 1
  memory: 16MiB
  cpu: x86
  images: [${images.join(', ')}]
  entry: { rip: "0x100000", rsp: "0x80000" }
steps:
${steps}
`)
}

/** Every exit TDG.VP.ENTER reported, with the VTL it left and that VTL's RIP at the exit. */
function recordExits(td: SimTd): { vtl: number; rip: bigint; exit: VpEnterExit }[] {
  const cpu = td.l2Cpu as L2Cpu
  const exits: { vtl: number; rip: bigint; exit: VpEnterExit }[] = []
  const enter = cpu.enter.bind(cpu)
  cpu.enter = (vp, vtl, event) => {
    const exit = enter(vp, vtl, event)
    exits.push({ vtl, rip: td.engine.vp(vp).vtls[vtl].registers.rip, exit })
    return exit
  }
  return exits
}

/** The guest hypercalls of a traced run: caller VTL, name, status (and reps). */
function hypercalls(td: SimTd): string[] {
  return td.trace
    .events()
    .filter((e) => e.kind === 'hypercall' && e.vtl !== 2)
    .map((e) => `VTL${e.vtl} ${e.name} ${String(e.args.status)}`)
}

// VTL1 code: protections on, SINT0 unmasked (no IDT needed: interrupts stay off, the vector
// waits in the APIC), `mapFlags` for VTL0 on page 0x300000, return; an intercept stops the run.
const VTL1_PROTECT = (mapFlags: number) => `
    HV_SET_VP_REGISTER 0x600000, 0, HvRegisterVsmPartitionConfig, 0x1f
    HV_SET_VP_REGISTER 0x600000, 0, HvRegisterSint0, 0x31
    HV_PROTECT 0x600000, ${mapFlags}, 0x300000
    VTL_RETURN 1
    VTL_EXIT 0x77`

/** A handler for `vector` that prints "<vector " and "vector> " around `body`, saving what VTL_PUTS uses. */
const printingHandler = (vector: string, body: string): string => `
       irq${vector}:
         push rax
         push rcx
         push rdx
         push rsi
         push r8
         VTL_PUTS open${vector}
         ${body}
         VTL_PUTS close${vector}
         pop r8
         pop rsi
         pop rdx
         pop rcx
         pop rax
         iretq
       open${vector}: db "<${vector} ", 0
       close${vector}: db "${vector}> ", 0`

describe.skipIf(skip)('X86TdCpu: real guest code behind TDG.VP.ENTER', () => {
  it('the gpa-intercept kernel makes the hypercalls of its scripted twin, status by status', async () => {
    const kernel = await loadScenarioFile(join(KERNELS_DIR, 'gpa-intercept', 'scenario.yaml'))
    let x86Td: SimTd | undefined
    const report = runScenario(kernel, {
      cpu: x86ScenarioCpu,
      td: { traceEvents: true },
      onTd: (td) => (x86Td = td),
    })
    expect(report.failed).toBe(0)
    // The same guest, scripted: each step is what the kernel does at that point.
    const scripted = parseScenario(`version: 1
partition: { vps: 1, memory: 16MiB }
steps:
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: { targetVtl: 1, vpContext: { rip: "0x400000", rsp: "0x500000", rflags: "0x202" } } } }
  - { vp: 0, vtlCall: {} }
  - { vp: 0, setRegister: { name: VsmPartitionConfig, value: "0x1f" } }
  - { vp: 0, setRegister: { name: Sint0, value: "0x31" } }
  - { vp: 0, setRegister: { name: Simp, value: "0x700001" } }
  - { vp: 0, hypercall: { name: ModifyVtlProtectionMask, input: { mapFlags: 1, gpns: ["0x300"] } } }
  - { vp: 0, vtlReturn: { fast: true } }
  - { vp: 0, write: { gpa: "0x300010", size: 8, value: "0x1234" }, expect: { intercept: { toVtl: 1, accessType: write, gpa: "0x300010" } } }
  - { vp: 0, eoi: {} }
  - { vp: 0, hypercall: { name: ModifyVtlProtectionMask, input: { mapFlags: 15, gpns: ["0x300"] } } }
  - { vp: 0, vtlReturn: { fast: true } }
  - { vp: 0, write: { gpa: "0x300010", size: 8, value: "0x1234" }, expect: { ok: true, activeVtl: 0 } }
`)
    let scriptedTd: SimTd | undefined
    const twin = runScenario(scripted, {
      td: { traceEvents: true },
      onTd: (td) => (scriptedTd = td),
    })
    expect(twin.steps.filter((step) => !step.ok)).toEqual([])
    if (x86Td === undefined || scriptedTd === undefined) throw new Error('no TD')
    const sequence = hypercalls(x86Td)
    expect(sequence).toEqual(hypercalls(scriptedTd))
    expect(sequence).toHaveLength(10)
    expect(report.stats.hypervisorCalls).toEqual(twin.stats.hypervisorCalls)
    expect(report.stats.tdcalls['TDG.MEM.PAGE.ATTR.WR']).toBe(
      twin.stats.tdcalls['TDG.MEM.PAGE.ATTR.WR']
    )
  })

  it.each([
    // [what VTL1 leaves VTL0, VTL0's access, the exit qualification's access bit, its length]
    ['a write to a read-only page', 1, 'mov qword [0x300ff8], 0x1234', 0x300ff8n, 2n, 12],
    ['a read of a page with no access', 0, 'mov rax, [0x300010]', 0x300010n, 1n, 8],
    ['a 2-byte read that starts on the page', 0, 'mov ax, [0x300ffe]', 0x300ffen, 1n, 8],
    ['a 4-byte read that runs into the page', 0, 'mov eax, [0x2ffffe]', 0x300000n, 1n, 7],
  ])(
    '%s is an EPT violation with the exact GPA, access and RIP',
    (_, mapFlags, access, gpa, accessBit, length) => {
      const s = scenario(
        `HV_ENABLE_VTL1 0x200000, 0, 0x400000, 0x500000, fail
         VTL_CALL
         times 0x200 - ($ - $$) nop
         ${access}                          ; at 0x100200
         VTL_EXIT 0
       fail:
         VTL_EXIT 0xbad`,
        VTL1_PROTECT(mapFlags),
        '  - { vp: 0, run: { maxInstructions: 100000 }, expect: { exitCode: 0x77 } }'
      )
      const td = createScenarioTd(s, { cpu: x86ScenarioCpu })
      const exits = recordExits(td)
      const report = runSteps(td, s)
      expect(report.steps[0]?.mismatches).toEqual([])
      const violations = exits.filter((e) => e.exit.exitReason === VmxExitBasic.EPT_VIOLATION)
      expect(violations).toHaveLength(1)
      const [violation] = violations
      expect(violation?.vtl).toBe(0)
      expect(violation?.rip).toBe(0x100200n)
      expect(violation?.exit.gpa).toBe(gpa)
      expect((violation?.exit.exitQualification ?? 0n) & 7n).toBe(accessBit)
      expect(violation?.exit.instructionInfo).toBe(BigInt(length) << 32n)
      // The access was not performed: VTL0's RIP is still on it (VTL1 took the intercept).
      expect(td.engine.vp(0).vtls[0].registers.rip).toBe(0x100200n)
    }
  )

  it.each([
    ['a VtlCall before VTL1 is enabled', 'VTL_CALL', 6, -1],
    ['a MOV to CR4 that sets a reserved bit', 'mov rax, cr4\n bts rax, 31\n mov cr4, rax', 13, 0],
  ])(
    '%s: the exception the paravisor injects reaches the guest through its IDT',
    (_, instruction, vector, errorCode) => {
      // The handler reports the vector, and the error code it finds on the stack when there is one.
      const s = scenario(
        `VTL_IDT_GATE 0x210000, ${vector}, handler
         VTL_LOAD_IDT 0x210000, 256 * 16 - 1
         ${instruction}
         VTL_EXIT 0xbad
       handler:
         VTL_PUTC ${vector} + '@'
         ${errorCode >= 0 ? 'pop rbx\n VTL_PUTHEX rbx' : ''}
         VTL_EXIT ${vector}`,
        '',
        '  - { vp: 0, run: { maxInstructions: 1000 } }'
      )
      const report = runScenario(s, { cpu: x86ScenarioCpu })
      const name = String.fromCharCode(vector + 64)
      expect(report.steps[0]?.result).toMatchObject({
        exitCode: vector,
        console: errorCode >= 0 ? `${name}${errorCode.toString(16).padStart(16, '0')}` : name,
        activeVtl: 0,
      })
    }
  )

  it('XMM registers are shared across VTL switches, whether or not they changed', () => {
    // VTL1 adds 1 to XMM0 on every call; VTL0 checks, sometimes keeping the value VTL1 left.
    const check = (value: number) => `
         movq rax, xmm0
         cmp rax, ${value}
         jne bad`
    const s = scenario(
      `HV_ENABLE_VTL1 0x200000, 0, 0x400000, 0x500000, bad
         mov eax, 5
         movq xmm0, rax
         VTL_CALL
         ${check(6)}
         VTL_CALL                            ; XMM0 unchanged since VTL1 left it
         ${check(7)}
         mov eax, 100
         movq xmm0, rax
         VTL_CALL
         ${check(101)}
         VTL_EXIT 0
       bad:
         VTL_EXIT 0xbad`,
      `again:
         movq rax, xmm0
         inc rax
         movq xmm0, rax
         VTL_RETURN 1
         jmp again`,
      '  - { vp: 0, run: { maxInstructions: 100000 }, expect: { exitCode: 0 } }'
    )
    const report = runScenario(s, { cpu: x86ScenarioCpu })
    expect(report.steps[0]?.mismatches).toEqual([])
  })

  it('delivers each interrupt the entry accepted, whoever retires it (not only an x2APIC EOI)', () => {
    const s = scenario(
      `VTL_IDT_GATE 0x210000, 0x41, irq
         VTL_LOAD_IDT 0x210000, 256 * 16 - 1
         sti
       idle:
         hlt
         jmp idle
       irq:                                  ; no EOI: the test retires the vector
         push rax
         push rcx
         push rdx
         push rsi
         VTL_PUTS message
         pop rsi
         pop rdx
         pop rcx
         pop rax
         iretq
       message: db "irq ", 0`,
      '',
      `  - { vp: 0, run: {}, expect: { halted: true, console: "" } }
  - { vp: 0, interrupt: { vector: "0x41", vtl: 0 } }
  - { vp: 0, run: {}, expect: { halted: true, console: "irq " } }
  - { vp: 0, interrupt: { vector: "0x41", vtl: 0 } }
  - { vp: 0, run: {}, expect: { halted: true, console: "irq " } }`
    )
    const td = createScenarioTd(s, { cpu: x86ScenarioCpu })
    try {
      expect(runSteps(td, { ...s, steps: s.steps.slice(0, 3) }).failed).toBe(0)
      // Retired by the paravisor's side (a device model, an EOI it emulates), not by the guest.
      expect(endOfInterrupt(td.engine, 0, 0)).toBe(0x41)
      const rest = runSteps(td, s, 3)
      expect(rest.steps.map((step) => step.mismatches)).toEqual([[], []])
    } finally {
      td.l2Cpu?.close()
    }
  })

  it('a lower accepted vector waits for the EOI of a higher one and for RFLAGS.IF', () => {
    // 0x41 is accepted while the guest spins; 0x51 is accepted before 0x41 is taken. 0x51's handler
    // (IF=0) exits with a VMCALL before its EOI: 0x41 must not be taken at that entry.
    const s = scenario(
      `VTL_IDT_GATE 0x210000, 0x41, irq41
         VTL_IDT_GATE 0x210000, 0x51, irq51
         VTL_LOAD_IDT 0x210000, 256 * 16 - 1
         sti
       spin:
         jmp spin
       ${printingHandler('51', 'HV_HYPERCALL 0x000d, 0x300000, 0\n VTL_EOI')}
       ${printingHandler('41', 'VTL_EOI')}`,
      '',
      `  - { vp: 0, interrupt: { vector: "0x41", vtl: 0 } }
  - { vp: 0, run: { maxInstructions: 400 } }
  - { vp: 0, interrupt: { vector: "0x51", vtl: 0 } }
  - { vp: 0, run: { maxInstructions: 3000 } }
  - { vp: 0, run: { maxInstructions: 3000 } }`
    )
    const td = createScenarioTd(s, { cpu: x86ScenarioCpu })
    try {
      const report = runSteps(td, s)
      expect(report.failed).toBe(0)
      const output = (td.l2Cpu as X86TdCpu).backing.ports(0).console
      expect(output).toBe('<51 51> <41 41> ')
    } finally {
      td.l2Cpu?.close()
    }
  })

  it('an accepted NMI is taken before an interrupt accepted after it', () => {
    // The NMI is handed over as the entry preparation does (vector 2); 0x41 is accepted after it.
    const s = scenario(
      `VTL_IDT_GATE 0x210000, 2, irq2
         VTL_IDT_GATE 0x210000, 0x41, irq41
         VTL_LOAD_IDT 0x210000, 256 * 16 - 1
         sti
       spin:
         jmp spin
       ${printingHandler('2', '')}
       ${printingHandler('41', 'VTL_EOI')}`,
      '',
      `  - { vp: 0, run: { maxInstructions: 400 } }
  - { vp: 0, interrupt: { vector: "0x41", vtl: 0 } }
  - { vp: 0, run: { maxInstructions: 2000 } }
  - { vp: 0, run: { maxInstructions: 2000 } }`
    )
    const td = createScenarioTd(s, { cpu: x86ScenarioCpu })
    try {
      const cpu = td.l2Cpu as X86TdCpu
      expect(runSteps(td, { ...s, steps: s.steps.slice(0, 1) }).failed).toBe(0)
      cpu.interruptAccepted(0, 0, 2)
      expect(runSteps(td, s, 1).failed).toBe(0)
      expect(cpu.backing.ports(0).console).toBe('<2 2> <41 41> ')
    } finally {
      td.l2Cpu?.close()
    }
  })

  it('a triple fault ends the run with error TripleFault', () => {
    const s = parseScenario(`version: 1
partition:
  vps: 1
  memory: 16MiB
  cpu: x86
  images: [{ gpa: "0x100000", hex: "${buildKernel('triple.asm').toString('hex')}" }]
  entry: { rip: "0x100000", rsp: "0x80000" }
steps:
  - { vp: 0, run: {}, expect: { error: TripleFault, exitCode: null } }
`)
    const report = runScenario(s, { cpu: x86ScenarioCpu })
    expect(report.steps[0]?.result).toMatchObject({ error: 'TripleFault', halted: false })
    expect(report.steps[0]?.result).not.toHaveProperty('exitCode')
  })

  it('the instruction limit ends the run with error InstructionLimit after exactly that many', () => {
    const s = parseScenario(`version: 1
partition:
  vps: 1
  memory: 16MiB
  cpu: x86
  images: [{ gpa: "0x100000", hex: "${buildKernel('spin.asm').toString('hex')}" }]
  entry: { rip: "0x100000", rsp: "0x80000" }
steps:
  - { vp: 0, run: { maxInstructions: 1000 }, expect: { error: InstructionLimit, instructions: 1000 } }
  - { vp: 0, run: { maxInstructions: 7 }, expect: { error: InstructionLimit, instructions: 7 } }
`)
    const report = runScenario(s, { cpu: x86ScenarioCpu })
    expect(report.steps.map((step) => step.mismatches)).toEqual([[], []])
  })

  it('two runs of a scenario give the same report and the same trace', async () => {
    const kernel = await loadScenarioFile(join(KERNELS_DIR, 'vina', 'scenario.yaml'))
    const run = () => {
      let trace: unknown
      const report = runScenario(kernel, {
        cpu: x86ScenarioCpu,
        td: { traceEvents: true },
        onTd: (td) => (trace = td.trace),
      })
      return { report, events: (trace as SimTd['trace']).events() }
    }
    const first = run()
    const second = run()
    expect(first.report.failed).toBe(0)
    expect(second.report).toEqual(first.report)
    expect(second.events).toEqual(first.events)
    // The trace shows the guest's exits: its hypercalls, the RDMSR of EFER (for VTL1's context),
    // VTL1's HLT and the exit-code write that ended the run (the host taking the CPU back).
    const exits = new Set(first.events.filter((e) => e.kind === 'exit').map((e) => e.name))
    expect([...exits].sort()).toEqual(['hlt', 'preempted', 'rdmsr', 'vmcall'])
  })
})
