/** Violations kept per run: the first few say what broke; the rest only repeat it. */
const MAX_VIOLATIONS = 5

/**
 * What one run checked: how often each named invariant was checked, tallies of outcomes (status
 * names, typed error codes…) and the violations. The runner merges the counts of every run into
 * the summary, so that a campaign that checked nothing cannot pass unnoticed.
 */
export class InvariantLog {
  readonly checks = new Map<string, number>()
  readonly outcomes = new Map<string, number>()
  readonly violations: string[] = []
  /** Violations beyond the ones kept. */
  dropped = 0

  /** Counts a check of `name`; records `detail()` when it does not hold. Returns `ok`. */
  check(name: string, ok: boolean, detail?: () => string): boolean {
    this.checks.set(name, (this.checks.get(name) ?? 0) + 1)
    if (!ok) this.fail(name, detail?.() ?? 'violated')
    return ok
  }

  /** Records a violation of `name` found without a separate check (an uncaught error…). */
  fail(name: string, detail: string): void {
    if (this.violations.length < MAX_VIOLATIONS) this.violations.push(`${name}: ${detail}`)
    else this.dropped++
  }

  /** Counts one outcome (not a check: `outcomes` says what the runs exercised). */
  tally(outcome: string, count = 1): void {
    this.outcomes.set(outcome, (this.outcomes.get(outcome) ?? 0) + count)
  }

  get failed(): boolean {
    return this.violations.length > 0
  }

  /** Adds another log's counts (not its violations) to this one. */
  merge(other: InvariantLog): void {
    for (const [name, n] of other.checks) this.checks.set(name, (this.checks.get(name) ?? 0) + n)
    for (const [name, n] of other.outcomes) this.tally(name, n)
  }
}
