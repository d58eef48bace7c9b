import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { VtlError } from '@vtl/core'
import type { IoctlArg, PinnedThread, Syscalls, UserMemory } from './syscalls.js'

type Koffi = typeof import('koffi')
type Pointer = object

// 1024 CPUs, the size glibc's cpu_set_t has.
const CPU_SET_BYTES = 128
const MAP_FAILED = 0xffff_ffff_ffff_ffffn

const require = createRequire(import.meta.url)
let koffiModule: Koffi | undefined

/**
 * koffi is loaded on first use, so that importing this package for its UAPI tables works on a
 * machine (or OS) where koffi's native binary is missing.
 */
export function loadKoffi(): Koffi {
  if (koffiModule !== undefined) return koffiModule
  try {
    koffiModule = require('koffi') as Koffi
    return koffiModule
  } catch (cause) {
    throw new VtlError('E_UNSUPPORTED', 'koffi (the FFI used to call libc) cannot be loaded', {
      cause,
    })
  }
}

export function koffiAvailable(): boolean {
  try {
    loadKoffi()
    return true
  } catch {
    return false
  }
}

/** The CPU mask `sched_setaffinity` takes. */
export function cpuSetBytes(cpus: readonly number[]): Uint8Array {
  const mask = new Uint8Array(CPU_SET_BYTES)
  for (const cpu of cpus) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= CPU_SET_BYTES * 8) {
      throw new VtlError('E_FIELD_RANGE', `cpu ${cpu} is outside 0..${CPU_SET_BYTES * 8 - 1}`, {
        field: 'cpu',
      })
    }
    mask[cpu >> 3] = (mask[cpu >> 3] ?? 0) | (1 << (cpu & 7))
  }
  return mask
}

