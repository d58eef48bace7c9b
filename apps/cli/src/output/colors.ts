import pc from 'picocolors'

export type Colors = ReturnType<typeof pc.createColors>

/**
 * Colours for a stream: on only when it is a TTY and `NO_COLOR` is unset or empty
 * (https://no-color.org), and never when the user passed `--no-color`.
 */
export function colorsFor(
  stream: { isTTY?: boolean },
  env: NodeJS.ProcessEnv = process.env,
  forceOff = false
): Colors {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== ''
  return pc.createColors(!forceOff && !noColor && stream.isTTY === true)
}
