import { hvStatusName, type ExitOutcome } from '@vtl/core'
import type { IssuedCall } from './guest-exit.js'

/**
 * What the guest's reissue of a call it was told to retry (RIP still on its VMCALL) came to: still
 * blocked, with the control word the paravisor asked for next, or resumed with its outcome (the
 * step's `resumed`). An exit other than that VMCALL (the VP could not run) leaves it as it was.
 */
export function afterReissue(
  blocked: IssuedCall,
  exit: ExitOutcome | undefined
): { blocked: IssuedCall | undefined; resumed: string | undefined } {
  if (exit?.kind !== 'vmcall') return { blocked, resumed: undefined }
  const outcome = exit.outcome
  if (outcome.kind === 'retry') {
    return { blocked: { ...blocked, control: outcome.control }, resumed: undefined }
  }
  const resumed =
    outcome.kind === 'completed'
      ? (hvStatusName(outcome.status) ?? `${outcome.status}`)
      : outcome.kind
  return { blocked: undefined, resumed }
}
