import { describe, expect, it, vi } from 'vitest'
import { runCli } from '../src/cli.js'

/** Exit code and stderr of `runCli(args)` in this process. */
async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = ''
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk)
    return true
  })
  try {
    return { code: await runCli(args), stderr }
  } finally {
    spy.mockRestore()
  }
}

describe('vtl-campaign usage errors exit 2 before anything runs', () => {
  it.each([
    [['fuzz', '--shard', '5/4'], /--shard 5\/4: expected i\/n with 1 ≤ i ≤ n/],
    [['fuzz', '--shard', 'two'], /--shard two/],
    [['fuzz', '--runs=-1'], /--runs must be a number/],
    [['nope'], /name one campaign/],
    [['merge'], /name the shard summaries/],
    [['merge', 'shards/', '--seed', '3'], /name the shard summaries \(and only --out\)/],
    [['merge', '/nonexistent/shards'], /vtl-campaign merge: \/nonexistent\/shards: /],
  ])('%j', async (args, message) => {
    const { code, stderr } = await run(args)
    expect(code).toBe(2)
    expect(stderr).toMatch(message)
  })
})
