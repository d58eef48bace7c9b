import { HvMapGpaFlags, HvRegisterName, validateVtlGpaFlags, type GuestVtl } from '@vtl/core'
import { SimTd, createRandom, performStep, type GuestAction, type Random } from '@vtl/sim'
import {
  contextAt,
  enablePartitionVtl,
  enableSelf,
  enableVpVtl,
  hypercall,
  modifyVtlProtectionMask,
} from './guest-calls.js'
import type { InvariantLog } from './invariant-log.js'
import { checkMemoryMap } from './invariants.js'
import type { Campaign } from './runner.js'

const VPS = 3
const MEMORY = 8n << 20n
const BASE_GPN = 0x100
const PAGES = 8
const { Readable: R, Writable: W, KernelExecutable: KX, UserExecutable: UX } = HvMapGpaFlags
const ALL = R | W | KX | UX
/** Masks VTL1 applies (R|KX without UX is refused under MBEC: the model must stay put). */
const MASKS = [0, R, R | W, ALL, R | UX, R | KX | UX, R | W | UX, R | KX]
/** The VPs with VTL1 Active (their VTL1 holds private register values). */
const VTL1_VPS = [0, 1]
const READABLE_REGISTERS = [
  HvRegisterName.Rip,
  HvRegisterName.Rsp,
  HvRegisterName.Cr3,
  HvRegisterName.Rflags,
  HvRegisterName.Cr0,
  HvRegisterName.Cr4,
  HvRegisterName.Efer,
]

/** Values only VTL1's private registers hold: its initial contexts on VP 0 and VP 1. */
function secretContext(vp: number): { rip: bigint; rsp: bigint; cr3: bigint } {
  const base = 0x5ec0_0000_0000n + BigInt(vp) * 0x10_0000n
  return { rip: base + 0x1000n, rsp: base + 0x8000n, cr3: base + 0x2000n }
}
const SECRETS = new Set(VTL1_VPS.flatMap((vp) => Object.values(secretContext(vp))))

/**
 * VTL1 Active on VPs 0 and 1 with secret initial contexts, MBEC on, protections enabled
 * (VsmPartitionConfig) and VTL1's intercept SINT unmasked on VP 0; every VP back in VTL0.
 */
function bootedTd(): SimTd {
  const td = new SimTd({ vps: VPS, memory: MEMORY, traceEvents: false })
  const context = (vp: number) => {
    const s = secretContext(vp)
    return { ...contextAt(s.rip, s.rsp), cr3: s.cr3, rflags: 0x202n }
  }
  const boot: [number, GuestAction][] = [
    [0, hypercall(enablePartitionVtl(1))],
    [0, hypercall(enableSelf(context(0)))],
    [0, { kind: 'vtlCall', input: 0n }],
    [0, hypercall(enableVpVtl(1, context(1)))],
    [
      0,
      {
        kind: 'setRegister',
        name: HvRegisterName.VsmPartitionConfig,
        value: 0x1fn,
        targetVtl: undefined,
      },
    ],
    [0, { kind: 'setRegister', name: HvRegisterName.Sint0, value: 0x30n, targetVtl: undefined }],
    [0, { kind: 'vtlReturn', fast: true }],
    [1, { kind: 'vtlCall', input: 0n }],
    [1, { kind: 'vtlReturn', fast: true }],
  ]
  for (const [vp, action] of boot) {
    const { result } = performStep(td, vp, action)
    if (typeof result.status === 'string' && result.status !== 'Success') {
      throw new Error(`isolation boot: ${JSON.stringify(result)}`)
    }
  }
  return td
}

/** Puts `vp` in `vtl` (VtlCall, or EOI + VtlReturn so a pending vector cannot bounce it back). */
function move(td: SimTd, vp: number, vtl: GuestVtl): boolean {
  for (let i = 0; i < 8 && td.engine.vp(vp).exitVtl !== vtl; i++) {
    if (vtl === 1) performStep(td, vp, { kind: 'vtlCall', input: 0n })
    else {
      performStep(td, vp, { kind: 'eoi' })
      performStep(td, vp, { kind: 'vtlReturn', fast: true })
    }
  }
  return td.engine.vp(vp).exitVtl === vtl
}

type Access = 'read' | 'write' | 'execute'

function allowed(flags: number, access: Access, mode: 'kernel' | 'user'): boolean {
  if (access === 'read') return (flags & R) !== 0
  if (access === 'write') return (flags & W) !== 0
  return (flags & (mode === 'user' ? UX : KX)) !== 0
}

/** The guest program's model: VTL0's permissions per page and what each 8-byte slot holds. */
interface Model {
  vtl0: number[]
  memory: Map<bigint, bigint>
}

function accessAction(
  access: Access,
  gpa: bigint,
  value: bigint,
  mode: 'kernel' | 'user'
): GuestAction {
  if (access === 'write') return { kind: 'write', gpa, size: 8, value }
  if (access === 'read') return { kind: 'read', gpa, size: 8 }
  return { kind: 'execute', gpa, size: 8, mode }
}

