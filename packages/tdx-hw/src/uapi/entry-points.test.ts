import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import * as numbers from '@vtl/tdx-hw/ioctl-numbers'

const packageDir = fileURLToPath(new URL('../..', import.meta.url))

describe('entry points', () => {
  it('@vtl/tdx-hw/ioctl-numbers holds the tables and no FFI', () => {
    expect(numbers.MshvRequest.MSHV_VTL_TDCALL).toBe(0xc038b832)
    expect(numbers.KvmRequest.KVM_CREATE_GUEST_MEMFD).toBe(0xc040aed4)
    expect('createLibcSyscalls' in numbers).toBe(false)
  })

  it('importing the package does not load koffi until a syscall is made', () => {
    const script = `
      const { createRequire } = await import('node:module')
      const pkg = await import('./src/index.ts')
      const cache = createRequire(import.meta.url).cache
      const loaded = () => Object.keys(cache).some((k) => k.includes('/koffi/'))
      const before = loaded()
      let after = before
      try { pkg.createLibcSyscalls(); after = loaded() } catch { after = 'no koffi' }
      console.log(JSON.stringify({ before, after }))
    `
    const run = spawnSync(
      process.execPath,
      ['--conditions=@vtl/source', '--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: packageDir, encoding: 'utf8' }
    )
    expect(run.stderr).toBe('')
    const { before } = JSON.parse(run.stdout) as { before: boolean }
    expect(before).toBe(false)
  })
})
