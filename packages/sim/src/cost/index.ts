export { CostModel, DEFAULT_COSTS } from './cost-model.js'
export type { CostEvent, CostOverrides, CostTable } from './cost-model.js'
export { SimClock } from './sim-clock.js'
