import { defineConfig } from 'tsup'

export default defineConfig({
  // The sim check worker thread is its own entry: vtl starts it as dist/check-worker.js.
  entry: { index: 'src/index.ts', main: 'src/main.ts', 'check-worker': 'src/check-worker.ts' },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
})
