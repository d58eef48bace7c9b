import { describe, expect, it } from 'vitest'
import { HvMapGpaFlags } from './map-gpa-flags.js'
import { formatPermissionText, parsePermissionText } from './map-gpa-text.js'

const { Readable: R, Writable: W, KernelExecutable: KX, UserExecutable: UX } = HvMapGpaFlags

describe('parsePermissionText', () => {
  it.each([
    ['rwxu', R | W | KX | UX],
    ['rwx', R | W | KX],
    ['r-', R],
    ['r---', R],
    ['-w', W],
    ['u', UX],
    ['xr', R | KX],
    ['----', 0],
    ['-', 0],
    ['none', 0],
  ])('%j → %i', (text, flags) => {
    expect(parsePermissionText(text)).toBe(flags)
  })

  it.each([
    ['', 'empty'],
    ['rr', 'duplicate letter'],
    ['r-r', 'duplicate letter'],
    ['rwxuu', 'longer than four'],
    ['-----', 'longer than four'],
    ['R', 'upper case'],
    ['rwk', 'unknown letter'],
    ['read', 'word'],
    ['x+', 'symbol'],
    ['None', 'not exactly none'],
    ['0x3', 'number'],
  ])('refuses %j (%s)', (text) => {
    expect(parsePermissionText(text)).toBeUndefined()
  })
})

describe('formatPermissionText', () => {
  it.each([
    [R | W | KX | UX, 'rwxu'],
    [R | KX, 'r-x-'],
    [W, '-w--'],
    [0, '----'],
    [undefined, 'none'],
    [R | HvMapGpaFlags.SupervisorShadowStack | HvMapGpaFlags.Adjustable, 'r---+0x8010'],
    [0x8000_0000, '----+0x80000000'],
  ])('%s → %j', (flags, text) => {
    expect(formatPermissionText(flags)).toBe(text)
  })

  it.each([0, 1, 3, 5, 0xf])('round-trips %i', (flags) => {
    expect(parsePermissionText(formatPermissionText(flags))).toBe(flags)
  })
})
