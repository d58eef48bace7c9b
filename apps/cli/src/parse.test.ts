import { InvalidArgumentError } from 'commander'
import { describe, expect, it } from 'vitest'
import {
  parseByteSize,
  parseCount,
  parseGuestVtl,
  parseHexBytes,
  parseIntIn,
  parseMapGpaFlags,
  parsePageGpa,
  parsePageSize,
  parseTdName,
  parseU64,
} from './parse.js'

describe('option parsers', () => {
  it('keeps 64-bit values exact as bigints, hex or decimal', () => {
    expect(parseU64('0xffffffffffffffff')).toBe(0xffff_ffff_ffff_ffffn)
    expect(parseU64('18446744073709551615')).toBe(0xffff_ffff_ffff_ffffn)
    expect(parseU64('0x1F')).toBe(31n)
    expect(() => parseU64('0x10000000000000000')).toThrow(InvalidArgumentError)
    expect(() => parseU64('-1')).toThrow(InvalidArgumentError)
    expect(() => parseU64('12k')).toThrow(InvalidArgumentError)
  })

  it('reads sizes with units', () => {
    expect(parseByteSize('64MiB')).toBe(64n << 20n)
    expect(parseByteSize('1 GiB')).toBe(1n << 30n)
    expect(parseByteSize('0x1000')).toBe(4096n)
    expect(() => parseByteSize('64MB')).toThrow(InvalidArgumentError)
  })

  it('reads counts, VTLs, flags and hex bytes', () => {
    expect(parseCount('0x10')).toBe(16)
    expect(parseGuestVtl('1')).toBe(1)
    expect(() => parseGuestVtl('2')).toThrow(InvalidArgumentError)
    expect(parseMapGpaFlags('R,W')).toBe(3)
    expect(parseMapGpaFlags('Readable,KX,UX')).toBe(0xd)
    expect(parseMapGpaFlags('none')).toBe(0)
    expect(parseMapGpaFlags('0xf')).toBe(0xf)
    expect(() => parseMapGpaFlags('RWX')).toThrow(InvalidArgumentError)
    expect([...parseHexBytes('0a FF\n01')]).toEqual([0x0a, 0xff, 0x01])
    expect(() => parseHexBytes('0x0a')).toThrow(InvalidArgumentError)
    expect(() => parseHexBytes('abc')).toThrow(InvalidArgumentError)
  })

  it('takes permissions in the notation vtl prints (rwxu) as well as the TLFS names', () => {
    expect(parseMapGpaFlags('rw')).toBe(3)
    expect(parseMapGpaFlags('r---')).toBe(1)
    expect(parseMapGpaFlags('rwxu')).toBe(0xf)
    expect(parseMapGpaFlags('r-x-')).toBe(0x5)
    expect(parseMapGpaFlags('R,W,KX,UX')).toBe(0xf)
    expect(() => parseMapGpaFlags('rr')).toThrow(/rwxu letters/)
  })

  it('names ranges: integers, pages, sizes, TD names', () => {
    const vps = parseIntIn(1, 1024)
    expect(vps('0x400')).toBe(1024)
    expect(() => vps('1025')).toThrow('expected an integer from 1 to 1024')
    expect(() => vps('0')).toThrow('expected an integer from 1 to 1024')
    expect(parsePageGpa('0x10000')).toBe(0x10000n)
    expect(() => parsePageGpa('0x10001')).toThrow('e.g. 0x10000')
    expect(parsePageSize('8KiB')).toBe(8192n)
    expect(() => parsePageSize('0')).toThrow('non-zero multiple of 4 KiB')
    expect(parseTdName('demo')).toBe('demo')
    expect(() => parseTdName('')).toThrow('expected 1 to 64 characters, got 0')
    expect(() => parseTdName('x'.repeat(65))).toThrow('got 65')
  })
})
