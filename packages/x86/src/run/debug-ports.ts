import type { VtlContext } from '../cpu/vtl-context.js'
import type { X86Exit } from '../cpu/x86-exit.js'

/** OUT to this port appends the byte to the VP's console. */
export const DEBUG_CONSOLE_PORT = 0xe9
/** A 32-bit OUT to this port ends the run with that exit code (QEMU's isa-debug-exit). */
export const DEBUG_EXIT_PORT = 0xf4

type IoExit = Extract<X86Exit, { kind: 'io' }>

/**
 * The two debug ports of a VP, and the answer of every port nobody claims (IN reads all ones,
 * OUT is dropped). String forms (INS/OUTS) are left to the caller.
 */
export class DebugPorts {
  console = ''
  exitCode: number | undefined

  /** Completes an I/O exit; false for the string forms, which it does not emulate. */
  handle(context: VtlContext, exit: IoExit): boolean {
    if (exit.string) return false
    if (exit.direction === 'in') {
      context.completeIn(exit, exit.size === 4 ? 0xffff_ffff : exit.size === 2 ? 0xffff : 0xff)
      return true
    }
    const value = exit.value ?? 0
    if (exit.port === DEBUG_CONSOLE_PORT) this.console += String.fromCharCode(value & 0xff)
    if (exit.port === DEBUG_EXIT_PORT && exit.size === 4) this.exitCode = value
    context.skip(exit)
    return true
  }
}
