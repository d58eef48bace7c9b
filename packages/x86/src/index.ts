export * from './unicorn/index.js'
