/**
 * The instructions a VM exit happens on, decoded from their bytes before they execute (as VMX
 * intercepts them): VMCALL, HLT, IN/OUT (and the string forms), CPUID, RDMSR/WRMSR, MOV to CR —
 * plus INVLPG, which only matters to the backing's own translation cache.
 */
export type TrapInstruction =
  | { kind: 'vmcall'; length: number }
  | { kind: 'hlt'; length: number }
  | {
      kind: 'io'
      length: number
      direction: 'in' | 'out'
      size: 1 | 2 | 4
      /** The immediate port; undefined when the port is in DX. */
      port: number | undefined
      string: boolean
      rep: boolean
    }
  | { kind: 'cpuid'; length: number }
  | { kind: 'rdmsr'; length: number }
  | { kind: 'wrmsr'; length: number }
  | { kind: 'mov-to-cr'; length: number; cr: number; gpr: number }
  | { kind: 'invlpg'; length: number }

const LEGACY_PREFIXES = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65])

/** First bytes after which a trap instruction may follow: the fast path skips everything else. */
export const MAY_TRAP = new Uint8Array(256)
for (const b of [
  0xf4, 0x0f, 0xe4, 0xe5, 0xe6, 0xe7, 0xec, 0xed, 0xee, 0xef, 0x6c, 0x6d, 0x6e, 0x6f,
])
  MAY_TRAP[b] = 1
for (const b of LEGACY_PREFIXES) MAY_TRAP[b] = 1
for (let b = 0x40; b <= 0x4f; b++) MAY_TRAP[b] = 1

/** Decodes the instruction whose byte `i` is `byte(i)`; undefined for every other instruction. */
export function decodeTrap(byte: (i: number) => number): TrapInstruction | undefined {
  let i = 0
  let operand16 = false
  let rep = false
  for (; i < 14 && LEGACY_PREFIXES.has(byte(i)); i++) {
    if (byte(i) === 0x66) operand16 = true
    if (byte(i) === 0xf3) rep = true
  }
  let rex = 0
  if ((byte(i) & 0xf0) === 0x40) rex = byte(i++)
  const op = byte(i)
  const wide = operand16 ? 2 : 4
  switch (op) {
    case 0xf4:
      return { kind: 'hlt', length: i + 1 }
    case 0xe4:
    case 0xe5:
    case 0xe6:
    case 0xe7:
      return {
        kind: 'io',
        length: i + 2,
        direction: op < 0xe6 ? 'in' : 'out',
        size: (op & 1) === 0 ? 1 : wide,
        port: byte(i + 1),
        string: false,
        rep: false,
      }
    case 0xec:
    case 0xed:
    case 0xee:
    case 0xef:
      return {
        kind: 'io',
        length: i + 1,
        direction: op < 0xee ? 'in' : 'out',
        size: (op & 1) === 0 ? 1 : wide,
        port: undefined,
        string: false,
        rep: false,
      }
    case 0x6c:
    case 0x6d:
    case 0x6e:
    case 0x6f:
      return {
        kind: 'io',
        length: i + 1,
        direction: op < 0x6e ? 'in' : 'out',
        size: (op & 1) === 0 ? 1 : wide,
        port: undefined,
        string: true,
        rep,
      }
    case 0x0f:
      return decodeTwoByte(byte, i + 1, rex)
    default:
      return undefined
  }
}

function decodeTwoByte(
  byte: (i: number) => number,
  i: number,
  rex: number
): TrapInstruction | undefined {
  switch (byte(i)) {
    case 0x01: {
      const modrm = byte(i + 1)
      if (modrm === 0xc1) return { kind: 'vmcall', length: i + 2 }
      // INVLPG m (0F 01 /7, memory operand): its length does not matter, only that it happens.
      if ((modrm & 0xc0) !== 0xc0 && ((modrm >> 3) & 7) === 7) return { kind: 'invlpg', length: 0 }
      return undefined
    }
    case 0xa2:
      return { kind: 'cpuid', length: i + 1 }
    case 0x32:
      return { kind: 'rdmsr', length: i + 1 }
    case 0x30:
      return { kind: 'wrmsr', length: i + 1 }
    case 0x22: {
      const modrm = byte(i + 1)
      return {
        kind: 'mov-to-cr',
        length: i + 2,
        cr: ((rex & 4) << 1) | ((modrm >> 3) & 7),
        gpr: ((rex & 1) << 3) | (modrm & 7),
      }
    }
    default:
      return undefined
  }
}
