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
    // An unprotected page reads fine (exit 0), as JSON too. (Not 0x0 or 0x1000: the guest's
    // hypercall input and output pages, which the calls above wrote.)
    const read = await vtl(
      'guest',
      'read',
      '--td',
      'walk',
      '--gpa',
      '0x2000',
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

describe('vtl guest io|write-cr|msr: the instructions VTL1 can intercept', () => {
  it('performs them, refuses what the CPU refuses, and hands what VTL1 watches to VTL1', async () => {
    await ok('td', 'create', '--name', 'hvci', '--vps', '1', '--memory', '8MiB')
    // Before VTL1 exists every instruction is performed: paging with WP, an unclaimed port.
    const pg = ['--td', 'hvci', '--cr', '0']
    expect(await ok('guest', 'write-cr', ...pg, '--value', '0x80010031')).toBe(
      'VP0 VTL0 writeCr: ok=true (VP in VTL0)\n'
    )
    const port = await vtl('guest', 'io', '--td', 'hvci', '--port', '0x60', '--json')
    expect(port.code).toBe(0)
    expect(JSON.parse(port.stdout)).toMatchObject({ result: { ok: true, value: '0xff' } })
    const lstar = ['--td', 'hvci', '--msr', 'Lstar']
    await ok('guest', 'msr', ...lstar, '--value', '0xfffff80000001000')
    expect(JSON.parse(await ok('guest', 'msr', ...lstar, '--json'))).toMatchObject({
      result: { ok: true, value: '0xfffff80000001000' },
    })
    // PG without PE: #GP, exit 1.
    const gp = await vtl('guest', 'write-cr', ...pg, '--value', '0x80010030', '--json')
    expect(gp.code).toBe(1)
    expect(JSON.parse(gp.stdout)).toMatchObject({ result: { ok: false, exception: 'GP' } })

    // VTL1 locks CR0.WP (HVCI): a write that clears WP goes to VTL1, one that keeps it is performed.
    await ok('vsm', 'enable-partition', '--td', 'hvci')
    await ok('vsm', 'enable-vp', '--td', 'hvci', '--target-vp', '0')
    await ok('guest', 'vtl-call', '--td', 'hvci')
    await ok('reg', 'set', '--td', 'hvci', 'Sint0', '0x31')
    await ok('reg', 'set', '--td', 'hvci', 'CrInterceptCr0Mask', '0x10000')
    await ok('reg', 'set', '--td', 'hvci', 'CrInterceptControl', '0x1')
    await ok('guest', 'vtl-return', '--td', 'hvci')
    expect(await ok('guest', 'write-cr', ...pg, '--value', '0x80010033')).toBe(
      'VP0 VTL0 writeCr: ok=true (VP in VTL0)\n'
    )
    const cleared = await vtl('guest', 'write-cr', ...pg, '--value', '0x80000033', '--json')
    expect(cleared.code).toBe(1)
    expect(JSON.parse(cleared.stdout)).toEqual({
      vp: 0,
      vtl: 0,
      action: 'writeCr',
      result: {
        ok: false,
        intercept: { toVtl: 1, kind: 'register', register: 'Cr0', value: '0x80000033' },
        activeVtl: 1,
      },
    })
    expect(await ok('reg', 'get', '--td', 'hvci', 'Cr0', '--target-vtl', '0')).toBe(
      'Cr0 = 0x80010033\n'
    )
  })
})
