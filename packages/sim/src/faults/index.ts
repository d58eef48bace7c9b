export { FaultInjector } from './fault-injector.js'
export type {
  ArmOptions,
  FaultInjectorJson,
  FiredFault,
  RandomFaultOptions,
} from './fault-injector.js'
