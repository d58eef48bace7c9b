import { Option } from 'commander'
import { parseIntIn, parseU64 } from './parse.js'

// `vtl guest <action>`: each command is one scenario-format step action. A row names the command,
// the action key of the step, its flags and how the parsed flags become the action's body; the
// daemon's steps route performs it. A new action is one more row.

/** Parsed flags of one guest command (commander's camelCase names). */
export type GuestFlags = Readonly<Record<string, unknown>>

export interface GuestAction {
  /** `vtl guest <command>`. */
  command: string
  /** The scenario-format action key. */
  key: string
  description: string
  /** The action's own flags (the common `--td`, `--vp`, `--vtl`, `--json` are added to each). */
  options: () => Option[]
  /** The action's body in the step (bigints go on the wire as `0x` hex). */
  body: (flags: GuestFlags) => Record<string, unknown>
  example: string
}

const gpa = (): Option =>
  new Option('--gpa <gpa>', 'guest physical address, decimal or 0x hex')
    .argParser(parseU64)
    .makeOptionMandatory()
const size = (): Option =>
  new Option('--size <bytes>', 'access size in bytes').choices(['1', '2', '4', '8']).default('8')

/** Copies the flags that are set, under the action's field names. */
function fields(flags: GuestFlags, names: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [flag, field] of Object.entries(names)) {
    const v = flags[flag]
    if (v !== undefined) out[field] = flag === 'size' ? Number(v) : v
  }
  return out
}

export const GUEST_ACTIONS: readonly GuestAction[] = [
  {
    command: 'vtl-call',
    key: 'vtlCall',
    description: 'HvCallVtlCall: the VP enters the next higher VTL (#UD when it cannot)',
    options: () => [
      new Option('--rax <value>', 'RAX at the VMCALL, the call’s input (must be 0)')
        .argParser(parseU64)
        .default(0n, '0'),
    ],
    body: (f) => ({ input: f.rax }),
    example: 'vtl guest vtl-call --td demo --vp 0',
  },
  {
    command: 'vtl-return',
    key: 'vtlReturn',
    description: 'HvCallVtlReturn: the VP returns to the VTL below (#UD when it cannot)',
    options: () => [new Option('--fast', 'fast return (RAX bit 0): skip restoring RAX and RCX')],
    body: (f) => ({ fast: f.fast === true }),
    example: 'vtl guest vtl-return --td demo --vp 0',
  },
  {
    command: 'read',
    key: 'read',
    description: 'the active VTL reads guest memory (a protected page: an intercept to VTL1)',
    options: () => [gpa(), size()],
    body: (f) => fields(f, { gpa: 'gpa', size: 'size' }),
    example: 'vtl guest read --td demo --vp 0 --gpa 0x10000 --size 4',
  },
  {
    command: 'write',
    key: 'write',
    description: 'the active VTL writes guest memory (a protected page: an intercept to VTL1)',
    options: () => [
      gpa(),
      size(),
      new Option('--value <u64>', 'the value written, decimal or 0x hex')
        .argParser(parseU64)
        .makeOptionMandatory(),
    ],
    body: (f) => fields(f, { gpa: 'gpa', size: 'size', value: 'value' }),
    example: 'vtl guest write --td demo --vp 0 --gpa 0x10000 --value 0x41',
  },
  {
    command: 'execute',
    key: 'execute',
    description: 'the active VTL fetches an instruction (kernel or user mode, as MBEC tells apart)',
    options: () => [
      gpa(),
      new Option('--mode <mode>', 'privilege of the fetch').choices(['kernel', 'user']),
    ],
    body: (f) => fields(f, { gpa: 'gpa', mode: 'mode' }),
    example: 'vtl guest execute --td demo --vp 0 --gpa 0x10000 --mode user',
  },
  {
    command: 'interrupt',
    key: 'interrupt',
    description: 'assert a fixed interrupt for one VTL’s APIC on the VP',
    options: () => [
      new Option('--vector <n>', 'interrupt vector, 16..255')
        .argParser(parseIntIn(16, 255))
        .makeOptionMandatory(),
      new Option('--target-vtl <vtl>', 'the VTL whose APIC gets it')
        .choices(['0', '1'])
        .makeOptionMandatory(),
    ],
    body: (f) => ({ vector: f.vector, vtl: Number(f.targetVtl) }),
    example: 'vtl guest interrupt --td demo --vp 0 --vector 0x30 --target-vtl 1',
  },
  {
    command: 'eoi',
    key: 'eoi',
    description: 'end of interrupt for the highest in-service vector of the active VTL’s APIC',
    options: () => [],
    body: () => ({}),
    example: 'vtl guest eoi --td demo --vp 0',
  },
  {
    command: 'io',
    key: 'io',
    description:
      'the active VTL executes IN (default) or OUT on an I/O port (a port VTL1 intercepts: a message to VTL1)',
    options: () => [
      new Option('--port <port>', 'I/O port, 0..0xffff')
        .argParser(parseIntIn(0, 0xffff))
        .makeOptionMandatory(),
      new Option('--size <bytes>', 'access size in bytes').choices(['1', '2', '4']).default('1'),
      new Option('--out <value>', 'OUT this value (without it: IN)').argParser(parseU64),
    ],
    body: (f) =>
      f.out === undefined
        ? { port: f.port, size: Number(f.size) }
        : { port: f.port, size: Number(f.size), write: true, value: f.out },
    example: 'vtl guest io --td demo --vp 0 --port 0x64 --size 2 --out 0xbeef',
  },
  {
    command: 'write-cr',
    key: 'writeCr',
    description:
      'MOV to CR0 or CR4 by the active VTL (#GP for a value the CPU refuses; a masked bit VTL1 watches: a message to VTL1)',
    options: () => [
      new Option('--cr <n>', 'the control register').choices(['0', '4']).makeOptionMandatory(),
      new Option('--value <u64>', 'the value written, decimal or 0x hex')
        .argParser(parseU64)
        .makeOptionMandatory(),
    ],
    body: (f) => ({ cr: Number(f.cr), value: f.value }),
    example: 'vtl guest write-cr --td demo --vp 0 --cr 0 --value 0x80000033',
  },
  {
    command: 'msr',
    key: 'msr',
    description:
      'RDMSR, or WRMSR with --value, by the active VTL (an MSR write VTL1 watches: a message to VTL1)',
    options: () => [
      new Option(
        '--msr <msr>',
        'MSR number (decimal or 0x hex) or architectural name (Lstar, Efer, …)'
      ).makeOptionMandatory(),
      new Option('--value <u64>', 'WRMSR this value (without it: RDMSR)').argParser(parseU64),
    ],
    body: (f) => fields(f, { msr: 'msr', value: 'value' }),
    example: 'vtl guest msr --td demo --vp 0 --msr Lstar --value 0xfffff80000001000',
  },
  {
    command: 'run',
    key: 'run',
    description: 'let the VP handle its pending wakes (queued contexts, interrupts)',
    options: () => [],
    body: () => ({}),
    example: 'vtl guest run --td demo --vp 1',
  },
]
