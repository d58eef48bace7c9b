export { FaultInjector } from './fault-injector.js'
export type { ArmOptions, FiredFault, RandomFaultOptions } from './fault-injector.js'
