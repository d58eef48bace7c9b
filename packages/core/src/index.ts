// Each area keeps an explicit barrel of its public names; this file only joins them.
export * from './errors/index.js'
export * from './hv/index.js'
export * from './tdx/index.js'
export * from './validation/index.js'
export * from './vsm/index.js'
export * from './x86/index.js'
