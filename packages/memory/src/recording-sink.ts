import type { PageLevel } from '@vtl/core'
import type { PlanOp } from './plan.js'
import type { PlanSink } from './plan-sink.js'
import {
  makeTdxStatus,
  TDX_EPT_ENTRY_NOT_PRESENT,
  TDX_OPERAND_INVALID,
  TDX_PAGE_ALREADY_ACCEPTED,
  TDX_PAGE_SIZE_MISMATCH,
} from './tdx-status.js'

/** What the recording sink holds for one page: the hardware-visible facts. */
export interface RecordedPage {
  accepted: boolean
  shared: boolean
  /** L2 VM #1 (VTL0) and #2 (VTL1) `GpaVmAttributes`. */
  vm1: number
  vm2: number
}

export interface RecordingSinkOptions {
  /** Initial page states (pages not listed: private, not accepted, no attributes). */
  initial?: Iterable<readonly [bigint, RecordedPage]>
  /**
   * The largest level at which a page is mapped (default 2). An ACCEPT, ATTR.WR or RELEASE at a
   * larger level over it returns TDX_PAGE_SIZE_MISMATCH, as the TDX module does.
   */
  mappedLevel?: (gpn: bigint) => PageLevel
  /** Fault injection: a status to return instead of executing call number `index` (0-based). */
  fail?: (op: PlanOp, index: number) => bigint | undefined
}

const FRESH: RecordedPage = { accepted: false, shared: false, vm1: 0, vm2: 0 }

/**
 * A per-page sink for tests on small spaces: applies each op to a `Map` the way the TDX module
 * and the host would, and logs every call. Comparing its pages with the interval map checks that
 * a plan does exactly what the map claims.
 */
export class RecordingSink implements PlanSink {
  readonly pages = new Map<bigint, RecordedPage>()
  /** Every call, failed ones included, with the status returned. */
  readonly log: { op: PlanOp; status: bigint }[] = []
  private readonly options: RecordingSinkOptions

  constructor(options: RecordingSinkOptions = {}) {
    this.options = options
    for (const [gpn, page] of options.initial ?? []) this.pages.set(gpn, { ...page })
  }

  /**
   * A sink whose pages start as the space's map says over `[start, end)` (page numbers): for
   * spaces set up with `mark`.
   */
  static fromSpace(
    space: {
      stateOf(gpa: bigint): { accepted: boolean; shared: boolean; vm1Attr: number; vm2Attr: number }
    },
    start: bigint,
    end: bigint,
    options: Omit<RecordingSinkOptions, 'initial'> = {}
  ): RecordingSink {
    const initial: [bigint, RecordedPage][] = []
    for (let gpn = start; gpn < end; gpn++) {
      const s = space.stateOf(gpn << 12n)
      initial.push([
        gpn,
        { accepted: s.accepted, shared: s.shared, vm1: s.vm1Attr, vm2: s.vm2Attr },
      ])
    }
    return new RecordingSink({ ...options, initial })
  }

  page(gpn: bigint): RecordedPage {
    return this.pages.get(gpn) ?? FRESH
  }

  execute(op: PlanOp): bigint {
    const injected = this.options.fail?.(op, this.log.length)
    const status = injected ?? this.apply(op)
    this.log.push({ op, status })
    return status
  }

  private apply(op: PlanOp): bigint {
    if (op.kind === 'map-gpa') {
      for (let g = op.gpn; g < op.gpn + op.pages; g++) {
        const page = this.page(g)
        // Going shared, the host removes the private page (TDH.MEM.PAGE.REMOVE).
        this.pages.set(g, op.shared ? { ...FRESH, shared: true } : { ...page, shared: false })
      }
      return 0n
    }
    const count = 1n << BigInt(9 * op.level)
    const mapped = this.options.mappedLevel
    // Check every page first: a TDCALL either does all of its mapping or nothing.
    for (let g = op.gpn; g < op.gpn + count; g++) {
      if (mapped !== undefined && mapped(g) < op.level) return makeTdxStatus(TDX_PAGE_SIZE_MISMATCH)
      const page = this.page(g)
      if (page.shared) return makeTdxStatus(TDX_OPERAND_INVALID, 1)
      if (op.kind === 'accept' && page.accepted) return makeTdxStatus(TDX_PAGE_ALREADY_ACCEPTED)
      if (op.kind !== 'accept' && !page.accepted) return makeTdxStatus(TDX_EPT_ENTRY_NOT_PRESENT)
    }
    for (let g = op.gpn; g < op.gpn + count; g++) {
      const page = this.page(g)
      switch (op.kind) {
        case 'accept':
          this.pages.set(g, { ...FRESH, accepted: true })
          break
        case 'release':
          this.pages.set(g, { ...FRESH })
          break
        case 'attr-write': {
          const old = op.vtl === 0 ? page.vm1 : page.vm2
          // VALID comes from RDX; the other bits change only where the mask says so.
          let next = (op.attr & 0x8000) | (old & ~op.mask & 0x7fff) | (op.attr & op.mask)
          if ((next & 0x8000) === 0) next = 0
          this.pages.set(g, op.vtl === 0 ? { ...page, vm1: next } : { ...page, vm2: next })
          break
        }
      }
    }
    return 0n
  }
}

/**
 * Pages in `[start, end)` where the sink's hardware view differs from what the space's map says
 * (accepted, shared, and the VM #1 / #2 attributes), as readable lines; empty when they agree.
 */
export function recordedMismatches(
  space: {
    stateOf(gpa: bigint): { accepted: boolean; shared: boolean; vm1Attr: number; vm2Attr: number }
  },
  sink: RecordingSink,
  start: bigint,
  end: bigint
): string[] {
  const out: string[] = []
  for (let gpn = start; gpn < end; gpn++) {
    const want = space.stateOf(gpn << 12n)
    const got = sink.page(gpn)
    if (
      want.accepted !== got.accepted ||
      want.shared !== got.shared ||
      want.vm1Attr !== got.vm1 ||
      want.vm2Attr !== got.vm2
    ) {
      out.push(
        `gpn 0x${gpn.toString(16)}: map ${JSON.stringify({ accepted: want.accepted, shared: want.shared, vm1: want.vm1Attr, vm2: want.vm2Attr })} vs sink ${JSON.stringify(got)}`
      )
    }
  }
  return out
}
