import {
  checkAccess,
  classifyGpa,
  type AccessKind,
  type AccessVerdict,
  type GuestVtl,
  type PageFacts,
} from '@vtl/core'
import type { GpaSpace } from '@vtl/memory'
import type { GuestAction } from '../scenario/types.js'
import type { SoftwareTdxModule } from '../tdx-module/software-tdx-module.js'

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
    const verdict = checkAccess(
      facts,
      shared,
      vtl,
      action.kind,
      mode === 'user',
      platform.mbecCapable
    )
    if (verdict.kind !== 'ok') {
      return { gpa: gpn === first ? action.gpa : (gpn << 12n) | (action.gpa - canonical), verdict }
    }
  }
  return undefined
}
