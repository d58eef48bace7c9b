import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@vtl/source'] },
  ssr: { resolve: { conditions: ['@vtl/source'] } },
  test: {
    name: '@vtl/x86',
    include: ['src/**/*.test.ts'],
    setupFiles: ['../../scripts/vitest-setup.ts'],
    globalSetup: ['./src/test/build-kernels.setup.ts'],
  },
})
