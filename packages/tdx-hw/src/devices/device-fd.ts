import { VtlError } from '@vtl/core'
import { IoctlError, SyscallError } from '../sys/syscall-error.js'
import { OpenFlags, type IoctlArg, type Syscalls, type UserMemory } from '../sys/syscalls.js'
import type { FdKind } from '../uapi/fd-kind.js'
import {
  describeRequest,
  isKnownRequest,
  requestFromName,
  requestInfo,
} from '../uapi/request-table.js'

/**
 * An open fd of a known kind. Every ioctl goes through `ioctl`, which refuses a closed fd before
 * the syscall and turns `-errno` into an `IoctlError` naming the request (as this fd kind decides
 * it) and the device.
 */
export class DeviceFd {
  readonly sys: Syscalls
  readonly path: string
  readonly kind: FdKind
  private handle: number | undefined

  constructor(sys: Syscalls, fd: number, path: string, kind: FdKind) {
    this.sys = sys
    this.handle = fd
    this.path = path
    this.kind = kind
  }

  get fd(): number {
    if (this.handle === undefined) {
      throw new VtlError('E_INVALID_VALUE', `${this.path} is closed`, { field: 'fd' })
    }
    return this.handle
  }

  get closed(): boolean {
    return this.handle === undefined
  }

  /**
   * The result (≥ 0) of the ioctl; a kernel refusal throws `IoctlError`. A request the tables
   * know is checked first: it must belong to this fd kind and a struct argument must have its
   * size. Numbers the tables do not know go to the kernel unchecked.
   */
  ioctl(request: number, arg: IoctlArg = 0): number {
    checkArgument(request, arg, this.kind, this.path)
    const result = this.sys.ioctl(this.fd, request, arg)
    if (result < 0) throw this.error(request, -result)
    return result
  }

  /** The ioctl by its table name (`MSHV_CHECK_EXTENSION`); an unknown name is `E_UNKNOWN_NAME`. */
  ioctlByName(name: string, arg: IoctlArg = 0): number {
    return this.ioctl(requestFromName(name), arg)
  }

  error(request: number, errno: number): IoctlError {
    return new IoctlError({ errno, request, path: this.path, fdKind: this.kind })
  }

  /** Idempotent; a failed close still forgets the fd (Linux releases it either way). */
  close(): void {
    const fd = this.handle
    if (fd === undefined) return
    this.handle = undefined
    this.onClose()
    const result = this.sys.close(fd)
    if (result < 0) throw new SyscallError({ syscall: 'close', errno: -result, path: this.path })
  }

  /** Releases what depends on the fd (mappings) before it is closed. */
  protected onClose(): void {
    // Nothing by default.
  }
}

/** Refuses, before the syscall, a known request on the wrong fd kind or with a wrong-size struct. */
export function checkArgument(request: number, arg: IoctlArg, kind: FdKind, path: string): void {
  const info = requestInfo(request, kind)
  if (info === undefined) {
    if (!isKnownRequest(request)) return
    throw new VtlError(
      'E_INVALID_VALUE',
      `${describeRequest(request)} is not a request of ${path} (${kind})`,
      { field: 'request' }
    )
  }
  if (info.argSize !== undefined && arg instanceof Uint8Array && arg.byteLength !== info.argSize) {
    throw new VtlError(
      'E_DECODE_LENGTH',
      `${info.name} takes ${info.argSize} bytes, got ${arg.byteLength}`,
      { field: info.name }
    )
  }
}

/** `open(path, O_RDWR | O_CLOEXEC)`; a refusal throws `SyscallError` with the path. */
export function openFd(sys: Syscalls, path: string): number {
  const fd = sys.open(path, OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC)
  if (fd < 0) throw new SyscallError({ syscall: 'open', errno: -fd, path })
  return fd
}

/** Runs `fn` with zeroed user memory of `size` bytes, freed afterwards whatever happens. */
export function withMemory<T>(sys: Syscalls, size: number, fn: (memory: UserMemory) => T): T {
  const memory = sys.alloc(size)
  try {
    return fn(memory)
  } finally {
    sys.free(memory)
  }
}

/**
 * Opens several resources as one: if a later step throws, everything opened so far is released
 * in reverse order and the first error is rethrown, so nothing stays open after a failure.
 */
export class Cleanup {
  private readonly steps: (() => unknown)[] = []

  add(release: () => unknown): void {
    this.steps.push(release)
  }

  async run(): Promise<void> {
    while (this.steps.length > 0) {
      const step = this.steps.pop()
      try {
        await step?.()
      } catch {
        // Releasing after a failure: the first error is the one worth reporting.
      }
    }
  }
}
