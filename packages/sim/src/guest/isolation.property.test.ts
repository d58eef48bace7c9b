import { fc, test } from '@fast-check/vitest'
import { GuestVsmState } from '@vtl/core'
import { describe, expect } from 'vitest'
import { parseScenario } from '../scenario/parse.js'
import type { GuestAction, StepResult } from '../scenario/types.js'
import { SimTd } from '../td/sim-td.js'
import { performStep } from './perform.js'

/** Values only VTL1's private registers hold (its initial context). */
const SECRET = { rip: 0x5ec0_0000_1000n, rsp: 0x5ec0_0000_8000n, cr3: 0x5ec0_0000_2000n }
const SECRETS = new Set(Object.values(SECRET))
const BASE_GPN = 0x100
const PAGES = 8
const R = 1
const W = 2
const KX = 4
const UX = 8

function actions(yaml: string): GuestAction[] {
  return parseScenario(
    `version: 1\npartition: { vps: 2, memory: 8MiB }\nsteps:\n${yaml}`
  ).steps.map((s) => s.action)
}

/** VP 0 with VTL1 Active (IF set, SINT0 unmasked, protections on), back in VTL0; VP 1 plain. */
function bootedTd(): SimTd {
  const td = new SimTd({ vps: 2, memory: 8n << 20n, traceEvents: false })
  const ctx = `{ rip: "0x${SECRET.rip.toString(16)}", rsp: "0x${SECRET.rsp.toString(16)}", cr3: "0x${SECRET.cr3.toString(16)}", rflags: "0x202" }`
  const boot = actions(`
  - { vp: 0, hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1, flags: { enableMbec: true } } } }
  - { vp: 0, hypercall: { name: EnableVpVtl, input: { vpContext: ${ctx} } } }
  - { vp: 0, vtlCall: {} }
  - { vp: 0, setRegister: { name: VsmPartitionConfig, value: "0x1f" } }
  - { vp: 0, setRegister: { name: Sint0, value: "0x30" } }
  - { vp: 0, vtlReturn: {} }`)
  for (const action of boot) {
    const { result } = performStep(td, 0, action)
    if (result.status !== undefined && result.status !== 'Success') throw new Error('boot failed')
  }
  return td
}

type Command =
  | { kind: 'protect'; page: number; flags: number }
  | {
      kind: 'access'
      vp: number
      page: number
      offset: number
      access: 'read' | 'write' | 'execute'
      mode: 'kernel' | 'user'
    }
  | { kind: 'getRegister'; vp: number; name: string; targetVtl: 0 | 1 | undefined }
  | { kind: 'interrupt'; vtl: 0 | 1; vector: number }

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    kind: fc.constant('protect' as const),
    page: fc.integer({ min: 0, max: PAGES - 1 }),
    flags: fc.constantFrom(0, R, R | W, R | W | KX | UX, R | UX, R | KX | UX, R | W | UX),
  }),
  fc.record({
    kind: fc.constant('access' as const),
    vp: fc.integer({ min: 0, max: 1 }),
    page: fc.integer({ min: 0, max: PAGES - 1 }),
    offset: fc.integer({ min: 0, max: 511 }).map((n) => n * 8),
    access: fc.constantFrom('read' as const, 'write' as const, 'execute' as const),
    mode: fc.constantFrom('kernel' as const, 'user' as const),
  }),
  fc.record({
    kind: fc.constant('getRegister' as const),
    vp: fc.integer({ min: 0, max: 1 }),
    name: fc.constantFrom('Rip', 'Rsp', 'Cr3', 'Rflags', 'Efer'),
    targetVtl: fc.constantFrom(undefined, 0 as const, 1 as const),
  }),
  fc.record({
    kind: fc.constant('interrupt' as const),
    vtl: fc.constantFrom(0 as const, 1 as const),
    vector: fc.integer({ min: 0x40, max: 0xef }),
  })
)

