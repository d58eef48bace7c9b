import { classifyGpa, type GuestVtl } from '@vtl/core'
import type { GpaSpace } from '@vtl/memory'
import type { GuestAction } from '../scenario/types.js'
import type { SoftwareTdxModule } from '../tdx-module/software-tdx-module.js'

/** What one canonical page looks like to the hardware (the TD answers from module + GpaSpace). */
export interface PageFacts {
  ram: boolean
  /** Host-visible (converted to shared). */
  shared: boolean
  /** Accepted private page in the Secure EPT. */
  accepted: boolean
  /** The 16-bit GPA_ATTR slot of L2 VM #1 (VTL0) and #2 (VTL1); bit 15 VALID. */
  vm1: number
  vm2: number
}

export type AccessKind = 'read' | 'write' | 'execute'

export type AccessVerdict =
  | { kind: 'ok' }
  /** VTL0 hit a permission VTL1 took away: a GPA intercept for VTL1 (§5.6, §13.3). */
  | { kind: 'vtl-protected'; readable: boolean }
  /** Anything else the paravisor cannot resolve: #MC into the VTL (§5.6, PR #1340). */
  | { kind: 'machine-check'; reason: string }

const ATTR_R = 1
const ATTR_W = 2
const ATTR_KX = 4
const ATTR_UX = 8
const ATTR_VALID = 0x8000

/**
 * The hardware rule for one access (vsm-on-tdx.md §5.1, §5.6, §5.7): the shared alias reaches
 * shared pages from VTL0 only (VM #2 never gets a shared EPT); a private access needs an accepted
 * page whose attributes for that VM allow it. Execute uses KX for kernel mode and UX for user mode
 * when MBEC is on (always for VTL0 on an MBEC-capable TD, never for VTL1), else KX for both.
 */
export function checkAccess(
  page: PageFacts,
  viaSharedAlias: boolean,
  vtl: GuestVtl,
  kind: AccessKind,
  mode: 'kernel' | 'user',
  mbecCapable: boolean
): AccessVerdict {
  if (!page.ram) return { kind: 'machine-check', reason: 'not RAM' }
  if (viaSharedAlias) {
    if (vtl === 1) return { kind: 'machine-check', reason: 'VTL1 has no shared EPT' }
    if (!page.shared)
      return { kind: 'machine-check', reason: 'private page through the shared alias' }
    // Shared memory is never executable by a TD guest.
    return kind === 'execute'
      ? { kind: 'machine-check', reason: 'execute from shared memory' }
      : { kind: 'ok' }
  }
  if (page.shared) return { kind: 'machine-check', reason: 'shared page through the private alias' }
  if (!page.accepted) return { kind: 'machine-check', reason: 'page not accepted' }
  const attr = vtl === 0 ? page.vm1 : page.vm2
  const mbec = vtl === 0 && mbecCapable
  const need =
    kind === 'read'
      ? ATTR_R
      : kind === 'write'
        ? ATTR_W
        : mode === 'user' && mbec
          ? ATTR_UX
          : ATTR_KX
  if ((attr & ATTR_VALID) !== 0 && (attr & need) !== 0) return { kind: 'ok' }
  if (vtl === 0)
    return { kind: 'vtl-protected', readable: (attr & ATTR_VALID) !== 0 && (attr & ATTR_R) !== 0 }
  return { kind: 'machine-check', reason: 'VTL1 attributes deny the access' }
}

/**
 * Where the hardware looks up an access: the TD's geometry, its GPA space and the software TDX
 * module's Secure EPT. The simulated TD and the hardware path's SimKernel-backed TD both are one.
 */
export interface AccessPlatform {
  readonly memoryBytes: bigint
  readonly gpaWidth: 48 | 52
  readonly mbecCapable: boolean
  readonly space: Pick<GpaSpace, 'stateOf'>
  readonly module: Pick<SoftwareTdxModule, 'pageAttr'>
}

export type MemoryAccess = Extract<GuestAction, { kind: AccessKind }>

/** The facts of one canonical page (outside RAM: nothing is mapped). */
export function pageFacts(platform: AccessPlatform, gpn: bigint): PageFacts {
  if (gpn << 12n >= platform.memoryBytes) {
    return { ram: false, shared: false, accepted: false, vm1: 0, vm2: 0 }
  }
  const state = platform.space.stateOf(gpn << 12n)
  const attr = platform.module.pageAttr(gpn)
  return {
    ram: state.kind === 'ram',
    shared: state.shared,
    accepted: attr.accepted,
    vm1: attr.vm1,
    vm2: attr.vm2,
  }
}

/** The first page of an access the hardware refuses (its GPA as the guest used it), with the verdict. */
export function findAccessFault(
  platform: AccessPlatform,
  vtl: GuestVtl,
  action: MemoryAccess
): { gpa: bigint; verdict: Exclude<AccessVerdict, { kind: 'ok' }> } | undefined {
  const { canonical, shared } = classifyGpa(action.gpa, platform.gpaWidth)
  const mode = action.kind === 'execute' ? action.mode : 'kernel'
  const first = canonical >> 12n
  const last = (canonical + BigInt(action.size - 1)) >> 12n
  for (let gpn = first; gpn <= last; gpn++) {
    const facts = pageFacts(platform, gpn)
    const verdict = checkAccess(facts, shared, vtl, action.kind, mode, platform.mbecCapable)
    if (verdict.kind !== 'ok') {
      return { gpa: gpn === first ? action.gpa : (gpn << 12n) | (action.gpa - canonical), verdict }
    }
  }
  return undefined
}
