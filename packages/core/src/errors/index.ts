export { VtlError, toVtlError } from './vtl-error.js'
export type { VtlErrorCode, VtlErrorOptions } from './vtl-error.js'
export { HvError } from './hv-error.js'
