import {
  INITIAL_VP_CONTEXT_X64_SIZE,
  decodeInitialVpContextX64,
  type InitialVpContextX64,
} from '../hv/initial-vp-context.js'
import { Cr0 } from '../x86/register-bits.js'
import type { PrivateRegisters } from './registers.js'
import { sharedSegment, sharedTable } from './shared-segments.js'

/** The registers an initial context replaces (§4.4); everything else keeps its value. */
export type ContextRegisters = Pick<
  PrivateRegisters,
  | 'rip'
  | 'rsp'
  | 'rflags'
  | 'cs'
  | 'ds'
  | 'es'
  | 'fs'
  | 'gs'
  | 'ss'
  | 'tr'
  | 'ldtr'
  | 'idtr'
  | 'gdtr'
  | 'efer'
  | 'cr0'
  | 'cr3'
  | 'cr4'
  | 'pat'
>

/** One distinct 224-byte context: its bytes, its frozen decoding and the registers it writes. */
interface Entry {
  /** A copy of the bytes, as 56 words (compared a word at a time). */
  readonly words: Uint32Array
  readonly context: Readonly<InitialVpContextX64>
  registers: Readonly<ContextRegisters> | undefined
}

/**
 * The contexts decoded last, most recent first. A boot starts every AP with the same context or
 * a few (EnableVpVtl and StartVirtualProcessor each decode it once when called and once when the
 * target applies it): 4,000 decodings of a 1024-VP boot become a comparison each.
 */
export const SHARED_CONTEXTS_KEPT = 8
const entries: Entry[] = []
const WORDS = INITIAL_VP_CONTEXT_X64_SIZE / 4

/** `bytes` as words (a view when aligned, else a copy); undefined when it is not 224 bytes. */
function wordsOf(bytes: Uint8Array): Uint32Array | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength !== INITIAL_VP_CONTEXT_X64_SIZE) {
    return undefined
  }
  return (bytes.byteOffset & 3) === 0
    ? new Uint32Array(bytes.buffer, bytes.byteOffset, WORDS)
    : new Uint32Array(bytes.slice().buffer)
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < WORDS; i++) if (a[i] !== b[i]) return false
  return true
}

function entryFor(bytes: Uint8Array, words = wordsOf(bytes)): Entry {
  if (words !== undefined) {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Entry
      if (!sameWords(entry.words, words)) continue
      if (i !== 0) {
        entries.splice(i, 1)
        entries.unshift(entry)
      }
      return entry
    }
  }
  // Decoding checks the length, so a wrong-sized buffer throws here as the codec does.
  const decoded = decodeInitialVpContextX64(bytes)
  decoded.cs = Object.freeze(decoded.cs)
  decoded.ds = Object.freeze(decoded.ds)
  decoded.es = Object.freeze(decoded.es)
  decoded.fs = Object.freeze(decoded.fs)
  decoded.gs = Object.freeze(decoded.gs)
  decoded.ss = Object.freeze(decoded.ss)
  decoded.tr = Object.freeze(decoded.tr)
  decoded.ldtr = Object.freeze(decoded.ldtr)
  decoded.idtr = Object.freeze(decoded.idtr)
  decoded.gdtr = Object.freeze(decoded.gdtr)
  const entry: Entry = {
    words: new Uint32Array(bytes.slice().buffer),
    context: Object.freeze(decoded),
    registers: undefined,
  }
  entries.unshift(entry)
  if (entries.length > SHARED_CONTEXTS_KEPT) entries.pop()
  return entry
}

/**
 * `decodeInitialVpContextX64(bytes)`, frozen (segments and tables too) and shared by every call
 * with the same 224 bytes. For readers only: the hypercall handlers check a context, they never
 * change it.
 */
export function sharedInitialContext(bytes: Uint8Array): Readonly<InitialVpContextX64> {
  return entryFor(bytes).context
}

/**
 * The register write of an initial context (§4.4; CR0.ET forced, §13.11), frozen and shared by
 * every call with the same bytes: segments and tables are the shared ones (`sharedSegment`).
 * `words`: a Uint32Array over the same 224 bytes, when the caller keeps one.
 */
export function sharedContextRegisters(
  bytes: Uint8Array,
  words?: Uint32Array
): Readonly<ContextRegisters> {
  const entry = entryFor(bytes, words)
  let registers = entry.registers
  if (registers === undefined) {
    const context = entry.context
    registers = Object.freeze({
      rip: context.rip,
      rsp: context.rsp,
      rflags: context.rflags,
      cs: sharedSegment(context.cs),
      ds: sharedSegment(context.ds),
      es: sharedSegment(context.es),
      fs: sharedSegment(context.fs),
      gs: sharedSegment(context.gs),
      ss: sharedSegment(context.ss),
      tr: sharedSegment(context.tr),
      ldtr: sharedSegment(context.ldtr),
      idtr: sharedTable(context.idtr),
      gdtr: sharedTable(context.gdtr),
      efer: context.efer,
      // CR0.ET: `write_cr0` forces it on whatever the guest gives (§13.11).
      cr0: context.cr0 | Cr0.ET,
      cr3: context.cr3,
      cr4: context.cr4,
      pat: context.msrCrPat,
    })
    entry.registers = registers
  }
  return registers
}
