import { readFileSync } from 'node:fs'
import { defineProject } from 'vitest/config'

// @actions/workflow-parser (the recipes test) imports its JSON schema without an import attribute,
// which Node refuses: Vite loads it instead, without the source maps it ships no sources for.
const WORKFLOW_PARSER = /\/@actions\/workflow-parser\/dist\/.*\.js$/

export default defineProject({
  resolve: { conditions: ['@vtl/source'] },
  ssr: { resolve: { conditions: ['@vtl/source'] } },
  plugins: [
    {
      name: 'workflow-parser-without-source-maps',
      load: (id) =>
        WORKFLOW_PARSER.test(id)
          ? readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '')
          : null,
    },
  ],
  test: {
    name: '@vtl/campaign',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    setupFiles: ['../../scripts/vitest-setup.ts'],
    testTimeout: 120_000,
    server: { deps: { inline: ['@actions/workflow-parser'] } },
  },
})
