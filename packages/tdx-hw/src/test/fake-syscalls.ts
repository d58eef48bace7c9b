import type { IoctlArg, PinnedThread, Syscalls, UserMemory } from '../sys/syscalls.js'

/** One ioctl as the fake kernel saw it; `bytes` is a copy of a struct argument at call time. */
export interface RecordedIoctl {
  fd: number
  path: string
  request: number
  /** The integer argument, or undefined for a struct. */
  value?: number | bigint
  bytes?: Uint8Array
  /** The CPU of the pinned thread that issued it; undefined for the calling thread. */
  cpu?: number
}

export interface IoctlContext {
  fd: number
  path: string
  request: number
  arg: IoctlArg
  cpu: number | undefined
  fake: FakeSyscalls
}

/** The fake kernel's answer: a result (≥ 0 or -errno); undefined means 0. */
export type IoctlHandler = (call: IoctlContext) => number | undefined

const EBADF = 9
const EINVAL = 22
const ENOENT = 2

/**
 * An in-memory stand-in for the syscall seam, for the mshv_vtl paths no host here has. It keeps
 * every fd, mapping, allocation and thread it hands out, so a test can assert that nothing is left
 * behind, and records each ioctl's request and argument bytes. `@vtl/sim`'s kernel replaces it.
 */
export class FakeSyscalls implements Syscalls {
  readonly ioctls: RecordedIoctl[] = []
  /** Every syscall by name, in order. */
  readonly trace: string[] = []
  readonly fds = new Map<number, string>()
  readonly mappings = new Map<bigint, { fd: number; offset: bigint; memory: UserMemory }>()
  readonly allocations = new Map<bigint, UserMemory>()
  readonly threads = new Set<number>()
  /** Device nodes that exist; the value is the errno open fails with (0 = opens). */
  readonly nodes = new Map<string, number>()
  /** Backing of each mmapped page, by `path@offset`, shared by every mapping of it. */
  readonly pages = new Map<string, Uint8Array>()
  readonly eventfdWrites: { fd: number; value: bigint }[] = []
  onIoctl: IoctlHandler = () => 0
  failMmap = 0
  failSpawn = 0
  private nextFd = 10
  private nextAddress = 0x7f00_0000_0000n

  constructor(nodes: readonly string[] = []) {
    for (const node of nodes) this.nodes.set(node, 0)
  }

  /** A new fd the fake kernel hands out (CREATE_VTL, CREATE_VM, …). */
  newFd(path: string): number {
    const fd = this.nextFd++
    this.fds.set(fd, path)
    return fd
  }

  /** The bytes behind a user address (an allocation or a mapping), as the kernel would read. */
  resolve(address: bigint, length: number): Uint8Array {
    for (const memory of [
      ...this.allocations.values(),
      ...[...this.mappings.values()].map((m) => m.memory),
    ]) {
      const offset = Number(address - memory.address)
      if (offset >= 0 && offset + length <= memory.bytes.byteLength) {
        return memory.bytes.subarray(offset, offset + length)
      }
    }
    throw new Error(`fake kernel: bad user address 0x${address.toString(16)} (${length} B)`)
  }

  page(path: string, offset: bigint): Uint8Array {
    const key = `${path}@${offset}`
    let page = this.pages.get(key)
    if (page === undefined) {
      page = new Uint8Array(4096)
      this.pages.set(key, page)
    }
    return page
  }

  /** Whether everything handed out has been given back. */
  get leaks(): string[] {
    const out: string[] = []
    for (const [fd, path] of this.fds) out.push(`fd ${fd} (${path})`)
    for (const address of this.mappings.keys()) out.push(`mapping 0x${address.toString(16)}`)
    for (const address of this.allocations.keys()) out.push(`allocation 0x${address.toString(16)}`)
    for (const cpu of this.threads) out.push(`thread on cpu ${cpu}`)
    return out
  }

  requests(): number[] {
    return this.ioctls.map((call) => call.request)
  }

