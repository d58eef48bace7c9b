import { formatHvStatus, type HvStatus } from '../hv/status.js'
import { VtlError, type VtlErrorOptions } from './vtl-error.js'

// Registry-wide, like VtlError's: two installed copies recognise each other's errors.
const marker = Symbol.for('vtl.error.HvError')

/**
 * A non-success hypercall status raised as an error, for code paths (ports, clients) where an
 * exception is the natural shape. Handlers return statuses instead of throwing this.
 */
export class HvError extends VtlError {
  readonly [marker] = true
  readonly status: HvStatus

  constructor(status: HvStatus, message?: string, options: VtlErrorOptions = {}) {
    super('E_HV_STATUS', message ?? formatHvStatus(status), options)
    this.name = 'HvError'
    this.status = status
  }

  static override isInstance(value: unknown): value is HvError {
    return VtlError.isInstance(value) && marker in value
  }
}
