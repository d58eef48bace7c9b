// How wide human output may be, and lines wrapped to it (colours kept).

/**
 * The columns human output fits: a terminal's own width; on a pipe `$COLUMNS` when it is a
 * positive number, else 80. Scripts that want whole values read `--json`.
 */
export function outputWidth(
  stream: { isTTY?: boolean; columns?: number },
  env: NodeJS.ProcessEnv
): number {
  if (stream.isTTY === true && stream.columns !== undefined && stream.columns > 0) {
    return stream.columns
  }
  const columns = Number(env.COLUMNS)
  return Number.isSafeInteger(columns) && columns > 0 ? columns : 80
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

/** Columns a line takes on a terminal (colour codes take none). */
export function visibleWidth(text: string): number {
  return text.replace(ANSI, '').match(/[\s\S]/gu)?.length ?? 0
}

/** The line as tokens: colour codes (width 0) and single characters (width 1). */
function tokens(line: string): string[] {
  // eslint-disable-next-line no-control-regex
  return line.match(/\u001b\[[0-9;]*m|[\s\S]/gu) ?? []
}

const isAnsi = (token: string): boolean => token.startsWith('\u001b')
/**
 * Where a line may break: after a space, or after the separators in JSON, names and paths (not
 * after a comma that groups digits).
 */
const BREAK_AFTER = new Set([' ', ',', '-', '/'])
// eslint-disable-next-line no-control-regex
const TRAILING_SPACES = / +((?:\u001b\[[0-9;]*m)*)$/u

/**
 * One line wrapped to `width` columns: breaks after the last space, comma, hyphen or slash that
 * fits (so JSON wraps between its fields, a path between its folders), or inside a word
 * longer than a line; continuation lines start with `indent` (at most half the width). Colour
 * codes are kept where they were, so a colour that spans a break continues on the next line.
 */
export function wrapLine(line: string, width: number, indent = ''): string {
  if (visibleWidth(line) <= width) return line
  const pad = indent.length * 2 > width ? '' : indent
  const out: string[] = []
  let current: string[] = []
  let used = 0
  /** Whether the line so far has text (its leading spaces are no place to break). */
  let text = false
  /** Index in `current` just after the last break, and the columns used up to it. */
  let lastBreak = -1
  let usedAtSpace = 0
  const all = tokens(line)
  for (const [i, token] of all.entries()) {
    if (isAnsi(token)) {
      current.push(token)
      continue
    }
    if (used >= width) {
      // A space right at the edge breaks there; otherwise the word moves down whole.
      const carry = token !== ' ' && lastBreak >= 0
      const cut = carry ? lastBreak : current.length
      out.push(current.slice(0, cut).join('').replace(TRAILING_SPACES, '$1'))
      const rest = current.slice(cut)
      used = pad.length + (carry ? used - usedAtSpace : 0)
      current = [pad, ...rest]
      text = rest.some((t) => !isAnsi(t))
      lastBreak = -1
      if (token === ' ' && !text) continue
    }
    current.push(token)
    used++
    if (text && BREAK_AFTER.has(token) && !(token === ',' && /\d/.test(all[i + 1] ?? ''))) {
      lastBreak = current.length
      usedAtSpace = used
    }
    if (token !== ' ') text = true
  }
  out.push(current.join(''))
  return out.join('\n')
}

/** Every line of `text` wrapped to `width` (see `wrapLine`). */
export function wrapText(text: string, width: number, indent = ''): string {
  return text
    .split('\n')
    .map((line) => wrapLine(line, width, indent))
    .join('\n')
}
