// Child process of journal-crash.test.ts: journals guest writes with Idempotency-Key answers as
// fast as it can, printing each acknowledged index, until the parent kills it with SIGKILL.
import { Journal } from '../src/journal.js'
import { TdService } from '../src/td-service.js'

const file = process.argv[2] ?? ''
const tds = new TdService(new Journal(file), { snapshotEvery: 5 })
const id = (await tds.create({ vps: 1, memory: 1n << 20n, gpaWidth: 48, mbec: true })).id
process.stdout.write(`td ${id}\n`)
for (let i = 0; ; i++) {
  await tds.steps(id, [{ vp: 0, write: { gpa: '0x10000', size: 8, value: i } }], {
    key: `k-${i}`,
    fingerprint: 'f',
    render: (done) => ({ status: 200, body: JSON.stringify(done) }),
  })
  process.stdout.write(`${i}\n`)
}
