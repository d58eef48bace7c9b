import { checkObject, checkU64, expectLength, expectRoom, readU64, viewOf } from './bytes.js'
import {
  checkSegmentRegister,
  checkTableRegister,
  putSegmentRegister,
  putTableRegister,
  readSegmentRegister,
  readTableRegister,
  type SegmentRegister,
  type TableRegister,
} from './segment-register.js'

/**
 * `InitialVpContextX64` (224 B; vsm-on-tdx.md §1.4). It carries no GPRs other than RSP, no debug
 * registers and no XCR0: when applied, every register not listed keeps its value (§4.4).
 */
export interface InitialVpContextX64 {
  rip: bigint
  rsp: bigint
  rflags: bigint
  cs: SegmentRegister
  ds: SegmentRegister
  es: SegmentRegister
  fs: SegmentRegister
  gs: SegmentRegister
  ss: SegmentRegister
  tr: SegmentRegister
  ldtr: SegmentRegister
  idtr: TableRegister
  gdtr: TableRegister
  efer: bigint
  cr0: bigint
  cr3: bigint
  cr4: bigint
  msrCrPat: bigint
}

export const INITIAL_VP_CONTEXT_X64_SIZE = 224

/** Byte offsets of each field inside the context. */
export const InitialVpContextX64Offset = {
  rip: 0,
  rsp: 8,
  rflags: 16,
  cs: 24,
  ds: 40,
  es: 56,
  fs: 72,
  gs: 88,
  ss: 104,
  tr: 120,
  ldtr: 136,
  idtr: 152,
  gdtr: 168,
  efer: 184,
  cr0: 192,
  cr3: 200,
  cr4: 208,
  msrCrPat: 216,
} as const

const FIELD = 'InitialVpContextX64'
const U64S_HEAD = ['rip', 'rsp', 'rflags'] as const
const U64S_TAIL = ['efer', 'cr0', 'cr3', 'cr4', 'msrCrPat'] as const

function isU64(value: unknown): boolean {
  return typeof value === 'bigint' && value >= 0n && value <= 0xffff_ffff_ffff_ffffn
}

/** Range-checks every field (E_FIELD_RANGE naming it, e.g. `InitialVpContextX64.cs.limit`). */
export function checkInitialVpContextX64(ctx: InitialVpContextX64): void {
  checkObject(ctx, FIELD)
  // Straight-line on purpose: this runs for every EnableVpVtl / StartVirtualProcessor encode, and
  // a loop over field names turns every access into a slow keyed lookup.
  if (!(
    isU64(ctx.rip) &&
    isU64(ctx.rsp) &&
    isU64(ctx.rflags) &&
    isU64(ctx.efer) &&
    isU64(ctx.cr0) &&
    isU64(ctx.cr3) &&
    isU64(ctx.cr4) &&
    isU64(ctx.msrCrPat)
  )) {
    for (const name of U64S_HEAD) checkU64(ctx[name], FIELD, name)
    for (const name of U64S_TAIL) checkU64(ctx[name], FIELD, name)
  }
  checkSegmentRegister(ctx.cs, FIELD, 'cs')
  checkSegmentRegister(ctx.ds, FIELD, 'ds')
  checkSegmentRegister(ctx.es, FIELD, 'es')
  checkSegmentRegister(ctx.fs, FIELD, 'fs')
  checkSegmentRegister(ctx.gs, FIELD, 'gs')
  checkSegmentRegister(ctx.ss, FIELD, 'ss')
  checkSegmentRegister(ctx.tr, FIELD, 'tr')
  checkSegmentRegister(ctx.ldtr, FIELD, 'ldtr')
  checkTableRegister(ctx.idtr, FIELD, 'idtr')
  checkTableRegister(ctx.gdtr, FIELD, 'gdtr')
}

/** Writes without checks; callers have run `checkInitialVpContextX64` and made room. */
export function putInitialVpContextX64(
  view: DataView,
  offset: number,
  ctx: InitialVpContextX64
): void {
  view.setBigUint64(offset, ctx.rip, true)
  view.setBigUint64(offset + 8, ctx.rsp, true)
  view.setBigUint64(offset + 16, ctx.rflags, true)
  putSegmentRegister(view, offset + 24, ctx.cs)
  putSegmentRegister(view, offset + 40, ctx.ds)
  putSegmentRegister(view, offset + 56, ctx.es)
  putSegmentRegister(view, offset + 72, ctx.fs)
  putSegmentRegister(view, offset + 88, ctx.gs)
  putSegmentRegister(view, offset + 104, ctx.ss)
  putSegmentRegister(view, offset + 120, ctx.tr)
  putSegmentRegister(view, offset + 136, ctx.ldtr)
  putTableRegister(view, offset + 152, ctx.idtr)
  putTableRegister(view, offset + 168, ctx.gdtr)
  view.setBigUint64(offset + 184, ctx.efer, true)
  view.setBigUint64(offset + 192, ctx.cr0, true)
  view.setBigUint64(offset + 200, ctx.cr3, true)
  view.setBigUint64(offset + 208, ctx.cr4, true)
  view.setBigUint64(offset + 216, ctx.msrCrPat, true)
}

