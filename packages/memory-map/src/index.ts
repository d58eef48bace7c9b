// @vtl/memory-map's public names (explicit barrel).
export {
  GPA_SVG_COLORS,
  collectRuns,
  permissionColor,
  renderGpaSvg,
  renderRunsSvg,
  runColumns,
} from './gpa-svg.js'
export type { GpaSvgInput, GpaSvgOptions, GpaSvgRun } from './gpa-svg.js'
export { svgRunToWireRun, wireRunError, wireRunToSvgRun, wireRunsSvgInput } from './wire-runs.js'
export type { WireRun, WireRunError } from './wire-runs.js'
