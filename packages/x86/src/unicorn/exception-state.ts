import { UC_ARCH_X86, UC_MODE_64, UcHook, UcProt } from './constants.js'
import type { UnicornLibrary } from './unicorn-library.js'

/**
 * Where libunicorn keeps QEMU's "exception in flight" (`CPUX86State.old_exception`) inside a
 * saved context, found once per process by experiment.
 *
 * Why: Unicorn hands exceptions to a hook instead of delivering them, so QEMU never clears that
 * field (it does so on delivery). The next contributory exception then turns into #DF and the one
 * after into a triple fault that silently ends the run. The backing delivers exceptions itself and
 * must clear the field after each one; the API has no register for it, so the offset is measured:
 * a fresh engine holds -1 there, and after a #DE, 0 (or 8 once escalated).
 */
let offset: number | null | undefined

export function exceptionStateOffset(lib: UnicornLibrary): number | null {
  if (offset !== undefined) return offset
  offset = measure(lib)
  return offset
}

function measure(lib: UnicornLibrary): number | null {
  const out: unknown[] = [null]
  if (lib.uc_open(UC_ARCH_X86, UC_MODE_64, out) !== 0) return null
  const uc = out[0]
  const page = Buffer.alloc(0x1000)
  Buffer.from('31c948f7f1', 'hex').copy(page) // xor ecx, ecx; div rcx
  const stop = lib.koffi.register(() => {
    lib.uc_emu_stop(uc)
  }, lib.koffi.pointer(lib.intrHook))
  const context: unknown[] = [null]
  try {
    const size = Number(lib.uc_context_size(uc))
    if (
      lib.uc_mem_map_ptr(uc, 0n, page.byteLength, UcProt.ALL, page) !== 0 ||
      lib.uc_hook_add(uc, [0], UcHook.INTR, stop, null, 1n, 0n) !== 0 ||
      lib.uc_context_alloc(uc, context) !== 0
    ) {
      return null
    }
    lib.uc_context_save(uc, context[0])
    const before = Buffer.from(new Uint8Array(lib.koffi.view(context[0], size)))
    lib.uc_emu_start(uc, 0n, 0x8000_0000_0000_0000n, 0n, 0)
    lib.uc_context_save(uc, context[0])
    const after = Buffer.from(new Uint8Array(lib.koffi.view(context[0], size)))
    const candidates: number[] = []
    for (let at = 0; at + 4 <= size; at += 4) {
      const now = after.readInt32LE(at)
      if (before.readInt32LE(at) === -1 && (now === 0 || now === 8)) candidates.push(at)
    }
    return candidates.length === 1 ? (candidates[0] ?? null) : null
  } finally {
    if (context[0] !== null) lib.uc_context_free(context[0])
    lib.uc_close(uc)
    lib.koffi.unregister(stop)
  }
}
