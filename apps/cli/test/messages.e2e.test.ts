import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startDaemon } from '@vtl/daemon'
import { afterAll, describe, expect, it } from 'vitest'
import { vtlAsync } from './vtl.js'

// Messages that say what to fix: each bad input names the flag or field and what it takes, exits 2
// and changes nothing. The texts are snapshots: a change to one is a deliberate change.

const tmp = mkdtempSync(join(tmpdir(), 'vtl-messages-'))
const socket = join(tmp, 'vtld.sock')
const daemon = await startDaemon({ socket, dataDir: join(tmp, 'data'), scenarioWorkers: 1 })
afterAll(() => daemon.close())

const scenarios = join(tmp, 'scenarios')
mkdirSync(scenarios)
const head = 'version: 1\npartition: { vps: 1, memory: 4MiB }\nsteps:\n'
writeFileSync(
  join(scenarios, 'a-typo.yaml'),
  `${head}  - { vp: 0, run: {}, expect: { status: Sucess } }\n`
)
writeFileSync(
  join(scenarios, 'b-case.yaml'),
  `${head}  - { vp: 0, vtlCall: {}, expect: { exception: ud } }\n`
)
writeFileSync(
  join(scenarios, 'c-good.yaml'),
  `${head}  - { vp: 0, vtlCall: {}, expect: { activeVtl: 0 } }\n`
)
writeFileSync(join(tmp, 'not-a-snapshot.json'), '{"version": 2}\n')

/** Runs vtl in `tmp` (paths in the messages stay short) against the test's daemon. */
const vtl = (...args: string[]) =>
  vtlAsync(['--socket', socket, ...args]).then((r) => ({
    ...r,
    stderr: r.stderr.replaceAll(tmp, '<tmp>'),
  }))

const CASES: [string, string[]][] = [
  ['td create --vps 2000', ['td', 'create', '--vps', '2000']],
  ['td create --name ""', ['td', 'create', '--name', '']],
  ['td create --memory 64MB', ['td', 'create', '--memory', '64MB']],
  ['trace --limit 0', ['trace', '--td', 'x', '--limit', '0']],
  ['trace --limit -1', ['trace', '--td', 'x', '--limit', '-1']],
  [
    'mem protect --gpa 0x10001',
    ['mem', 'protect', '--td', 'x', '--gpa', '0x10001', '--flags', 'r'],
  ],
  [
    'mem protect --size 100',
    ['mem', 'protect', '--td', 'x', '--gpa', '0', '--size', '100', '--flags', 'r'],
  ],
  ['mem protect --flags rq', ['mem', 'protect', '--td', 'x', '--gpa', '0', '--flags', 'rq']],
  [
    'guest interrupt --vector 8',
    ['guest', 'interrupt', '--td', 'x', '--vector', '8', '--target-vtl', '0'],
  ],
  ['reg get Rzz', ['reg', 'get', '--td', 'x', 'Rzz']],
  ['hypercall 0x12 --rax 2', ['hypercall', '0x12', '--td', 'x', '--rax', '2']],
  ['hypercall 0x11 with an input page', ['hypercall', '0x11', '00', '--td', 'x']],
  ['hypercall 0x10000', ['hypercall', '0x10000', '--td', 'x']],
  ['sim check, a directory with two invalid files', ['sim', 'check', join(tmp, 'scenarios')]],
  ['sim run, a directory with two invalid files', ['sim', 'run', join(tmp, 'scenarios')]],
  [
    'sim run --trace into a missing folder',
    ['sim', 'run', join(scenarios, 'c-good.yaml'), '--trace', join(tmp, 'missing', 'x.json')],
  ],
  ['td save -o a folder', ['td', 'save', 'x', '-o', tmp]],
  ['td restore of a file that is no snapshot', ['td', 'restore', join(tmp, 'not-a-snapshot.json')]],
  ['sim check of a missing file', ['sim', 'check', join(tmp, 'nope.yaml')]],
]

describe('error messages (exit 2, named flag or field)', () => {
  it.each(CASES)('%s', async (_name, args) => {
    const r = await vtl(...args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatchSnapshot()
  })
})
