import { VtlError } from '@vtl/core'

/** `vtl`'s exit codes. */
export const ExitCode = {
  /** Everything ran and every expectation held. */
  Ok: 0,
  /** An expectation or an operation failed. */
  Failed: 1,
  /** Bad input: a flag, an argument, a file that is not a valid scenario. */
  BadInput: 2,
  /** No `vtld` daemon answers at the socket path. */
  NoDaemon: 3,
} as const

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** An error that knows how `vtl` ends: its message is printed as one line. */
export class CliError extends Error {
  readonly exitCode: ExitCode
  readonly code: string

  constructor(code: string, message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'CliError'
    this.code = code
    this.exitCode = exitCode
  }
}

/** Bad input (exit 2). */
export function badInput(message: string, cause?: unknown): CliError {
  return new CliError('E_BAD_INPUT', message, ExitCode.BadInput, { cause })
}

/** `VtlError` codes that describe the caller's input rather than a failed operation. */
const INPUT_CODES = new Set<string>([
  'E_DECODE_LENGTH',
  'E_RESERVED_BITS',
  'E_FIELD_RANGE',
  'E_UNALIGNED',
  'E_RANGE_EMPTY',
  'E_RANGE_REVERSED',
  'E_RANGE_OVERFLOW',
  'E_BEYOND_GPA_WIDTH',
  'E_NOT_RAM',
  'E_OVERLAP',
  'E_UNSORTED',
  'E_DUPLICATE',
  'E_INVALID_VALUE',
  'E_UNKNOWN_NAME',
  'E_SCENARIO',
])

/** The exit code for anything thrown by a command. */
export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode
  if (VtlError.isInstance(error)) {
    return INPUT_CODES.has(error.code) ? ExitCode.BadInput : ExitCode.Failed
  }
  return ExitCode.Failed
}

/** One line for the user; with `verbose`, the cause chain follows, one line per cause. */
export function formatError(error: unknown, verbose = false): string {
  const lines: string[] = []
  let current: unknown = error
  let depth = 0
  while (current !== undefined && depth < 10) {
    const message = current instanceof Error ? current.message : JSON.stringify(current)
    const rawCode: unknown =
      typeof current === 'object' && current !== null && 'code' in current
        ? current.code
        : undefined
    const code =
      typeof rawCode === 'string' || typeof rawCode === 'number' ? String(rawCode) : undefined
    // `vtl`'s own messages may list several lines (every invalid file); others print their first.
    const text =
      depth === 0 && current instanceof CliError ? message : (message.split('\n')[0] ?? '')
    lines.push(
      depth === 0 ? `vtl: ${text}` : `  caused by: ${code === undefined ? '' : `[${code}] `}${text}`
    )
    if (!verbose) break
    if (
      depth === 0 &&
      current instanceof Error &&
      current.stack !== undefined &&
      !(current instanceof CliError)
    ) {
      const frames = current.stack.split('\n').slice(1, 6)
      lines.push(...frames.map((f) => `  ${f.trim()}`))
    }
    current = current instanceof Error ? current.cause : undefined
    depth++
  }
  return lines.join('\n')
}
