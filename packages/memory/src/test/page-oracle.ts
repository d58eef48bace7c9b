// A deliberately naive model of the same rules, one object per page, written from the spec and
// not from the interval-map code. Tests drive both with the same operations and compare pages.

export type Kind = 'ram' | 'mmio' | 'none'

export interface OraclePage {
  kind: Kind
  accepted: boolean
  shared: boolean
  locked: boolean
  /** Per VTL: HvMapGpaFlags (R W KX UX) or undefined when there is no VALID attribute. */
  perms: [number | undefined, number | undefined]
  overlays: [number, number]
  saved: [number | undefined, number | undefined]
}

const OPERATION_DENIED = 0x08
const ACCESS_DENIED = 0x06

export class PageOracle {
  readonly pages = new Map<number, OraclePage>()
  defaults: [number, number | undefined] = [0xf, undefined]

  constructor(ram: [number, number][], mmio: [number, number][]) {
    for (const [s, e] of ram) for (let g = s; g < e; g++) this.pages.set(g, blank('ram'))
    for (const [s, e] of mmio) for (let g = s; g < e; g++) this.pages.set(g, blank('mmio'))
  }

  get(g: number): OraclePage {
    return this.pages.get(g) ?? blank('none')
  }

  clone(): PageOracle {
    const copy = new PageOracle([], [])
    for (const [g, p] of this.pages) {
      copy.pages.set(g, {
        ...p,
        perms: [...p.perms],
        overlays: [...p.overlays],
        saved: [...p.saved],
      })
    }
    copy.defaults = [...this.defaults]
    return copy
  }

  /** Returns an error code when the typed call must throw. */
  accept(s: number, e: number): string | undefined {
    for (let g = s; g < e; g++) if (this.get(g).kind !== 'ram') return 'E_NOT_RAM'
    for (let g = s; g < e; g++) {
      const p = this.get(g)
      if (p.accepted || p.shared) return 'E_ALREADY_ACCEPTED'
    }
    for (let g = s; g < e; g++) {
      const p = this.get(g)
      p.accepted = true
      p.perms = [this.defaults[0], this.defaults[1]]
    }
    return undefined
  }

  setDefault(vtl: 0 | 1, flags: number): number {
    const targets = [...this.pages.values()].filter(
      (p) => p.kind === 'ram' && p.accepted && !p.shared
    )
    if (targets.some((p) => p.locked)) return OPERATION_DENIED
    this.defaults[vtl] = flags
    for (const p of targets) {
      if (p.overlays[vtl] > 0) p.saved[vtl] = flags
      else p.perms[vtl] = flags
    }
    return 0
  }

  protect(vtl: 0 | 1, gpns: number[], flags: number): number {
    for (const g of gpns) {
      const p = this.get(g)
      const ok = p.kind === 'ram' && p.accepted && !p.shared && !p.locked && p.overlays[vtl] === 0
      if (!ok) return OPERATION_DENIED
    }
    for (const g of gpns) this.get(g).perms[vtl] = flags
    return 0
  }

  visibility(
    caller: 0 | 1,
    gpns: number[],
    shared: boolean
  ): { status: number; processed: number } {
    for (const g of gpns) {
      const p = this.get(g)
      if (p.kind !== 'ram' || p.locked) return { status: OPERATION_DENIED, processed: 0 }
      if (shared && (p.overlays[0] > 0 || p.overlays[1] > 0)) {
        return { status: OPERATION_DENIED, processed: 0 }
      }
    }
    let status = 0
    let count = gpns.length
    if (caller === 0 && shared) {
      for (let k = 0; k < gpns.length; k++) {
        const p = this.get(gpns[k] ?? -1)
        if (p.shared) continue
        const v = p.perms[0]
        if (v === undefined || (v & 3) !== 3) {
          status = ACCESS_DENIED
          count = k
          break
        }
      }
    }
    for (const g of gpns.slice(0, count)) {
      const p = this.get(g)
      if (p.shared === shared) continue
      p.shared = shared
      p.accepted = !shared
      p.perms = shared ? [undefined, undefined] : [this.defaults[0], this.defaults[1]]
    }
    return { status, processed: count }
  }

  lock(s: number, e: number, locked: boolean): string | undefined {
    for (let g = s; g < e; g++) if (this.get(g).kind !== 'ram') return 'E_NOT_RAM'
    for (let g = s; g < e; g++) this.get(g).locked = locked
    return undefined
  }

  registerOverlay(vtl: 0 | 1, g: number, check: number, perms: number | undefined): number {
    const p = this.get(g)
    const have = p.perms[vtl] ?? 0
    if (p.overlays[vtl] > 0) {
      const needed = perms ?? check
      if ((have & needed) !== needed) return OPERATION_DENIED
      p.overlays[vtl]++
      return 0
    }
    if (p.kind !== 'ram' || !p.accepted || p.shared || p.locked) return OPERATION_DENIED
    if ((have & check) !== check) return OPERATION_DENIED
    p.saved[vtl] = p.perms[vtl]
    p.overlays[vtl] = 1
    if (perms !== undefined) p.perms[vtl] = perms
    return 0
  }

  unregisterOverlay(vtl: 0 | 1, g: number): number {
    const p = this.get(g)
    if (p.overlays[vtl] === 0) return OPERATION_DENIED
    p.overlays[vtl]--
    if (p.overlays[vtl] === 0) p.perms[vtl] = p.saved[vtl]
    return 0
  }
}

function blank(kind: Kind): OraclePage {
  return {
    kind,
    accepted: false,
    shared: false,
    locked: false,
    perms: [undefined, undefined],
    overlays: [0, 0],
    saved: [undefined, undefined],
  }
}

/** The 16-bit GpaVmAttributes the hardware should hold for a permission. */
export function attrOf(perms: number | undefined): number {
  return perms === undefined ? 0 : 0x8000 | perms
}
