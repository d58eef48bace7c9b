import { CommanderError } from 'commander'
import { ExitCode, exitCodeOf, formatError } from './errors.js'
import { createProgram } from './program.js'

/**
 * Parses `argv` (process.argv form), runs the command and returns the exit code. Errors become one
 * line on stderr (`--verbose`: with the cause chain).
 */
export async function runCli(
  argv: readonly string[],
  stderr: NodeJS.WritableStream = process.stderr
): Promise<number> {
  const program = createProgram()
  try {
    await program.parseAsync([...argv])
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.Ok
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (or the help / version).
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return ExitCode.Ok
      }
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.BadInput
    }
    const verbose = argv.includes('--verbose')
    stderr.write(`${formatError(error, verbose)}\n`)
    return exitCodeOf(error)
  }
}
