export type { ProtectionPort, RepOutcome } from './protection-port.js'
