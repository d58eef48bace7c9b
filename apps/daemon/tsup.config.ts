import { defineConfig } from 'tsup'

export default defineConfig({
  // The scenario worker thread is its own entry: vtld starts it as dist/scenario-worker-thread.js.
  entry: {
    index: 'src/index.ts',
    main: 'src/main.ts',
    'scenario-worker-thread': 'src/scenario-worker-thread.ts',
  },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  target: 'node20',
})