/** Checks every field first, so a bad value leaves the buffer untouched. */
export function writeInitialVpContextX64(
  view: DataView,
  offset: number,
  ctx: InitialVpContextX64
): void {
  expectRoom(view, offset, INITIAL_VP_CONTEXT_X64_SIZE, FIELD)
  checkInitialVpContextX64(ctx)
  putInitialVpContextX64(view, offset, ctx)
}

export function readInitialVpContextX64(view: DataView, offset: number): InitialVpContextX64 {
  expectRoom(view, offset, INITIAL_VP_CONTEXT_X64_SIZE, FIELD)
  const o = InitialVpContextX64Offset
  return {
    rip: readU64(view, offset + o.rip),
    rsp: readU64(view, offset + o.rsp),
    rflags: readU64(view, offset + o.rflags),
    cs: readSegmentRegister(view, offset + o.cs),
    ds: readSegmentRegister(view, offset + o.ds),
    es: readSegmentRegister(view, offset + o.es),
    fs: readSegmentRegister(view, offset + o.fs),
    gs: readSegmentRegister(view, offset + o.gs),
    ss: readSegmentRegister(view, offset + o.ss),
    tr: readSegmentRegister(view, offset + o.tr),
    ldtr: readSegmentRegister(view, offset + o.ldtr),
    idtr: readTableRegister(view, offset + o.idtr),
    gdtr: readTableRegister(view, offset + o.gdtr),
    efer: readU64(view, offset + o.efer),
    cr0: readU64(view, offset + o.cr0),
    cr3: readU64(view, offset + o.cr3),
    cr4: readU64(view, offset + o.cr4),
    msrCrPat: readU64(view, offset + o.msrCrPat),
  }
}

export function encodeInitialVpContextX64(ctx: InitialVpContextX64): Uint8Array {
  const bytes = new Uint8Array(INITIAL_VP_CONTEXT_X64_SIZE)
  writeInitialVpContextX64(viewOf(bytes), 0, ctx)
  return bytes
}

export function decodeInitialVpContextX64(bytes: Uint8Array): InitialVpContextX64 {
  expectLength(bytes, INITIAL_VP_CONTEXT_X64_SIZE, FIELD)
  return readInitialVpContextX64(viewOf(bytes), 0)
}

function zeroSegment(): SegmentRegister {
  return { base: 0n, limit: 0, selector: 0, attributes: 0 }
}

/** The all-zero context: what OpenHCL hands the hypervisor on TDX (§4.1 step 8). */
export function zeroInitialVpContextX64(): InitialVpContextX64 {
  return {
    rip: 0n,
    rsp: 0n,
    rflags: 0n,
    cs: zeroSegment(),
    ds: zeroSegment(),
    es: zeroSegment(),
    fs: zeroSegment(),
    gs: zeroSegment(),
    ss: zeroSegment(),
    tr: zeroSegment(),
    ldtr: zeroSegment(),
    idtr: { limit: 0, base: 0n },
    gdtr: { limit: 0, base: 0n },
    efer: 0n,
    cr0: 0n,
    cr3: 0n,
    cr4: 0n,
    msrCrPat: 0n,
  }
}

function flatSegment(selector: number, attributes: number): SegmentRegister {
  return { base: 0n, limit: 0xffff_ffff, selector, attributes }
}

/**
 * A context TDX accepts as it is (§13.11): flat 64-bit long mode with EFER = LME|LMA|NXE|SCE,
 * CR0 = PE|ET|NE|PG, CR4 = PAE, the default PAT. Tests, examples and scenarios override only what
 * they care about (usually `rip` and `rsp`).
 */
export function longModeInitialVpContextX64(
  overrides: Partial<InitialVpContextX64> = {}
): InitialVpContextX64 {
  return {
    rip: 0x1000n,
    rsp: 0x8000n,
    rflags: 0x2n,
    cs: flatSegment(0x08, 0xa09b),
    ds: flatSegment(0x10, 0xc093),
    es: flatSegment(0x10, 0xc093),
    fs: flatSegment(0x10, 0xc093),
    gs: flatSegment(0x10, 0xc093),
    ss: flatSegment(0x10, 0xc093),
    tr: { base: 0n, limit: 0x67, selector: 0x18, attributes: 0x8b },
    ldtr: { base: 0n, limit: 0, selector: 0, attributes: 0x82 },
    idtr: { limit: 0xfff, base: 0x2000n },
    gdtr: { limit: 0x1f, base: 0x3000n },
    efer: 0xd01n,
    cr0: 0x8000_0031n,
    cr3: 0x4000n,
    cr4: 0x20n,
    msrCrPat: 0x0007_0406_0007_0406n,
    ...overrides,
  }
}
