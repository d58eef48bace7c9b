// The route groups createApp registers (explicit barrel).
export { documentIdempotencyHeaders } from './helpers.js'
export { registerMemoryRoutes } from './memory.js'
export { registerScenarioRoutes } from './scenarios.js'
export { registerSnapshotRoutes } from './snapshot.js'
export { registerStepRoutes } from './steps.js'
export { registerTdRoutes } from './tds.js'
export { registerTraceRoutes } from './trace.js'
export { registerVsmRoutes } from './vsm.js'
