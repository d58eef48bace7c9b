import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '@vtl/daemon'
import { afterAll, describe, expect, it } from 'vitest'
import { vtlAsync } from './vtl.js'

// Guest actions from the command line against a real vtld (in this process, on a temporary
// socket): `vtl guest`, `vtl reg`, `vtl td step`, and the raw VtlCall/VtlReturn of `vtl hypercall`.

const tmp = mkdtempSync(join(tmpdir(), 'vtl-guest-'))
const socket = join(tmp, 'vtld.sock')
const daemon = await startDaemon({ socket, dataDir: join(tmp, 'data'), scenarioWorkers: 1 })
afterAll(() => daemon.close())

const vtl = (...args: string[]) => vtlAsync(['--socket', socket, ...args])

async function ok(...args: string[]): Promise<string> {
  const r = await vtl(...args)
  expect(r.stderr).toBe('')
  expect(r.code).toBe(0)
  return r.stdout
}

/** A TD whose VP0 has VTL1 enabled and is back in VTL0 with VTL protection on. */
async function vtl1Ready(name: string): Promise<void> {
  await ok('td', 'create', '--name', name, '--vps', '1', '--memory', '8MiB')
  await ok('vsm', 'enable-partition', '--td', name, '--mbec')
  await ok('vsm', 'enable-vp', '--td', name, '--target-vp', '0')
}

describe('vtl guest and vtl reg: protect a page, let VTL0 touch it, see the intercept', () => {
  it('walks the workflow one command at a time, with exit codes', async () => {
    await vtl1Ready('walk')
    expect(await ok('guest', 'vtl-call', '--td', 'walk', '--vtl', '0')).toBe(
      'VP0 VTL0 vtlCall: VP in VTL1\n'
    )
    expect(await ok('reg', 'set', '--td', 'walk', 'VsmPartitionConfig', '0x1f')).toBe(
      'VP0 VTL1 setRegister: Success (VP in VTL1)\n'
    )
    expect(await ok('reg', 'get', '--td', 'walk', 'vsmpartitionconfig')).toBe(
      'VsmPartitionConfig = 0x1f\n'
    )
    await ok('reg', 'set', '--td', 'walk', 'Sint0', '0x31')
    await ok('mem', 'protect', '--td', 'walk', '--gpa', '0x40000', '--flags', 'none')
    expect(await ok('guest', 'vtl-return', '--td', 'walk')).toBe('VP0 VTL1 vtlReturn: VP in VTL0\n')

    // td show: the TD, its VPs' VSM state and what the memory adds up to.
    const overview = JSON.parse(await ok('td', 'show', 'walk', '--json')) as {
      vsm: { partition: { guestVsmState: string }; vps: { vtl1Enabled: boolean }[] }
      memoryMap: Record<string, unknown>
    }
    expect(overview.vsm.partition.guestVsmState).toBe('Enabled')
    expect(overview.vsm.vps[0]?.vtl1Enabled).toBe(true)
    expect(overview.memoryMap).toMatchObject({ ram: '0x800000', protectedForVtl0: '0x1000' })
    expect(await ok('td', 'show', 'walk')).toContain(
      'memory: 8MiB RAM in 3 run(s); 0 shared, 0 not accepted, 4KiB protected from VTL0'
    )
    // An unprotected page reads fine (exit 0), as JSON too.
    const read = await vtl(
      'guest',
      'read',
      '--td',
      'walk',
      '--gpa',
      '0x1000',
      '--size',
      '4',
      '--json'
    )
    expect(read.code).toBe(0)
    expect(JSON.parse(read.stdout)).toEqual({
      vp: 0,
      vtl: 0,
      action: 'read',
      result: { ok: true, value: '0x0', activeVtl: 0 },
    })
    // VTL0 writes the protected page: VTL1 gets the intercept; the command exits 1.
    const touched = await vtl('guest', 'write', '--td', 'walk', '--gpa', '0x40008', '--value', '7')
    expect(touched.code).toBe(1)
    expect(touched.stdout).toBe(
      'VP0 VTL0 write: ok=false intercept={"toVtl":1,"accessType":"write","gpa":"0x40008"} (VP in VTL1)\n'
    )
    expect(await ok('guest', 'eoi', '--td', 'walk', '--vtl', '1')).toBe(
      'VP0 VTL1 eoi: VP in VTL1\n'
    )
  })

  it('refuses bad flags naming the flag and its range (exit 2), before anything is sent', async () => {
    const vector = await vtl(
      'guest',
      'interrupt',
      '--td',
      'x',
      '--vector',
      '300',
      '--target-vtl',
      '1'
    )
    expect(vector).toMatchObject({ code: 2, stdout: '' })
    expect(vector.stderr).toBe(
      "error: option '--vector <n>' argument '300' is invalid. expected an integer from 16 to 255\n"
    )
    const reg = await vtl('reg', 'get', '--td', 'x', 'NoSuchRegister')
    expect(reg.code).toBe(2)
    expect(reg.stderr).toContain("argument 'name'. expected a TLFS register name")
    const size = await vtl('guest', 'read', '--td', 'x', '--gpa', '0', '--size', '3')
    expect(size.code).toBe(2)
    expect(size.stderr).toContain("option '--size <bytes>' argument '3' is invalid")
  })
})