/** Puts VP 0 in `vtl` (VtlCall / VtlReturn, EOIs so that a pending vector cannot bounce us). */
function moveVp0(td: SimTd, vtl: 0 | 1): void {
  for (let i = 0; i < 8 && td.engine.vp(0).exitVtl !== vtl; i++) {
    if (vtl === 1) performStep(td, 0, { kind: 'vtlCall', input: 0n })
    else {
      performStep(td, 0, { kind: 'eoi' })
      performStep(td, 0, { kind: 'vtlReturn', fast: true })
    }
  }
}

function allowed(
  flags: number,
  access: 'read' | 'write' | 'execute',
  mode: 'kernel' | 'user'
): boolean {
  if (access === 'read') return (flags & R) !== 0
  if (access === 'write') return (flags & W) !== 0
  return (flags & (mode === 'user' ? UX : KX)) !== 0
}

describe('isolation under random guest programs', () => {
  test.prop([fc.array(command, { minLength: 1, maxLength: 40 })], { numRuns: 60 })(
    'VTL0 never reads/writes/executes what VTL1 took, nor sees a VTL1-private register',
    (commands) => {
      const td = bootedTd()
      const vtl0 = Array.from({ length: PAGES }, () => R | W | KX | UX)
      for (const c of commands) {
        if (c.kind === 'protect') {
          moveVp0(td, 1)
          const [protect] = actions(
            `  - { vp: 0, hypercall: { name: ModifyVtlProtectionMask, input: { mapFlags: ${c.flags}, gpns: [${BASE_GPN + c.page}] } } }`
          )
          const { result } = performStep(td, 0, protect as GuestAction)
          expect(result.status).toBe('Success')
          vtl0[c.page] = c.flags
        } else if (c.kind === 'access') {
          if (c.vp === 0) moveVp0(td, 0)
          const gpa = BigInt((BASE_GPN + c.page) * 4096 + c.offset)
          const action: GuestAction =
            c.access === 'write'
              ? { kind: 'write', gpa, size: 8, value: 0x1234n }
              : c.access === 'read'
                ? { kind: 'read', gpa, size: 8 }
                : { kind: 'execute', gpa, size: 8, mode: c.mode }
          const { vtl, result } = performStep(td, c.vp, action)
          expect(vtl).toBe(0)
          const flags = vtl0[c.page] ?? 0
          expect(result.ok).toBe(allowed(flags, c.access, c.mode))
          if (result.ok !== true) {
            // Denied: never a value, and either an intercept for VTL1, a dropped one, or spurious.
            expect(result.value).toBeUndefined()
            const intercept = result.intercept as { accessType?: string } | undefined
            if (intercept !== undefined) {
              expect(intercept.accessType).toBe(c.access === 'write' ? 'write' : 'read')
            } else {
              expect(result.spurious === true || typeof result.interceptStatus === 'string').toBe(
                true
              )
            }
          }
        } else if (c.kind === 'getRegister') {
          if (c.vp === 0) moveVp0(td, 0)
          const { vtl, result } = performStep(td, c.vp, {
            kind: 'getRegister',
            name: { Rip: 0x20010, Rsp: 0x20004, Cr3: 0x40002, Rflags: 0x20011, Efer: 0x80001 }[
              c.name as 'Rip'
            ],
            targetVtl: c.targetVtl,
          })
          expect(vtl).toBe(0)
          checkNoSecret(result)
        } else {
          performStep(td, 0, { kind: 'interrupt', vtl: c.vtl, vector: c.vector })
        }
      }
      // VTL0's own view of shared GPRs never carries a VTL1-private value either.
      const shared = td.engine.vp(0).shared
      for (const value of Object.values(shared) as bigint[]) expect(SECRETS.has(value)).toBe(false)
    }
  )
})

function checkNoSecret(result: StepResult): void {
  if (typeof result.value === 'string') expect(SECRETS.has(BigInt(result.value))).toBe(false)
}

