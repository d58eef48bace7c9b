import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@vtl/source'] },
  ssr: { resolve: { conditions: ['@vtl/source'] } },
  test: {
    name: '@vtl/cli',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['../../scripts/vitest-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
})
