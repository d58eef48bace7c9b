import {
  classifyGpa,
  deliverGpaIntercept,
  hvStatusName,
  type GpaWidth,
  type GuestVtl,
  type VsmEngine,
} from '@vtl/core'
import type { StepResult } from '../scenario/types.js'
import type { AccessVerdict } from './access.js'
import { hex } from './guest-hypercall.js'

const MACHINE_CHECK = 18

/**
 * `check_mem_fault` (§5.6), as a paravisor on any host handles an EPT-violation exit: no refused
 * page → spurious; a VTL0 access VTL1's protections refuse → a GPA intercept on VTL1's SINT0 (READ
 * or WRITE only: a fetch is probed as a read, §13.3); anything else → #MC into the VTL.
 */
export function handleMemoryFault(
  engine: VsmEngine,
  vp: number,
  vtl: GuestVtl,
  access: 'read' | 'write' | 'execute',
  verdict: Exclude<AccessVerdict, { kind: 'ok' }> | undefined,
  exitGpa: bigint,
  gpaWidth: GpaWidth
): StepResult {
  if (verdict === undefined) return { ok: false, spurious: true }
  if (verdict.kind === 'machine-check') {
    engine.ports.vp.injectException(vp, vtl, { vector: MACHINE_CHECK })
    return { ok: false, exception: 'MC' }
  }
  const { canonical } = classifyGpa(exitGpa, gpaWidth)
  const outcome = deliverGpaIntercept(engine, vp, {
    gpa: canonical,
    access,
    readable: verdict.readable,
    instructionLength: 3,
  })
  if (outcome.spurious) return { ok: false, spurious: true }
  if (outcome.status !== 0) {
    return { ok: false, interceptStatus: hvStatusName(outcome.status) ?? outcome.status }
  }
  const accessType = access === 'write' ? 'write' : 'read'
  return { ok: false, intercept: { toVtl: 1, accessType, gpa: hex(canonical) } }
}
