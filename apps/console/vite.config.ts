import { defineConfig } from 'vite'

// Built to static files that vtld serves under /ui/. Workspace packages are bundled from their
// sources (the @vtl/source condition), so the console never waits for their tsup builds.
export default defineConfig({
  base: '/ui/',
  resolve: { conditions: ['@vtl/source'] },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
})
