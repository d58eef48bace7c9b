import type { VmcallExit } from './vmcall.js'

/**
 * The key of an engine's last VtlCall and VtlReturn exits (`handleVmcall` hands the same exit back
 * for a repeated switch). Kept per engine so no two TDs in a thread share an exit object, and
 * keyed by a symbol the package does not export: not public API.
 */
export const SWITCH_EXITS: unique symbol = Symbol('switchExits')

/** The last VtlCall (0) and VtlReturn (1) exit of one engine. */
export type SwitchExits = [VmcallExit | undefined, VmcallExit | undefined]