  open(path: string): number {
    this.trace.push(`open ${path}`)
    const errno = this.nodes.get(path)
    if (errno === undefined) return -ENOENT
    if (errno !== 0) return -errno
    return this.newFd(path)
  }

  close(fd: number): number {
    this.trace.push(`close ${fd}`)
    return this.fds.delete(fd) ? 0 : -EBADF
  }

  ioctl(fd: number, request: number, arg: IoctlArg): number {
    return this.dispatch(fd, request, arg, undefined)
  }

  ioctlAsync(fd: number, request: number, arg: number | bigint): Promise<number> {
    return Promise.resolve(this.dispatch(fd, request, arg, undefined))
  }

  spawnPinnedThread(cpu: number): Promise<PinnedThread | number> {
    this.trace.push(`spawn ${cpu}`)
    if (this.failSpawn !== 0) return Promise.resolve(-this.failSpawn)
    this.threads.add(cpu)
    return Promise.resolve({
      cpu,
      ioctl: (fd: number, request: number, arg: IoctlArg) =>
        Promise.resolve(this.dispatch(fd, request, arg, cpu)),
      close: () => {
        this.threads.delete(cpu)
        return Promise.resolve()
      },
    })
  }

  mmap(fd: number, length: number, _prot: number, _flags: number, offset: bigint) {
    this.trace.push(`mmap ${fd} 0x${offset.toString(16)}`)
    if (this.failMmap !== 0) return -this.failMmap
    const path = this.fds.get(fd)
    if (path === undefined) return -EBADF
    const bytes = length === 4096 ? this.page(path, offset) : new Uint8Array(length)
    const memory = { address: this.take(length), bytes }
    this.mappings.set(memory.address, { fd, offset, memory })
    return memory
  }

  munmap(mapping: UserMemory): number {
    this.trace.push('munmap')
    return this.mappings.delete(mapping.address) ? 0 : -EINVAL
  }

  alloc(size: number): UserMemory {
    const memory = { address: this.take(size), bytes: new Uint8Array(size) }
    this.allocations.set(memory.address, memory)
    return memory
  }

  free(memory: UserMemory): void {
    this.allocations.delete(memory.address)
  }

  schedSetaffinity(): number {
    return 0
  }

  eventfd(): number {
    this.trace.push('eventfd')
    return this.newFd('anon:eventfd')
  }

  write(fd: number, bytes: Uint8Array): number {
    if (!this.fds.has(fd)) return -EBADF
    this.eventfdWrites.push({ fd, value: new DataView(bytes.buffer).getBigUint64(0, true) })
    return bytes.byteLength
  }

  read(fd: number, bytes: Uint8Array): number {
    return this.fds.has(fd) ? bytes.byteLength : -EBADF
  }

  private take(size: number): bigint {
    const address = this.nextAddress
    this.nextAddress += BigInt(Math.ceil(Math.max(size, 1) / 4096) * 4096)
    return address
  }

  private dispatch(fd: number, request: number, arg: IoctlArg, cpu: number | undefined): number {
    this.trace.push(`ioctl 0x${request.toString(16)}`)
    const path = this.fds.get(fd)
    if (path === undefined) return -EBADF
    const recorded: RecordedIoctl = { fd, path, request }
    if (arg instanceof Uint8Array) recorded.bytes = arg.slice()
    else recorded.value = arg
    if (cpu !== undefined) recorded.cpu = cpu
    this.ioctls.push(recorded)
    return this.onIoctl({ fd, path, request, arg, cpu, fake: this }) ?? 0
  }
}

/** Little-endian u64 at `offset`. */
export function u64(bytes: Uint8Array, offset: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset, true)
}

export function u32(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true)
}

export function setU64(bytes: Uint8Array, offset: number, value: bigint): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setBigUint64(offset, value, true)
}

/** Runs `fn` and returns what it threw (the test fails if nothing was thrown). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}
