import { VtlError } from '@vtl/core'
import type { FdKind } from '../uapi/fd-kind.js'
import { formatRequest } from '../uapi/ioc.js'
import { requestName, requestNames } from '../uapi/request-table.js'
import { errnoName } from './errno.js'

export type SyscallName =
  | 'open'
  | 'close'
  | 'ioctl'
  | 'mmap'
  | 'munmap'
  | 'sched_setaffinity'
  | 'eventfd'
  | 'read'
  | 'write'

export interface SyscallErrorDetails {
  syscall: SyscallName
  errno: number
  /** The device node, or a description for an anonymous fd (`anon:mshv_vtl`). */
  path: string
}

// Registry-wide markers (the vercel/ai pattern): two installed copies recognise each other's errors.
const syscallMarker = Symbol.for('vtl.error.SyscallError')
const ioctlMarker = Symbol.for('vtl.error.IoctlError')

/** A syscall the kernel refused: the errno and where it happened. Code `E_IOCTL`. */
export class SyscallError extends VtlError {
  readonly [syscallMarker] = true
  readonly syscall: SyscallName
  readonly errno: number
  readonly errnoName: string
  readonly path: string

  constructor(details: SyscallErrorDetails, message?: string) {
    const name = errnoName(details.errno)
    super('E_IOCTL', message ?? `${details.syscall} ${details.path}: ${name} (${details.errno})`)
    this.name = 'SyscallError'
    this.syscall = details.syscall
    this.errno = details.errno
    this.errnoName = name
    this.path = details.path
  }

  static override isInstance(value: unknown): value is SyscallError {
    return VtlError.isInstance(value) && syscallMarker in value
  }
}

export interface IoctlErrorDetails {
  errno: number
  request: number
  path: string
  fdKind?: FdKind
}

/** An ioctl that failed in the kernel: errno, its name, the request (hex and name), the device. */
export class IoctlError extends SyscallError {
  readonly [ioctlMarker] = true
  readonly request: number
  readonly requestHex: string
  /** The request's name (as the fd kind decides), or the hex when no table lists it. */
  readonly requestName: string

  constructor(details: IoctlErrorDetails) {
    const hex = formatRequest(details.request)
    const name =
      requestName(details.request, details.fdKind) ??
      (requestNames(details.request).join('|') || hex)
    super(
      { syscall: 'ioctl', errno: details.errno, path: details.path },
      `ioctl ${name} (${hex}) on ${details.path}: ${errnoName(details.errno)} (${details.errno})`
    )
    this.name = 'IoctlError'
    this.request = details.request >>> 0
    this.requestHex = hex
    this.requestName = name
  }

  static override isInstance(value: unknown): value is IoctlError {
    return VtlError.isInstance(value) && ioctlMarker in value
  }
}
