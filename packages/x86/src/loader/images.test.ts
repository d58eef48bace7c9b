import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadImages, type GuestImage } from './images.js'
import { buildLoaderTables } from './start-state.js'

const MIB = 0x10_0000
const KERNEL = join(mkdtempSync(join(tmpdir(), 'vtl-img-')), 'k.bin')
writeFileSync(KERNEL, Buffer.from([1, 2, 3]))

describe('loadImages', () => {
  it('loads bytes and files (relative to the base directory) at their GPAs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtl-img-'))
    writeFileSync(join(dir, 'k.bin'), Buffer.from([1, 2, 3]))
    const ram = Buffer.alloc(4 * MIB)
    const loaded = loadImages(
      ram,
      [
        { gpa: '0x100000', file: 'k.bin' },
        { gpa: 0x200000n, bytes: Buffer.from([0xf4, 0x90]) },
      ],
      dir
    )
    expect(loaded).toEqual([
      { gpa: 0x100000n, bytes: 3 },
      { gpa: 0x200000n, bytes: 2 },
    ])
    expect([...ram.subarray(0x100000, 0x100003)]).toEqual([1, 2, 3])
    expect([...ram.subarray(0x200000, 0x200002)]).toEqual([0xf4, 0x90])
  })

  const nops = (n: number): Buffer => Buffer.alloc(n, 0x90)
  it.each<[string, GuestImage[], string]>([
    ['beyond RAM', [{ gpa: 4 * MIB - 1, bytes: nops(2) }], 'E_NOT_RAM'],
    ["into the loader's top 1 MiB", [{ gpa: 3 * MIB, bytes: nops(1) }], 'E_OVERLAP'],
    [
      'two images overlapping',
      [
        { gpa: MIB, bytes: nops(3) },
        { gpa: MIB + 2, bytes: nops(1) },
      ],
      'E_OVERLAP',
    ],
    [
      'a file overlapping bytes',
      [
        { gpa: MIB, bytes: nops(3) },
        { gpa: MIB + 2, file: KERNEL },
      ],
      'E_OVERLAP',
    ],
    ['a bad gpa', [{ gpa: 'zz', bytes: nops(1) }], 'E_INVALID_VALUE'],
    ['a missing file', [{ gpa: MIB, file: '/nonexistent/k.bin' }], 'E_INVALID_VALUE'],
  ])('refuses an image %s, writing nothing', (_name, images, code) => {
    const ram = Buffer.alloc(4 * MIB)
    expect(() => loadImages(ram, images)).toThrow(expect.objectContaining({ code }))
    expect(ram.every((b) => b === 0)).toBe(true)
  })

  it('names the image whose file cannot be read', () => {
    const images = [
      { gpa: MIB, bytes: Buffer.from([0x90]) },
      { gpa: 2 * MIB, file: '/nonexistent/k.bin' },
    ]
    expect(() => loadImages(Buffer.alloc(4 * MIB), images)).toThrow(
      expect.objectContaining({
        field: 'images[1].file',
        message: 'image 1: file /nonexistent/k.bin cannot be read',
      })
    )
  })

  // Callers without the types (plain JavaScript, the old `hex` field) get a VtlError naming the
  // image, never a TypeError; nothing is written, not even the valid image before it.
  it.each<[string, object, string, string]>([
    ['the old hex field', { gpa: MIB, hex: '90' }, 'images[1]', 'exactly one of file and bytes'],
    ['neither file nor bytes', { gpa: MIB }, 'images[1]', 'exactly one of file and bytes'],
    [
      'both file and bytes',
      { gpa: MIB, file: KERNEL, bytes: Buffer.from([1]) },
      'images[1]',
      'exactly one of file and bytes',
    ],
    ['bytes as an array', { gpa: MIB, bytes: [0x90] }, 'images[1].bytes', 'not a Uint8Array'],
    ['bytes as a string', { gpa: MIB, bytes: 'f490' }, 'images[1].bytes', 'not a Uint8Array'],
    ['a file that is not a string', { gpa: MIB, file: 7 }, 'images[1].file', 'not a path'],
  ])('refuses an untyped image with %s', (_name, image, field, message) => {
    const ram = Buffer.alloc(4 * MIB)
    const images = [{ gpa: 2 * MIB, bytes: Buffer.from([0xf4]) }, image] as GuestImage[]
    expect(() => loadImages(ram, images)).toThrow(
      expect.objectContaining({
        name: 'VtlError',
        code: 'E_INVALID_VALUE',
        field,
        message: expect.stringContaining(`image 1`) as unknown,
      })
    )
    expect(() => loadImages(ram, images)).toThrow(message)
    expect(ram.every((b) => b === 0)).toBe(true)
  })
})

describe('buildLoaderTables', () => {
  it('puts the GDT and an identity map of all RAM (2 MiB pages, RWX) in the top 1 MiB', () => {
    const ram = Buffer.alloc(16 * MIB)
    const layout = buildLoaderTables(ram)
    const base = 15 * MIB
    expect(layout).toEqual({ gdtBase: BigInt(base), gdtLimit: 23, cr3: BigInt(base + 0x1000) })
    expect(ram.readBigUInt64LE(base + 8)).toBe(0x0020_9b00_0000_0000n)
    expect(ram.readBigUInt64LE(base + 16)).toBe(0x00cf_9300_0000_ffffn)
    expect(ram.readBigUInt64LE(base + 0x1000)).toBe(BigInt(base + 0x2000) | 3n)
    expect(ram.readBigUInt64LE(base + 0x2000)).toBe(BigInt(base + 0x3000) | 3n)
    for (let page = 0; page < 8; page++) {
      expect(ram.readBigUInt64LE(base + 0x3000 + page * 8)).toBe(BigInt(page * 2 * MIB) | 0x83n)
    }
    expect(ram.readBigUInt64LE(base + 0x3000 + 8 * 8)).toBe(0n)
  })

  it('refuses RAM that is not whole 2 MiB pages above 1 MiB', () => {
    expect(() => buildLoaderTables(Buffer.alloc(3 * MIB))).toThrow(
      expect.objectContaining({ code: 'E_UNALIGNED' })
    )
  })
})
