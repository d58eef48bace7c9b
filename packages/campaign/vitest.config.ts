import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@vtl/source'] },
  ssr: { resolve: { conditions: ['@vtl/source'] } },
  test: {
    name: '@vtl/campaign',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    setupFiles: ['../../scripts/vitest-setup.ts'],
    testTimeout: 120_000,
  },
})
