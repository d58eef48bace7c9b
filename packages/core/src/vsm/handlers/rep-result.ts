import type { HvStatus } from '../../hv/status.js'

/**
 * A rep handler's answer: the status and how many of the elements it was given (from rep start)
 * it completed. The dispatcher adds rep start to get the result word's reps completed.
 */
export interface RepResult {
  status: HvStatus
  processed: number
  /** Output elements for the completed reps (GetVpRegisters, QuerySparseGpaPageHostVisibility). */
  output?: Uint8Array
}
