import {
  wireRunToSvgRun,
  wireRunsSvgInput,
  type GpaSvgInput,
  type GpaSvgRun,
} from '@vtl/memory-map'
import { CliError, ExitCode } from '../errors.js'

// vtld's memory runs read back into the picture's runs (@vtl/memory-map decodes them); a field
// that is not a run field is the daemon's fault: `E_BAD_ANSWER`, exit 1.

function bad(what: string, value: unknown): CliError {
  return new CliError(
    'E_BAD_ANSWER',
    `vtld sent ${what} ${JSON.stringify(value)}, not a memory run field`,
    ExitCode.Failed
  )
}

/** One daemon run (`{start, size, kind, visibility, accepted, locked, vtl0, vtl1, overlay}`). */
export function daemonRunToSvgRun(run: unknown): GpaSvgRun {
  return wireRunToSvgRun(run, bad)
}

/**
 * The picture's input from the runs of `mem show --td`: the range they cover, or an empty range
 * at `start` when the daemon sent none.
 */
export function daemonRunsSvgInput(runs: readonly unknown[], start = 0n): GpaSvgInput {
  return wireRunsSvgInput(runs, start, bad)
}