describe('vtl hypercall: VtlCall and VtlReturn take RAX from --rax, not from history', () => {
  it('answers #UD the same way every time, and exits 1 in text and JSON', async () => {
    await vtl1Ready('raw')
    // A Success before it leaves RAX = 0 in the old model; a failed call leaves a status there.
    await vtl('hypercall', '0x000d', 'ffffffffffffffff 01 00 0000 00000000', '--td', 'raw')
    for (let i = 0; i < 2; i++) {
      const text = await vtl('hypercall', '0x0012', '--td', 'raw')
      expect(text).toMatchObject({ code: 1, stdout: 'exception=UD (VP in VTL0)\n', stderr: '' })
      const json = await vtl('hypercall', '0x0012', '--td', 'raw', '--json')
      expect(json.code).toBe(1)
      expect(JSON.parse(json.stdout)).toEqual({ exception: 'UD', activeVtl: 0 })
    }
    const refused = await vtl('hypercall', '0x0011', '--td', 'raw', '--rax', '1')
    expect(refused).toMatchObject({ code: 1, stdout: 'exception=UD (VP in VTL0)\n' })
    expect(await ok('hypercall', '0x0011', '--td', 'raw')).toBe('VP in VTL1\n')
    expect(await ok('hypercall', '0x0012', '--td', 'raw', '--rax', '1')).toBe('VP in VTL0\n')
    const misuse = await vtl('hypercall', '0x0012', '--td', 'raw', '--rax', '2')
    expect(misuse.code).toBe(2)
    expect(misuse.stderr).toMatch(/^vtl: --rax for VtlReturn \(0x12\): 0 or 1/)
    const other = await vtl('hypercall', '0x000d', '--td', 'raw', '--rax', '0')
    expect(other.code).toBe(2)
    expect(other.stderr).toMatch(/^vtl: --rax: only VtlCall \(0x11\) and VtlReturn \(0x12\)/)
  })
})

describe('vtl td step: scenario steps with expectations on a daemon TD', () => {
  const file = (name: string, text: string): string => {
    const path = join(tmp, name)
    writeFileSync(path, text)
    return path
  }

  it('reports like vtl sim run: exit 0 when every expectation holds, 1 when one fails', async () => {
    await vtl1Ready('steps')
    const good = file(
      'protect.yaml',
      `steps:
  - { vp: 0, vtlCall: {}, expect: { activeVtl: 1 } }
  - { vp: 0, setRegister: { name: VsmPartitionConfig, value: '0x1f' }, expect: { status: Success } }
  - { vp: 0, setRegister: { name: Sint0, value: '0x31' } }
  - vp: 0
    hypercall: { name: ModifyVtlProtectionMask, input: { mapFlags: 0, gpns: ['0x40'] } }
    expect: { status: Success }
  - { vp: 0, vtlReturn: {}, expect: { activeVtl: 0 } }
  - vp: 0
    vtl: 0
    read: { gpa: '0x40010' }
    expect: { ok: false, intercept: { toVtl: 1, accessType: read, gpa: '0x40010' }, activeVtl: 1 }
`
    )
    const r = await vtl('td', 'step', '--td', 'steps', '-f', good)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('step 5 VP0 VTL0 read: ok=false intercept=')
    expect(r.stdout).toMatch(/PASS .*protect\.yaml on td-\S+: 6 passed, 0 failed\n$/)

    const bad = file('wrong.json', JSON.stringify([{ vp: 0, eoi: {}, expect: { activeVtl: 0 } }]))
    const failed = await vtl('td', 'step', '--td', 'steps', '-f', bad, '--json')
    expect(failed.code).toBe(1)
    expect(JSON.parse(failed.stdout)).toMatchObject({
      version: 1,
      passed: 0,
      failed: 1,
      steps: [
        {
          index: 0,
          action: 'eoi',
          ok: false,
          mismatches: [{ field: 'activeVtl', expected: 0, actual: 1 }],
        },
      ],
    })
  })

  it('validates the whole file against the TD first (exit 2, nothing runs)', async () => {
    await ok('td', 'create', '--name', 'small', '--vps', '1', '--memory', '4MiB')
    const invalid = file(
      'invalid.yaml',
      'steps:\n  - { vp: 0, vtlCall: {} }\n  - { vp: 3, run: {} }\n'
    )
    const r = await vtl('td', 'step', '--td', 'small', '-f', invalid)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('steps[1].vp')
    const status = JSON.parse(await ok('vsm', 'status', '--td', 'small', '--json')) as {
      vps: { activeVtl: number }[]
    }
    expect(status.vps[0]?.activeVtl).toBe(0)
    const partition = file(
      'scenario.yaml',
      'version: 1\npartition: { vps: 1, memory: 4MiB }\nsteps: []\n'
    )
    const whole = await vtl('td', 'step', '--td', 'small', '-f', partition)
    expect(whole.code).toBe(2)
    expect(whole.stderr).toMatch(/scenario\.yaml: partition: not taken here/)
  })
})