type EnableCall =
  | { kind: 'partition'; vp: number }
  | { kind: 'vp'; vp: number; target: number }
  | { kind: 'start'; vp: number; target: number; vtl: 0 | 1 }
  | { kind: 'vtlCall'; vp: number }
  | { kind: 'vtlReturn'; vp: number }
  | { kind: 'run'; vp: number }

const VPS = 3
const vpIndex = fc.integer({ min: 0, max: VPS - 1 })
const enableCall: fc.Arbitrary<EnableCall> = fc.oneof(
  fc.record({ kind: fc.constant('partition' as const), vp: vpIndex }),
  fc.record({ kind: fc.constant('vp' as const), vp: vpIndex, target: vpIndex }),
  fc.record({
    kind: fc.constant('start' as const),
    vp: vpIndex,
    target: vpIndex,
    vtl: fc.constantFrom(0 as const, 1 as const),
  }),
  fc.record({ kind: fc.constant('vtlCall' as const), vp: vpIndex }),
  fc.record({ kind: fc.constant('vtlReturn' as const), vp: vpIndex }),
  fc.record({ kind: fc.constant('run' as const), vp: vpIndex })
)

function enableAction(c: EnableCall): GuestAction {
  const yaml =
    c.kind === 'partition'
      ? '{ name: EnablePartitionVtl, input: { targetVtl: 1 } }'
      : c.kind === 'vp'
        ? `{ name: EnableVpVtl, input: { vpIndex: ${c.target} } }`
        : c.kind === 'start'
          ? `{ name: StartVirtualProcessor, input: { vpIndex: ${c.target}, targetVtl: ${c.vtl} } }`
          : ''
  if (c.kind === 'vtlCall') return { kind: 'vtlCall', input: 0n }
  if (c.kind === 'vtlReturn') return { kind: 'vtlReturn', fast: false }
  if (c.kind === 'run') return { kind: 'run' }
  return actions(`  - { vp: 0, hypercall: ${yaml} }`)[0] as GuestAction
}

describe('enable invariants under random call sequences', () => {
  test.prop([fc.array(enableCall, { minLength: 1, maxLength: 60 })], { numRuns: 80 })(
    'enable state only moves forward, VTL0 enables once, the host hears each successful enable',
    (calls) => {
      const td = new SimTd({ vps: VPS, memory: 4n << 20n, startedVps: [0, 1], traceEvents: false })
      const { engine } = td
      let enabled = false
      const enableCalled = Array.from({ length: VPS }, () => false)
      let vtl0Enables = 0
      let successfulVpEnables = 0
      for (const c of calls) {
        const { vtl, result } = performStep(td, c.vp, enableAction(c))
        if (c.kind === 'vp' && result.status === 'Success') {
          successfulVpEnables++
          if (vtl === 0) vtl0Enables++
          expect(enabled).toBe(true)
        }
        const state = engine.guestVsmState
        if (enabled) expect(state).toBe(GuestVsmState.Enabled)
        enabled = state === GuestVsmState.Enabled
        for (let vp = 0; vp < VPS; vp++) {
          const called = engine.shared.vtl1EnableCalled(vp)
          if (enableCalled[vp] === true) expect(called).toBe(true)
          enableCalled[vp] = called
          // Active implies enable-called (§4.3).
          if (engine.vp(vp).vtl1 !== undefined) expect(called).toBe(true)
          // VTL1 runs only where it was enabled.
          if (engine.vp(vp).exitVtl === 1) expect(called).toBe(true)
        }
      }
      expect(vtl0Enables).toBeLessThanOrEqual(1)
      expect(td.stats().hypervisorCalls.EnableVpVtl ?? 0).toBe(successfulVpEnables)
      expect(td.stats().hypervisorCalls.EnablePartitionVtl ?? 0).toBe(enabled ? 1 : 0)
    }
  )
})
