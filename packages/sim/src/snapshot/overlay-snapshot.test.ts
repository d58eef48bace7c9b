import { describe, expect, it } from 'vitest'
import { upgradeOverlays } from './overlay-snapshot.js'

const big = (v: bigint): string => `bigint:0x${v.toString(16)}`
const hex = (v: number): string => `0x${v.toString(16)}`

/** A saved VTL whose VP assist page maps `gpn` (or nothing: 0). */
const vtl = (gpn: bigint): unknown => ({
  vpAssistPage: gpn === 0n ? big(0n) : big((gpn << 12n) | 1n),
  hypercallMsr: big(0n),
  synic: { simp: big(0n), siefp: big(0n) },
})

const upgraded = (vps: unknown[], runs: unknown[]): unknown =>
  (
    upgradeOverlays<{ vps: unknown; memory: unknown }>({ vps, memory: { runs, defaults: {} } })
      .memory as { overlays: unknown }
  ).overlays

describe('upgradeOverlays (a snapshot saved before memory.overlays)', () => {
  it('gives each mapped page the first holding run’s permissions, null when none or no run', () => {
    const vps = [{ vtls: [vtl(0x10n), vtl(0x10n)] }, { vtls: [vtl(0x30n), vtl(0x20n)] }]
    const runs = [
      'not a run',
      { start: 'bad', end: hex(0x40000), vtl0: 1, vtl1: 1 },
      { start: hex(0x20000), end: hex(0x21000), vtl0: 3, vtl1: 'x' },
      { start: hex(0x0), end: hex(0x40000), vtl0: 7, vtl1: 5 }, // overlaps: first one wins
      { start: hex(0x10000), end: hex(0x11000), vtl0: 9, vtl1: 9 },
    ]
    expect(upgraded(vps, runs)).toEqual([
      { vtl: 0, gpn: '0x10', saved: 7 },
      { vtl: 1, gpn: '0x10', saved: 5 },
      { vtl: 1, gpn: '0x20', saved: null },
      { vtl: 0, gpn: '0x30', saved: 7 },
    ])
    expect(upgraded(vps, runs.slice(0, 3))).toEqual([
      { vtl: 0, gpn: '0x10', saved: null },
      { vtl: 1, gpn: '0x10', saved: null },
      { vtl: 1, gpn: '0x20', saved: null },
      { vtl: 0, gpn: '0x30', saved: null },
    ])
  })

  it('reads each run once however many pages are mapped (MEDIUM 3: was pages × runs)', () => {
    const pages = 2048
    const vps = Array.from({ length: pages / 2 }, (_, i) => ({
      vtls: [vtl(BigInt(0x100000 + 2 * i)), vtl(BigInt(0x100000 + 2 * i + 1))],
    }))
    const base = 0x1_0000_0000
    let reads = 0
    const runs = Array.from(
      { length: 20_000 },
      (_, r) =>
        new Proxy(
          {
            start: hex(base + r * 0x4000),
            end: hex(base + (r + 1) * 0x4000),
            vtl0: 15,
            vtl1: r % 16,
          },
          {
            get: (target, key): unknown => {
              if (key === 'start') reads++
              return Reflect.get(target, key)
            },
          }
        )
    )
    const overlays = upgraded(vps, runs) as { gpn: string; saved: number | null }[]
    expect(overlays).toHaveLength(pages)
    expect(overlays.filter((o) => o.saved !== null)).toHaveLength(pages)
    expect(overlays[1001]).toEqual({ vtl: 1, gpn: '0x1003e9', saved: 10 })
    expect(reads).toBe(runs.length)
  })
})
