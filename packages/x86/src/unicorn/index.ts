export * from './constants.js'
export { UnicornEngine, type UcMemFault, type X86TableRegister } from './unicorn-engine.js'
export { UnicornError, ucErrName, type UcErrName } from './unicorn-error.js'
export {
  isAvailable,
  loadUnicorn,
  unicornAvailability,
  type UnicornAvailability,
  type UnicornLibrary,
} from './unicorn-library.js'
