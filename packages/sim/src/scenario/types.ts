import type { GuestVtl, InitialVpContextX64, Vtl } from '@vtl/core'
import type { HypercallPages } from '../guest/hypercall-pages.js'

/** A parsed, validated scenario (scenario-format.md). 64-bit values are bigints here. */
export interface Scenario {
  version: 1
  name: string
  /** The file it came from (for messages); `<inline>` for text without a file. */
  fileName: string
  seed: number
  partition: ScenarioPartition
  steps: ScenarioStep[]
}

export interface ScenarioPartition {
  vps: number
  /** Guest RAM in bytes, from GPA 0. */
  memory: bigint
  gpaWidth: 48 | 52
  mbecCapable: boolean
  /** VPs running in VTL0 at start; `undefined` means all. */
  startedVps: number[] | undefined
  /** The guest's hypercall input and output pages; `undefined` means GPA 0x0 and 0x1000. */
  hypercallPages?: HypercallPages | undefined
  /** What runs in the L2 VMs: the scripted guest (steps are its actions) or real x86 code. */
  cpu: 'scripted' | 'x86'
  /** `cpu: x86`: what is loaded into guest RAM before the first step. */
  images: ScenarioImage[]
  /** `cpu: x86`: where VTL0 of every started VP begins. */
  entry: { rip: bigint; rsp: bigint } | undefined
}

/** One flat image: bytes written inline, or a file (absolute, or resolved against the scenario's folder). */
export type ScenarioImage = { gpa: bigint } & ({ file: string } | { hex: Uint8Array })

export interface ScenarioStep {
  vp: number
  /** Assert the VP's active VTL before acting. */
  vtl: GuestVtl | undefined
  action: GuestAction
  /** The result fields that must match, as written in the file. */
  expect: Readonly<Record<string, unknown>> | undefined
}

/** A typed hypercall: the TLFS name and its input already encoded as the guest's input page. */
export interface TypedHypercall {
  kind: 'typed'
  name: string
  code: number
  input: Uint8Array
  repCount: number
  /** The call is a rep call (its result carries `repsCompleted`). */
  rep: boolean
  /** The call has output bytes (`output` in the result). */
  hasOutput: boolean
}

/** A raw hypercall: the control-word fields and the input page bytes exactly as written. */
export interface RawHypercall {
  kind: 'raw'
  code: number
  input: Uint8Array
  repStart: number
  repCount: number
  varHeaderSize: number
  fast: boolean
}

export type GuestAction =
  | { kind: 'hypercall'; call: TypedHypercall | RawHypercall }
  | { kind: 'vtlCall'; input: bigint }
  | { kind: 'vtlReturn'; fast: boolean }
  | { kind: 'read'; gpa: bigint; size: AccessSize }
  | { kind: 'write'; gpa: bigint; size: AccessSize; value: bigint }
  | { kind: 'execute'; gpa: bigint; size: AccessSize; mode: 'kernel' | 'user' }
  | { kind: 'setRegister'; name: number; value: bigint; targetVtl: Vtl | undefined }
  | { kind: 'getRegister'; name: number; targetVtl: Vtl | undefined }
  | { kind: 'interrupt'; vector: number; vtl: GuestVtl }
  /** Scripted: handle wakes. `cpu: x86`: execute guest code for at most `maxInstructions`. */
  | { kind: 'run'; maxInstructions?: number }
  | { kind: 'eoi' }
  | { kind: 'fault'; at: string; status: string; after: number }
  | { kind: 'io'; port: number; size: IoSize; write: boolean; value: bigint }
  | { kind: 'writeCr'; cr: 0 | 4; value: bigint }
  | { kind: 'msr'; msr: number; value: bigint | undefined }

/** The instruction budget of an x86 `run` step that names none. */
export const DEFAULT_MAX_INSTRUCTIONS = 10_000_000

/** IN/OUT operand sizes. */
export type IoSize = 1 | 2 | 4

export type AccessSize = 1 | 2 | 4 | 8

export type ActionKind = GuestAction['kind']

/** The action keys a step may carry (exactly one of them). */
export const ACTION_KEYS: readonly ActionKind[] = [
  'hypercall',
  'vtlCall',
  'vtlReturn',
  'read',
  'write',
  'execute',
  'setRegister',
  'getRegister',
  'interrupt',
  'run',
  'eoi',
  'fault',
  'io',
  'writeCr',
  'msr',
]

/** What a step produced, in the report's wire form (64-bit values as `0x` strings). */
export type StepResult = Record<string, unknown> & { activeVtl?: number }

/** The initial context type a typed EnableVpVtl / StartVirtualProcessor carries. */
export type VpContext = InitialVpContextX64
