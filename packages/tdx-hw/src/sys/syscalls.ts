/**
 * Memory the kernel may read or write through a pointer inside an ioctl argument (regs_ptr,
 * input_ptr, allow_bitmap_ptr, …), or a mapping. `address` is what goes into the struct; `bytes`
 * is the same memory seen from JS. A simulated kernel resolves the address through `resolve`.
 */
export interface UserMemory {
  readonly address: bigint
  readonly bytes: Uint8Array
}

/** An ioctl argument: an integer passed by value, or a struct the call may write back. */
export type IoctlArg = number | bigint | Uint8Array

export const OpenFlags = {
  O_RDONLY: 0,
  O_RDWR: 2,
  O_NONBLOCK: 0o4000,
  O_CLOEXEC: 0o2000000,
} as const
export const Prot = { READ: 1, WRITE: 2 } as const
export const MapFlags = { SHARED: 1, PRIVATE: 2, ANONYMOUS: 0x20 } as const
export const EventfdFlags = { NONBLOCK: 0o4000, CLOEXEC: 0o2000000 } as const

/**
 * A thread pinned to one CPU that issues ioctls off the event loop: the blocking run call, and
 * the calls that act on the calling CPU's VP (TDG.VP.RD/WR through the TDCALL pass-through). A
 * byte argument is written back into the caller's array when the call returns.
 */
export interface PinnedThread {
  readonly cpu: number
  ioctl(fd: number, request: number, arg: IoctlArg): Promise<number>
  close(): Promise<void>
}

/**
 * The one syscall seam of this package. Every method returns the kernel's answer the way the
 * kernel gives it: a non-negative result, or `-errno`. Nothing here throws for a kernel refusal:
 * the device layer above knows the path and request name and builds the typed error. Production:
 * koffi over libc (`createLibcSyscalls`); tests: an in-memory fake; later `@vtl/sim`'s kernel.
 */
export interface Syscalls {
  open(path: string, flags: number): number
  close(fd: number): number
  /** Non-blocking ioctl on the calling thread. */
  ioctl(fd: number, request: number, arg: IoctlArg): number
  /** An ioctl run off the event loop (e.g. on a thread pool); integer argument only. */
  ioctlAsync(fd: number, request: number, arg: number | bigint): Promise<number>
  /** A thread pinned with sched_setaffinity to `cpu`, for calls that act on the calling CPU. */
  spawnPinnedThread(cpu: number): Promise<PinnedThread | number>
  /** Maps `length` bytes of `fd` at byte `offset`; `-errno` on failure. */
  mmap(fd: number, length: number, prot: number, flags: number, offset: bigint): UserMemory | number
  munmap(mapping: UserMemory): number
  /** Zeroed memory whose address can be put into an ioctl struct. */
  alloc(size: number): UserMemory
  free(memory: UserMemory): void
  /** Pins the calling thread (pid 0) to `cpus`. */
  schedSetaffinity(cpus: readonly number[]): number
  eventfd(initval: number, flags: number): number
  write(fd: number, bytes: Uint8Array): number
  read(fd: number, bytes: Uint8Array): number
}
