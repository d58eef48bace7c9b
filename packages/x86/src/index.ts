export * from './cpu/index.js'
export * from './loader/index.js'
export * from './run/index.js'
export * from './unicorn/index.js'