// The pinned thread: a worker that pins its own OS thread once and then issues ioctls
// synchronously, so a blocking RETURN_TO_LOWER_VTL stays on that CPU and off the event loop.
// koffi's own async calls run on a pool thread we cannot pin, hence a worker per CPU.
const PINNED_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const koffi = require(workerData.koffi)
const libc = koffi.load('libc.so.6')
const ioctl = libc.func('int ioctl(int fd, unsigned long request, unsigned long arg)')
const ioctlPtr = libc.func('int ioctl(int fd, unsigned long request, void *arg)')
const setaffinity = libc.func('int sched_setaffinity(int pid, size_t size, void *mask)')
const pinned = setaffinity(0, workerData.mask.length, workerData.mask)
parentPort.postMessage({ id: 0, result: pinned < 0 ? -koffi.errno() : 0 })
parentPort.on('message', (m) => {
  const bytes = m.arg instanceof Uint8Array
  const r = bytes ? ioctlPtr(m.fd, m.request, m.arg) : ioctl(m.fd, m.request, m.arg)
  parentPort.postMessage({ id: m.id, result: r < 0 ? -koffi.errno() : r, bytes: bytes ? m.arg : undefined })
})
`

interface WorkerReply {
  id: number
  result: number
  bytes?: Uint8Array
}

async function spawnPinned(cpu: number): Promise<PinnedThread | number> {
  const worker = new Worker(PINNED_WORKER, {
    eval: true,
    workerData: { koffi: require.resolve('koffi'), mask: cpuSetBytes([cpu]) },
  })
  const waiting = new Map<number, (reply: WorkerReply) => void>()
  let nextId = 1
  const ready = new Promise<number>((resolve, reject) => {
    waiting.set(0, (reply) => {
      resolve(reply.result)
    })
    worker.once('error', reject)
  })
  worker.on('message', (reply: WorkerReply) => {
    const done = waiting.get(reply.id)
    waiting.delete(reply.id)
    done?.(reply)
  })
  // A thread that dies answers every call still waiting with -EIO rather than leaving it hanging.
  worker.on('exit', () => {
    for (const [id, done] of waiting) done({ id, result: -5 })
    waiting.clear()
  })
  const pinned = await ready
  if (pinned < 0) {
    await worker.terminate()
    return pinned
  }
  return {
    cpu,
    ioctl(fd, request, arg) {
      const id = nextId++
      return new Promise<number>((resolve) => {
        waiting.set(id, (reply) => {
          if (arg instanceof Uint8Array && reply.bytes !== undefined) arg.set(reply.bytes)
          resolve(reply.result)
        })
        worker.postMessage({ id, fd, request, arg })
      })
    },
    async close() {
      await worker.terminate()
    },
  }
}

/** The production seam: koffi calling glibc with fixed (never variadic) prototypes. */
export function createLibcSyscalls(): Syscalls {
  const koffi = loadKoffi()
  const libc = koffi.load('libc.so.6')
  // Fixed three-argument prototypes: a variadic ioctl called without its third argument passes
  // whatever is left in rdx (ts-ecosystem.md pitfall 8). One integer and one pointer variant.
  const ioctlInt = libc.func('int ioctl(int fd, unsigned long request, unsigned long arg)')
  const ioctlPtr = libc.func('int ioctl(int fd, unsigned long request, void *arg)')
  const open = libc.func('int open(const char *path, int flags, int mode)') as (
    path: string,
    flags: number,
    mode: number
  ) => number
  const close = libc.func('int close(int fd)') as (fd: number) => number
  const mmap = libc.func(
    'void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'
  ) as (addr: null, length: number, prot: number, flags: number, fd: number, off: bigint) => Pointer
  const munmap = libc.func('int munmap(void *addr, size_t length)') as (
    addr: Pointer,
    length: number
  ) => number
  const setaffinity = libc.func('int sched_setaffinity(int pid, size_t size, void *mask)') as (
    pid: number,
    size: number,
    mask: Uint8Array
  ) => number
  const eventfd = libc.func('int eventfd(unsigned int initval, int flags)') as (
    initval: number,
    flags: number
  ) => number
  const write = libc.func('int64_t write(int fd, const void *buf, size_t count)') as (
    fd: number,
    buf: Uint8Array,
    count: number
  ) => number | bigint
  const read = libc.func('int64_t read(int fd, void *buf, size_t count)') as (
    fd: number,
    buf: Uint8Array,
    count: number
  ) => number | bigint
  const callInt = ioctlInt as (fd: number, request: number, arg: number | bigint) => number
  const callPtr = ioctlPtr as (fd: number, request: number, arg: Uint8Array) => number
  const callAsync = ioctlInt.async as (
    fd: number,
    request: number,
    arg: number | bigint,
    done: (err: unknown, result: number) => void
  ) => void

  // Native pointers behind the UserMemory we hand out, for munmap and free.
  const pointers = new Map<bigint, { pointer: Pointer; length: number }>()
  const result = (r: number | bigint): number => (Number(r) < 0 ? -koffi.errno() : Number(r))
  const wrap = (pointer: Pointer, length: number): UserMemory => {
    const address = koffi.address(pointer)
    pointers.set(address, { pointer, length })
    return { address, bytes: new Uint8Array(koffi.view(pointer, length)) }
  }

  return {
    open: (path, flags) => result(open(path, flags, 0)),
    close: (fd) => result(close(fd)),
    ioctl(fd, request, arg: IoctlArg) {
      return result(
        arg instanceof Uint8Array ? callPtr(fd, request, arg) : callInt(fd, request, arg)
      )
    },
    ioctlAsync(fd, request, arg) {
      // koffi carries the worker thread's errno back with the result (checked against /dev/kvm).
      return new Promise((resolve, reject) => {
        callAsync(fd, request, arg, (err, r) => {
          if (err instanceof Error) reject(err)
          else if (err !== null && err !== undefined) reject(new Error('koffi async call failed'))
          else resolve(r < 0 ? -koffi.errno() : r)
        })
      })
    },
    spawnPinnedThread: spawnPinned,
    mmap(fd, length, prot, flags, offset) {
      const pointer = mmap(null, length, prot, flags, fd, offset)
      if (koffi.address(pointer) === MAP_FAILED) return -koffi.errno()
      return wrap(pointer, length)
    },
    munmap(mapping) {
      const entry = pointers.get(mapping.address)
      if (entry === undefined) return -22
      pointers.delete(mapping.address)
      return result(munmap(entry.pointer, entry.length))
    },
    alloc(size) {
      const pointer = koffi.alloc('uint8_t', Math.max(size, 1)) as Pointer
      const memory = wrap(pointer, size)
      memory.bytes.fill(0)
      return memory
    },
    free(memory) {
      const entry = pointers.get(memory.address)
      if (entry === undefined) return
      pointers.delete(memory.address)
      koffi.free(entry.pointer)
    },
    schedSetaffinity(cpus) {
      const mask = cpuSetBytes(cpus)
      return result(setaffinity(0, mask.length, mask))
    },
    eventfd: (initval, flags) => result(eventfd(initval, flags)),
    write: (fd, bytes) => result(write(fd, bytes, bytes.byteLength)),
    read: (fd, bytes) => result(read(fd, bytes, bytes.byteLength)),
  }
}
