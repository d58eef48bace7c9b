import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeEnablePartitionVtl } from '../hv/enable-partition-vtl.js'
import { encodeEnableVpVtl } from '../hv/enable-vp-vtl.js'
import { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF } from '../hv/hypercall-code.js'
import { encodeModifyVtlProtectionMask } from '../hv/modify-vtl-protection-mask.js'
import { HvRegisterName } from '../hv/register-name.js'
import { encodeStartVirtualProcessor } from '../hv/start-virtual-processor.js'
import { HvStatus } from '../hv/status.js'
import { encodeSetVpRegisters } from '../hv/vp-registers.js'
import { decodeEnablePartitionVtlFlags } from '../hv/enable-partition-vtl.js'
import { dispatchHypercall, type HypercallOutcome, type HypercallRequest } from './dispatch.js'
import { getVpRegister } from './handlers/register-access.js'
import { deliverGpaIntercept } from './gpa-intercept.js'
import { assertInterrupt, exitToParavisor, prepareEntry } from './interrupts.js'
import { GuestVsmState, PartitionField } from './shared-state.js'
import { snapshotEngine } from './snapshot.js'
import { control, makeEngine, validContext, type Harness } from './testing/harness.js'

type Command =
  | { kind: 'enablePartition'; vp: number; targetVtl: number; flags: number; self: boolean }
  | { kind: 'enableVp'; vp: number; target: number; targetVtl: number; good: boolean }
  | { kind: 'startVp'; vp: number; target: number; targetVtl: number; good: boolean }
  | { kind: 'vtlCall'; vp: number; input: bigint }
  | { kind: 'vtlReturn'; vp: number; input: bigint }
  | { kind: 'entry'; vp: number }
  | { kind: 'config'; vp: number; value: bigint }
  | { kind: 'secureConfig'; vp: number; value: bigint }
  | { kind: 'protect'; vp: number; flags: number; targetVtl: number }
  | { kind: 'ipi'; vp: number; targetVtl: number; mask: bigint }
  | { kind: 'flush'; vp: number }
  | { kind: 'intercept'; vp: number; access: 'read' | 'write' | 'execute'; readable: boolean }
  | { kind: 'interrupt'; vp: number; vtl: 0 | 1; vector: number }
  | { kind: 'hostFails'; fails: boolean }
  | { kind: 'protectorFails'; fails: boolean }

const MAX_VPS = 5

function commandArb(vpCount: number): fc.Arbitrary<Command> {
  const vp = fc.integer({ min: 0, max: vpCount - 1 })
  // Biased towards valid inputs so that sequences get past the early checks.
  const target = fc.oneof(
    { arbitrary: fc.integer({ min: 0, max: vpCount }), weight: 3 },
    { arbitrary: fc.constant(HV_VP_INDEX_SELF), weight: 1 }
  )
  const vtlByte = fc.constantFrom(1, 1, 1, 1, 0, 2, 3)
  const good = fc.constantFrom(true, true, true, false)
  return fc.oneof(
    fc.record({
      kind: fc.constant('enablePartition' as const),
      vp,
      targetVtl: vtlByte,
      flags: fc.constantFrom(0, 0, 1, 1, 2, 4, 0xf9),
      self: fc.constantFrom(true, true, true, false),
    }),
    fc.record({
      kind: fc.constant('enableVp' as const),
      vp,
      target,
      targetVtl: vtlByte,
      good,
    }),
    fc.record({
      kind: fc.constant('startVp' as const),
      vp,
      target,
      targetVtl: fc.constantFrom(0, 0, 1, 1, 2),
      good,
    }),
    fc.record({ kind: fc.constant('vtlCall' as const), vp, input: fc.constantFrom(0n, 0n, 1n) }),
    fc.record({ kind: fc.constant('vtlReturn' as const), vp, input: fc.constantFrom(0n, 1n, 2n) }),
    fc.record({ kind: fc.constant('entry' as const), vp }),
    fc.record({
      kind: fc.constant('config' as const),
      vp,
      value: fc.constantFrom(0x1fn, 0x1en, 0x7n, 0x67n, 0x80n, 0x1bn),
    }),
    fc.record({
      kind: fc.constant('secureConfig' as const),
      vp,
      value: fc.constantFrom(0n, 1n, 2n, 3n, 4n),
    }),
    fc.record({
      kind: fc.constant('protect' as const),
      vp,
      flags: fc.constantFrom(0, 1, 3, 0xf, 0x5, 0x9, 0x8000),
      targetVtl: fc.constantFrom(0x00, 0x10, 0x11, 0x12, 0x20),
    }),
    fc.record({
      kind: fc.constant('ipi' as const),
      vp,
      targetVtl: fc.constantFrom(0x00, 0x10, 0x11),
      mask: fc.bigInt({ min: 0n, max: 31n }),
    }),
    fc.record({ kind: fc.constant('flush' as const), vp }),
    fc.record({
      kind: fc.constant('intercept' as const),
      vp,
      access: fc.constantFrom('read' as const, 'write' as const, 'execute' as const),
      readable: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('interrupt' as const),
      vp,
      vtl: fc.constantFrom(0 as const, 1 as const),
      vector: fc.integer({ min: 0x20, max: 0xff }),
    }),
    fc.record({ kind: fc.constant('hostFails' as const), fails: fc.boolean() }),
    fc.record({ kind: fc.constant('protectorFails' as const), fails: fc.boolean() })
  )
}

