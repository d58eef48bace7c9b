export { DEBUG_CONSOLE_PORT, DEBUG_EXIT_PORT, DebugPorts } from './debug-ports.js'
export {
  DEFAULT_MAX_INSTRUCTIONS,
  runGuest,
  type RunGuestOptions,
  type VmcallHandler,
  type X86RunResult,
} from './run-guest.js'
