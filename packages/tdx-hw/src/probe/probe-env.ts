import { accessSync, constants, existsSync, readFileSync } from 'node:fs'
import { arch } from 'node:os'
import { createLibcSyscalls } from '../sys/libc-syscalls.js'
import type { Syscalls } from '../sys/syscalls.js'

/** What `probe` reads of the host; tests pass their own. */
export interface ProbeEnv {
  exists(path: string): boolean
  /** `undefined` when the path can be opened read/write; else why not. */
  accessDenied(path: string): string | undefined
  readText(path: string): string | undefined
  uid(): number | undefined
  arch(): string
  /** The syscall seam, or why there is none (koffi missing). */
  syscalls(): Syscalls | string
}

export function hostProbeEnv(): ProbeEnv {
  let sys: Syscalls | string | undefined
  return {
    exists: (path) => existsSync(path),
    accessDenied(path) {
      try {
        accessSync(path, constants.R_OK | constants.W_OK)
        return undefined
      } catch (error) {
        const code = (error as { code?: unknown }).code
        return typeof code === 'string' ? code : 'not accessible'
      }
    },
    readText(path) {
      try {
        return readFileSync(path, 'utf8')
      } catch {
        return undefined
      }
    },
    uid: () => process.getuid?.(),
    arch: () => arch(),
    syscalls() {
      if (sys === undefined) {
        try {
          sys = createLibcSyscalls()
        } catch (error) {
          sys = error instanceof Error ? error.message : String(error)
        }
      }
      return sys
    },
  }
}