function requestFor(command: Command): HypercallRequest | undefined {
  const context = (good: boolean) => validContext(good ? {} : { efer: 0n })
  switch (command.kind) {
    case 'enablePartition':
      return {
        vp: command.vp,
        control: 0x0dn,
        input: encodeEnablePartitionVtl({
          partitionId: command.self ? HV_PARTITION_ID_SELF : 0n,
          targetVtl: command.targetVtl,
          flags: decodeEnablePartitionVtlFlags(command.flags),
        }),
      }
    case 'enableVp':
      return {
        vp: command.vp,
        control: 0x0fn,
        input: encodeEnableVpVtl({
          partitionId: HV_PARTITION_ID_SELF,
          vpIndex: command.target,
          targetVtl: command.targetVtl,
          context: context(command.good),
        }),
      }
    case 'startVp':
      return {
        vp: command.vp,
        control: 0x99n,
        input: encodeStartVirtualProcessor({
          partitionId: HV_PARTITION_ID_SELF,
          vpIndex: command.target,
          targetVtl: command.targetVtl,
          context: context(command.good),
        }),
      }
    case 'vtlCall':
      return { vp: command.vp, control: 0x11n, vtlInput: command.input }
    case 'vtlReturn':
      return { vp: command.vp, control: 0x12n, vtlInput: command.input }
    case 'config':
    case 'secureConfig':
      return {
        vp: command.vp,
        control: control(0x51, { repCount: 1 }),
        input: encodeSetVpRegisters(
          { partitionId: HV_PARTITION_ID_SELF, vpIndex: HV_VP_INDEX_SELF, targetVtl: 0 },
          [
            {
              name:
                command.kind === 'config'
                  ? HvRegisterName.VsmPartitionConfig
                  : HvRegisterName.VsmVpSecureConfigVtl0,
              value: command.value,
            },
          ]
        ),
      }
    case 'ipi': {
      const input = new Uint8Array(16)
      const view = new DataView(input.buffer)
      view.setUint32(0, 0x40, true)
      view.setUint8(4, command.targetVtl)
      view.setBigUint64(8, command.mask, true)
      return { vp: command.vp, control: 0x0bn, input }
    }
    case 'flush':
      return {
        vp: command.vp,
        control: control(0x02, { fast: true }),
        fastRegisters: [0n, 1n, 0n, 0n],
      }
    case 'protect':
      return {
        vp: command.vp,
        control: control(0x0c, { repCount: 1 }),
        input: encodeModifyVtlProtectionMask(
          {
            partitionId: HV_PARTITION_ID_SELF,
            mapFlags: command.flags,
            targetVtl: command.targetVtl,
          },
          [0x100n]
        ),
      }
    default:
      return undefined
  }
}

function failed(outcome: HypercallOutcome): boolean {
  return (
    outcome.kind === 'exception' ||
    (outcome.kind === 'completed' && outcome.status !== HvStatus.Success)
  )
}

/** The snapshot of everything but what every completed call changes (RIP, RAX) and host bookkeeping. */
function comparable(h: Harness, vp: number): unknown {
  const state = h.engine.vp(vp)
  const saved = [
    state.shared.rax,
    state.vtls[0].registers.rip,
    state.vtls[1].registers.rip,
  ] as const
  const host = h.engine.field(PartitionField.HostPartitionVtlEnabled)
  state.shared.rax = 0n
  state.vtls[0].registers.rip = 0n
  state.vtls[1].registers.rip = 0n
  h.engine.shared.setPartitionField(PartitionField.HostPartitionVtlEnabled, 0)
  const snapshot = snapshotEngine(h.engine)
  ;[state.shared.rax, state.vtls[0].registers.rip, state.vtls[1].registers.rip] = saved
  h.engine.shared.setPartitionField(PartitionField.HostPartitionVtlEnabled, host)
  return snapshot
}

