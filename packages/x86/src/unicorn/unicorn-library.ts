import { createRequire } from 'node:module'
import { VtlError } from '@vtl/core'

type Koffi = typeof import('koffi')
type KoffiFunction = ReturnType<ReturnType<Koffi['load']>['func']>
type KoffiType = ReturnType<Koffi['proto']>

/** The libunicorn entry points, bound once per process. */
export interface UnicornLibrary {
  readonly koffi: Koffi
  readonly soname: string
  readonly version: string
  readonly uc_open: KoffiFunction
  readonly uc_close: KoffiFunction
  readonly uc_strerror: KoffiFunction
  readonly uc_mem_map_ptr: KoffiFunction
  readonly uc_mem_unmap: KoffiFunction
  readonly uc_mem_protect: KoffiFunction
  readonly uc_reg_read: KoffiFunction
  readonly uc_reg_write: KoffiFunction
  readonly uc_reg_read_batch: KoffiFunction
  readonly uc_reg_write_batch: KoffiFunction
  readonly uc_emu_start: KoffiFunction
  readonly uc_emu_stop: KoffiFunction
  readonly uc_hook_add: KoffiFunction
  readonly uc_hook_del: KoffiFunction
  readonly uc_ctl: KoffiFunction
  readonly uc_context_alloc: KoffiFunction
  readonly uc_context_save: KoffiFunction
  readonly uc_context_restore: KoffiFunction
  readonly uc_context_size: KoffiFunction
  readonly uc_context_free: KoffiFunction
  readonly codeHook: KoffiType
  readonly intrHook: KoffiType
  readonly memFaultHook: KoffiType
  readonly insnInvalidHook: KoffiType
}

const SONAMES = ['libunicorn.so.2', 'libunicorn.so']
const require = createRequire(import.meta.url)

let loaded: UnicornLibrary | VtlError | undefined

function bind(): UnicornLibrary {
  let koffi: Koffi
  try {
    koffi = require('koffi') as Koffi
  } catch (cause) {
    throw new VtlError(
      'E_UNSUPPORTED',
      'koffi (the FFI used to call libunicorn) cannot be loaded',
      {
        cause,
      }
    )
  }
  let lib: ReturnType<Koffi['load']> | undefined
  let soname = ''
  const failures: string[] = []
  for (const name of SONAMES) {
    try {
      lib = koffi.load(name)
      soname = name
      break
    } catch (cause) {
      failures.push(cause instanceof Error ? cause.message : String(cause))
    }
  }
  if (lib === undefined) {
    throw new VtlError(
      'E_UNSUPPORTED',
      `libunicorn is not installed (install libunicorn2, e.g. apt-get install libunicorn2): ${failures.join('; ')}`
    )
  }
  const ucVersion = lib.func(
    'unsigned int uc_version(_Out_ unsigned int *major, _Out_ unsigned int *minor)'
  )
  const major = [0]
  const minor = [0]
  ucVersion(major, minor)
  if (major[0] !== 2) {
    throw new VtlError(
      'E_UNSUPPORTED',
      `libunicorn ${major[0]}.${minor[0]} found; the x86 backing needs the 2.x API`
    )
  }
  return {
    koffi,
    soname,
    version: `${major[0]}.${minor[0]}`,
    uc_open: lib.func('int uc_open(int arch, int mode, _Out_ void **uc)'),
    uc_close: lib.func('int uc_close(void *uc)'),
    uc_strerror: lib.func('const char *uc_strerror(int err)'),
    uc_mem_map_ptr: lib.func(
      'int uc_mem_map_ptr(void *uc, uint64_t address, size_t size, uint32_t perms, void *ptr)'
    ),
    uc_mem_unmap: lib.func('int uc_mem_unmap(void *uc, uint64_t address, size_t size)'),
    uc_mem_protect: lib.func(
      'int uc_mem_protect(void *uc, uint64_t address, size_t size, uint32_t perms)'
    ),
    uc_reg_read: lib.func('int uc_reg_read(void *uc, int regid, void *value)'),
    uc_reg_write: lib.func('int uc_reg_write(void *uc, int regid, void *value)'),
    uc_reg_read_batch: lib.func(
      'int uc_reg_read_batch(void *uc, void *regs, void *vals, int count)'
    ),
    uc_reg_write_batch: lib.func(
      'int uc_reg_write_batch(void *uc, void *regs, void *vals, int count)'
    ),
    uc_emu_start: lib.func(
      'int uc_emu_start(void *uc, uint64_t begin, uint64_t until, uint64_t timeout, size_t count)'
    ),
    uc_emu_stop: lib.func('int uc_emu_stop(void *uc)'),
    uc_hook_add: lib.func(
      'int uc_hook_add(void *uc, _Out_ size_t *hh, int type, void *callback, void *user, uint64_t begin, uint64_t end, ...)'
    ),
    uc_hook_del: lib.func('int uc_hook_del(void *uc, size_t hh)'),
    uc_ctl: lib.func('int uc_ctl(void *uc, int control, ...)'),
    uc_context_alloc: lib.func('int uc_context_alloc(void *uc, _Out_ void **context)'),
    uc_context_save: lib.func('int uc_context_save(void *uc, void *context)'),
    uc_context_restore: lib.func('int uc_context_restore(void *uc, void *context)'),
    uc_context_size: lib.func('size_t uc_context_size(void *uc)'),
    uc_context_free: lib.func('int uc_context_free(void *context)'),
    codeHook: koffi.proto(
      'void VtlUcCodeHook(void *uc, uint64_t address, uint32_t size, void *user)'
    ),
    intrHook: koffi.proto('void VtlUcIntrHook(void *uc, uint32_t intno, void *user)'),
    memFaultHook: koffi.proto(
      'bool VtlUcMemFaultHook(void *uc, int type, uint64_t address, int size, int64_t value, void *user)'
    ),
    insnInvalidHook: koffi.proto('bool VtlUcInsnInvalidHook(void *uc, void *user)'),
  }
}

/** libunicorn bound through koffi; a `VtlError` `E_UNSUPPORTED` saying why when it cannot be. */
export function loadUnicorn(): UnicornLibrary {
  loaded ??= (() => {
    try {
      return bind()
    } catch (e) {
      return e instanceof VtlError ? e : new VtlError('E_UNSUPPORTED', String(e), { cause: e })
    }
  })()
  if (loaded instanceof VtlError) throw loaded
  return loaded
}

/** Whether the CPU backing can run here, and why not: the library-load probe. */
export type UnicornAvailability =
  { available: true; version: string; soname: string } | { available: false; reason: string }

export function unicornAvailability(): UnicornAvailability {
  try {
    const lib = loadUnicorn()
    return { available: true, version: lib.version, soname: lib.soname }
  } catch (e) {
    return { available: false, reason: e instanceof Error ? e.message : String(e) }
  }
}

export function isAvailable(): boolean {
  return unicornAvailability().available
}
