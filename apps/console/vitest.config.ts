import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@vtl/source'] },
  ssr: { resolve: { conditions: ['@vtl/source'] } },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  test: {
    name: '@vtl/console',
    // Component tests run in happy-dom (a file comment says so); the browser suite in node.
    include: ['src/**/*.test.{ts,tsx}', 'test/**/*.test.ts'],
    setupFiles: ['../../scripts/vitest-setup.ts'],
    testTimeout: 60_000,
  },
})