function checkInvariants(h: Harness): void {
  const { engine } = h
  let anyEnableCalled = false
  for (const vp of engine.vps) {
    const enableCalled = engine.shared.vtl1EnableCalled(vp.index)
    anyEnableCalled ||= enableCalled
    // No VP Active without EnableCalled (§4.3).
    if (vp.vtl1 !== undefined) expect(enableCalled).toBe(true)
    // enabled_vtl_set matches the per-VP flag.
    const status = getVpRegister(
      engine,
      vp.index,
      vp.exitVtl,
      vp.exitVtl,
      HvRegisterName.VsmVpStatus
    )
    expect(Number((status.value >> 16n) & 0xffffn)).toBe(enableCalled ? 3 : 1)
    expect(Number(status.value & 0xfn)).toBe(vp.exitVtl)
    // One VTL at a time: the published active VTL is the one the VP runs, or the paravisor.
    expect([vp.exitVtl, 2]).toContain(engine.shared.activeVtl(vp.index))
  }
  expect(engine.flag(PartitionField.EnabledOnAnyVp)).toBe(anyEnableCalled)
  if (engine.guestVsmState !== GuestVsmState.Enabled) expect(anyEnableCalled).toBe(false)
}

describe('engine invariants under random hypercall sequences (fast-check)', () => {
  function invariantsProperty() {
    const scenario = fc.integer({ min: 1, max: MAX_VPS }).chain((vpCount) =>
      fc.record({
        vpCount: fc.constant(vpCount),
        bootFirst: fc.constantFrom(true, true, true, false),
        commands: fc.array(commandArb(vpCount), { minLength: 5, maxLength: 40, size: 'max' }),
      })
    )
    return fc.property(scenario, ({ vpCount, bootFirst, commands }) => {
      const h = makeEngine(vpCount)
      // Most runs start from the BSP's VTL1 bring-up (§4.6 steps 1–3), so that VTL1 paths are reached.
      const boot: Command[] = bootFirst
        ? [
            { kind: 'enablePartition', vp: 0, targetVtl: 1, flags: 0, self: true },
            { kind: 'enableVp', vp: 0, target: HV_VP_INDEX_SELF, targetVtl: 1, good: true },
            { kind: 'entry', vp: 0 },
            { kind: 'vtlCall', vp: 0, input: 0n },
          ]
        : []
      for (const command of [...boot, ...commands]) {
        if (command.kind === 'hostFails') {
          h.hv.answer = command.fails ? () => HvStatus.InsufficientMemory : () => HvStatus.Success
          continue
        }
        if (command.kind === 'protectorFails') {
          const status = command.fails ? HvStatus.OperationDenied : HvStatus.Success
          h.protection.defaultStatus = status
          h.protection.vtlStatus = status
          continue
        }
        if (command.kind === 'interrupt') {
          assertInterrupt(h.engine, command.vp, command.vtl, command.vector)
          checkInvariants(h)
          continue
        }
        if (command.kind === 'intercept') {
          // VTL1 may have unmasked SINT0 (half the time) before the fault.
          if (command.readable) h.engine.vp(command.vp).vtls[1].synic.sint[0] = 0x31n
          // The EPT violation exits to the paravisor first, as a VMCALL does (§6.4 step 6).
          exitToParavisor(h.engine, command.vp)
          const before = comparable(h, command.vp)
          const fault = { gpa: 0x1000n, access: command.access, readable: command.readable }
          const outcome = deliverGpaIntercept(h.engine, command.vp, fault)
          if (outcome.status !== HvStatus.Success || outcome.spurious) {
            expect(comparable(h, command.vp)).toEqual(before)
          }
          checkInvariants(h)
          continue
        }
        if (command.kind === 'entry') {
          const plan = prepareEntry(h.engine, command.vp)
          expect(h.engine.shared.activeVtl(command.vp)).toBe(plan.vtl)
          checkInvariants(h)
          continue
        }
        const request = requestFor(command)
        if (request === undefined) continue
        // A VMCALL exits to the paravisor first, as the host's run loop does (§6.4 step 6).
        exitToParavisor(h.engine, request.vp)
        const before = comparable(h, request.vp)
        const outcome = dispatchHypercall(h.engine, request)
        if (failed(outcome)) expect(comparable(h, request.vp)).toEqual(before)
        checkInvariants(h)
      }
    })
  }

  it('hold after every step, and a failed call changes nothing', () => {
    fc.assert(invariantsProperty(), { numRuns: 150 })
  }, 60_000)

  // Found by the property above: an EPT-violation exit raised VTL1 while the VP's published active
  // VTL still said VTL0 (the harness skipped the exit to the paravisor).
  it('regression: an intercept after an entry (seed -1752923670)', () => {
    fc.assert(invariantsProperty(), {
      seed: -1752923670,
      path: '2:6:7:8:13:10:10:11:12:12:5:5:5:5:5:5:5:5:5:5:5:5:5',
      numRuns: 1,
    })
  })
})
