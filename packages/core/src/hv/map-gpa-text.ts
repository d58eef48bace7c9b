import { HvMapGpaFlags } from './map-gpa-flags.js'

// Page permissions as short text (vtld's wire, the CLI): `rwxu` positions (R, W, KX, UX), `-` for
// a bit that is clear. Input also takes `none` and shorter forms (`rwx`, `r-`); other
// HvMapGpaFlags bits are not letters, so formatting shows them as `+0x..`.

const LETTERS: readonly [string, number][] = [
  ['r', HvMapGpaFlags.Readable],
  ['w', HvMapGpaFlags.Writable],
  ['x', HvMapGpaFlags.KernelExecutable],
  ['u', HvMapGpaFlags.UserExecutable],
]
const RWXU = LETTERS.reduce((all, [, bit]) => all | bit, 0)

/** `rwx`-style text → HvMapGpaFlags, or `undefined` when it is not such text. */
export function parsePermissionText(text: string): number | undefined {
  if (text === 'none') return 0
  if (!/^[rwxu-]{1,4}$/.test(text)) return undefined
  let flags = 0
  for (const char of text) {
    if (char === '-') continue
    const bit = LETTERS.find(([letter]) => letter === char)?.[1] ?? 0
    if ((flags & bit) !== 0) return undefined
    flags |= bit
  }
  return flags
}

/** HvMapGpaFlags → `rwxu` text (`r---`); `none` when the VTL has no VALID attributes. */
export function formatPermissionText(flags: number | undefined): string {
  if (flags === undefined) return 'none'
  const text = LETTERS.map(([letter, bit]) => ((flags & bit) !== 0 ? letter : '-')).join('')
  const rest = (flags & ~RWXU) >>> 0
  return rest === 0 ? text : `${text}+0x${rest.toString(16)}`
}
