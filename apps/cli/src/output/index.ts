export { colorsFor, type Colors } from './colors.js'
export { printJson, toJson } from './json.js'
export { progressBar, type Progress } from './progress.js'
export { renderTable } from './table.js'
