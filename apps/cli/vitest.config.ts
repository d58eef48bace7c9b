import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@vtl/source'] },
  ssr: { resolve: { conditions: ['@vtl/source'] } },
  test: { name: '@vtl/cli', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
})
