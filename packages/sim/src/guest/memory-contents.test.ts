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

  it('makes no page views up front: a 1 GiB buffer costs one object until pages are used', () => {
    const ram = new Uint8Array(1 << 30)
    const contents = MemoryContents.over(ram)
    expect((contents as unknown as { pages: Map<number, Uint8Array> }).pages.size).toBe(0)
    ram[0x3fff_f000] = 7
    expect(contents.readBytes(0x3fff_f000n, 2)).toEqual(new Uint8Array([7, 0]))
    expect((contents as unknown as { pages: Map<number, Uint8Array> }).pages.size).toBe(1)
  })

  it('a save reads every page and keeps no view of them', () => {
    const ram = new Uint8Array(16 << 20)
    const contents = MemoryContents.over(ram)
    ram[0xff_f000] = 7
    expect(contents.toJSON()).toEqual({ '0xfff': '07' + '00'.repeat(4095) })
    expect((contents as unknown as { pages: Map<number, Uint8Array> }).pages.size).toBe(0)
  })

  it('keeps pages beyond the buffer beside it, and a short last page reads zero past its end', () => {
    const ram = new Uint8Array(4096 + 16).fill(1)
    const contents = MemoryContents.over(ram)
    expect(contents.readBytes(0x1008n, 16)).toEqual(
      new Uint8Array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    )
    contents.writeBytes(0x3000n, new Uint8Array([9]))
    expect(contents.readBytes(0x3000n, 1)).toEqual(new Uint8Array([9]))
    expect(Object.keys(contents.toJSON())).toEqual(['0x0', '0x1', '0x3'])
  })
})

describe('MemoryContents kept sparsely', () => {
  it('reads zero where nothing was written, within a page and across pages', () => {
    const contents = new MemoryContents()
    contents.writeBytes(0x1ffcn, new Uint8Array([1, 2, 3, 4, 5, 6]))
    expect(contents.readBytes(0x1ffan, 4)).toEqual(new Uint8Array([0, 0, 1, 2]))
    expect(contents.readBytes(0x2000n, 4)).toEqual(new Uint8Array([5, 6, 0, 0]))
    expect(contents.readBytes(0x5000n, 3)).toEqual(new Uint8Array(3))
    expect(Object.keys(contents.toJSON())).toEqual(['0x1', '0x2'])
  })
})