/** One random command of a guest program, checked against the model. */
function command(td: SimTd, random: Random, model: Model, log: InvariantLog): void {
  const page = random.int(PAGES)
  const gpa = BigInt((BASE_GPN + page) * 4096 + random.int(512) * 8)
  switch (random.int(7)) {
    case 0:
    case 1: {
      // VTL1 takes (or gives back) a page.
      if (!move(td, 0, 1)) return
      const flags = random.pick(MASKS)
      const call = modifyVtlProtectionMask(flags, [BigInt(BASE_GPN + page)])
      const { result } = performStep(td, 0, hypercall(call))
      const valid = validateVtlGpaFlags(flags, true, false)
      const expected = valid ? 'Success' : 'InvalidRegisterValue'
      log.check(
        'VTL1 protects VTL0 pages with valid masks only',
        result.status === expected,
        () => {
          return `mask ${flags}: ${JSON.stringify(result)}`
        }
      )
      if (result.status === 'Success') model.vtl0[page] = flags
      return
    }
    case 2: {
      // VTL1 stores data (a secret where VTL0 may not read).
      const vp = random.pick(VTL1_VPS)
      if (!move(td, vp, 1)) return
      const value = 0x5ec0_da7an + BigInt(random.int(0x10000))
      const { result } = performStep(td, vp, { kind: 'write', gpa, size: 8, value })
      if (log.check('VTL1 writes VTL0 memory', result.ok === true, () => JSON.stringify(result))) {
        model.memory.set(gpa, value)
      }
      return
    }
    case 3:
    case 4: {
      const vp = random.int(VPS)
      if (!move(td, vp, 0)) return
      const access = random.pick<Access>(['read', 'write', 'execute'])
      const mode = random.pick(['kernel', 'user'] as const)
      const value = BigInt(random.int(0x1_0000_0000))
      const { vtl, result } = performStep(td, vp, accessAction(access, gpa, value, mode))
      const flags = model.vtl0[page] ?? ALL
      log.tally(`VTL0 ${access} ${result.ok === true ? 'allowed' : 'denied'}`)
      log.check('the access ran in VTL0', vtl === 0, () => `VP ${vp} acted in VTL${vtl}`)
      log.check(
        'VTL0 may access exactly what VTL1 left it',
        result.ok === allowed(flags, access, mode),
        () => {
          return `VP ${vp} ${access} (${mode}) at 0x${gpa.toString(16)} with VTL0 flags ${flags}: ${JSON.stringify(result)}`
        }
      )
      if (result.ok !== true) {
        log.check('a denied access yields no value', result.value === undefined, () =>
          JSON.stringify(result)
        )
      } else if (access === 'write') {
        model.memory.set(gpa, value)
      } else if (access === 'read') {
        const expected = model.memory.get(gpa) ?? 0n
        log.check(
          'reads return what was last written',
          result.value === `0x${expected.toString(16)}`,
          () => {
            return `read 0x${gpa.toString(16)}: ${String(result.value)}, expected 0x${expected.toString(16)}`
          }
        )
      }
      return
    }
    case 5: {
      // VTL0 reads registers, its own or (refused) VTL1's.
      const vp = random.int(VPS)
      if (!move(td, vp, 0)) return
      const name = random.pick(READABLE_REGISTERS)
      const targetVtl = random.pick([undefined, 0, 1] as const)
      const { vtl, result } = performStep(td, vp, { kind: 'getRegister', name, targetVtl })
      const value = typeof result.value === 'string' ? BigInt(result.value) : undefined
      log.check('the register read ran in VTL0', vtl === 0, () => `VP ${vp} acted in VTL${vtl}`)
      log.check(
        'VTL0 never observes a VTL1-private register value',
        value === undefined || !SECRETS.has(value),
        () => {
          return `VP ${vp} read 0x${name.toString(16)} (target ${String(targetVtl)}): ${JSON.stringify(result)}`
        }
      )
      return
    }
    default: {
      const vtl = random.pick([0, 1] as const)
      performStep(td, random.int(VPS), { kind: 'interrupt', vtl, vector: 0x40 + random.int(0xb0) })
    }
  }
}

export interface IsolationOptions {
  /** Called after each command (tests plant violations through it). */
  tamper?: (td: SimTd, command: number) => void
}

/**
 * `isolation`: random guest programs on a TD where VTL1 is Active on two VPs: VTL1 takes pages
 * from VTL0 and stores data in them, the VPs read, write and execute in VTL0, read registers,
 * take interrupts. VTL0 must never read or write a page VTL1 took from it (and every read returns
 * what was last written), never execute where it may not, and never observe a VTL1-private
 * register value (nor hold one in its shared registers); the memory map equals the Secure EPT.
 */
export function createIsolationCampaign(options: IsolationOptions = {}): Campaign {
  return {
    name: 'isolation',
    unit: 'guest program',
    defaultRuns: 100_000,
    defaultBudgetSeconds: Number.POSITIVE_INFINITY,
    run(seed: number, log: InvariantLog): number {
      const random = createRandom(seed)
      const td = bootedTd()
      const model: Model = { vtl0: Array.from({ length: PAGES }, () => ALL), memory: new Map() }
      const length = 10 + random.int(31)
      for (let i = 0; i < length; i++) {
        command(td, random, model, log)
        options.tamper?.(td, i)
      }
      for (let vp = 0; vp < VPS; vp++) {
        const shared = Object.values(td.engine.vp(vp).shared) as bigint[]
        log.check(
          'VTL0-visible shared registers hold no VTL1-private value',
          !shared.some((v) => SECRETS.has(v)),
          () => {
            return `VP ${vp}'s shared registers hold a VTL1-private value`
          }
        )
      }
      checkMemoryMap(td, log)
      return 1
    },
  }
}
