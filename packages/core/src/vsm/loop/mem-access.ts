import type { GuestVtl } from '../../hv/vtl.js'
import { GPA_VM_ATTR_FLAG_INVEPT, GpaVmAttr } from '../../tdx/page-attr.js'

/** What one canonical page looks like in the Secure EPT and the GPA space. */
export interface PageFacts {
  ram: boolean
  /** Host-visible (converted to shared). */
  shared: boolean
  /** An accepted private page. */
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

const OK: AccessVerdict = { kind: 'ok' }
const VALID = GPA_VM_ATTR_FLAG_INVEPT

/**
 * The access rule for one page (§5.1, §5.6, §5.7), which the hardware applies when it decides to
 * exit and the paravisor applies again when it handles the EPT violation: the shared alias
 * reaches shared pages from VTL0 only (VM #2 never gets a shared EPT); a private access needs an
 * accepted page whose attributes for that VM allow it. Execute uses Xs for kernel mode and Xu for
 * user mode when MBEC is on (always for VTL0 on an MBEC-capable TD, never for VTL1), else Xs.
 */
export function checkAccess(
  page: PageFacts,
  viaSharedAlias: boolean,
  vtl: GuestVtl,
  kind: AccessKind,
  userMode: boolean,
  mbecCapable: boolean
): AccessVerdict {
  if (!page.ram) return { kind: 'machine-check', reason: 'not RAM' }
  if (viaSharedAlias) {
    if (vtl === 1) return { kind: 'machine-check', reason: 'VTL1 has no shared EPT' }
    if (!page.shared)
      return { kind: 'machine-check', reason: 'private page through the shared alias' }
    // Shared memory is never executable by a TD guest.
    return kind === 'execute' ? { kind: 'machine-check', reason: 'execute from shared memory' } : OK
  }
  if (page.shared) return { kind: 'machine-check', reason: 'shared page through the private alias' }
  if (!page.accepted) return { kind: 'machine-check', reason: 'page not accepted' }
  const attr = vtl === 0 ? page.vm1 : page.vm2
  const need =
    kind === 'read'
      ? GpaVmAttr.R
      : kind === 'write'
        ? GpaVmAttr.W
        : userMode && vtl === 0 && mbecCapable
          ? GpaVmAttr.Xu
          : GpaVmAttr.Xs
  if ((attr & VALID) !== 0 && (attr & need) !== 0) return OK
  if (vtl === 0) {
    return { kind: 'vtl-protected', readable: (attr & VALID) !== 0 && (attr & GpaVmAttr.R) !== 0 }
  }
  return { kind: 'machine-check', reason: 'VTL1 attributes deny the access' }
}
