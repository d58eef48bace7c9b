import { VtlError } from '@vtl/core'

/** `_IOC` direction bits (asm-generic/ioctl.h): none 0, write 1, read 2, read+write 3. */
export const IocDir = { None: 0, Write: 1, Read: 2, ReadWrite: 3 } as const
export type IocDir = (typeof IocDir)[keyof typeof IocDir]

/** The x86_64 Linux request word: `dir << 30 | size << 16 | type << 8 | nr`, unsigned 32-bit. */
export function ioc(dir: IocDir, type: number, nr: number, size: number): number {
  checkField(type, 0xff, 'type')
  checkField(nr, 0xff, 'nr')
  checkField(size, 0x3fff, 'size')
  // `>>> 0` keeps requests ≥ 2^31 positive: libc takes an unsigned long.
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0
}

export const io = (type: number, nr: number): number => ioc(IocDir.None, type, nr, 0)
export const ior = (type: number, nr: number, size: number): number =>
  ioc(IocDir.Read, type, nr, size)
export const iow = (type: number, nr: number, size: number): number =>
  ioc(IocDir.Write, type, nr, size)
export const iowr = (type: number, nr: number, size: number): number =>
  ioc(IocDir.ReadWrite, type, nr, size)

/** The fields of a request word. */
export interface DecodedRequest {
  dir: IocDir
  type: number
  nr: number
  size: number
}

export function decodeRequest(request: number): DecodedRequest {
  if (!Number.isInteger(request) || request < 0 || request > 0xffff_ffff) {
    throw new VtlError('E_FIELD_RANGE', `ioctl request ${request} is not a u32`, {
      field: 'request',
    })
  }
  return {
    dir: ((request >>> 30) & 3) as IocDir,
    size: (request >>> 16) & 0x3fff,
    type: (request >>> 8) & 0xff,
    nr: request & 0xff,
  }
}

/** `0x4010B806` style, as the spec tables write requests. */
export function formatRequest(request: number): string {
  return `0x${(request >>> 0).toString(16).toUpperCase().padStart(8, '0')}`
}

function checkField(value: number, max: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new VtlError('E_FIELD_RANGE', `_IOC ${field} ${value} is outside 0..${max}`, { field })
  }
}
