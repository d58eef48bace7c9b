import { describe, expect, it } from 'vitest'
import { MemoryContents } from './memory-contents.js'

describe('MemoryContents.over: contents in one contiguous buffer (guest RAM of a CPU)', () => {
  it('reads and writes the buffer itself, across pages', () => {
    const ram = new Uint8Array(3 * 4096)
    const contents = MemoryContents.over(ram)
    contents.writeBytes(0xffen, new Uint8Array([1, 2, 3, 4]))
    expect([...ram.subarray(0xffe, 0x1002)]).toEqual([1, 2, 3, 4])
    ram[0x2000] = 0x5a
    expect(contents.read(0x2000n, 1)).toBe(0x5an)
    contents.write(0x10n, 8, 0x1122_3344_5566_7788n)
    expect(Buffer.from(ram.subarray(0x10, 0x18)).toString('hex')).toBe('8877665544332211')
  })

  it('zeroes pages in place (TDX zeroes a page it accepts) and snapshots only non-zero pages', () => {
    const ram = new Uint8Array(3 * 4096).fill(0xff)
    const contents = MemoryContents.over(ram)
    contents.zero(1, 5) // clamped to RAM
    expect(ram.subarray(0x1000).every((b) => b === 0)).toBe(true)
    expect(ram[0xfff]).toBe(0xff)
    expect(Object.keys(contents.toJSON())).toEqual(['0x0'])
  })
})
