// Records the trace events and the memory runs (in vtld's wire form) of a simulated TD (the
// engine vtld runs) for the component tests:
// VP0 enables VTL1 for the partition and itself, enters VTL1, takes GPA page 0x10 from VTL0 (read
// only), returns, repeats EnablePartitionVtl (InvalidVtlState) and starts VP1. From the repo root:
//   node --conditions=@vtl/source --import tsx apps/console/scripts/record-trace.ts
import { writeFileSync } from 'node:fs'
import { collectRuns, svgRunToWireRun } from '@vtl/memory-map'
import { parseScenario, runScenario, type SimTd } from '@vtl/sim'

const scenario = parseScenario(
  JSON.stringify({
    version: 1,
    name: 'console-recorded',
    partition: { vps: 2, memory: '16MiB', startedVps: [0] },
    steps: [
      { vp: 0, hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1 } } },
      { vp: 0, hypercall: { name: 'EnableVpVtl', input: { targetVtl: 1 } } },
      { vp: 0, vtlCall: {} },
      { vp: 0, setRegister: { name: 'VsmPartitionConfig', value: '0x1f' } },
      {
        vp: 0,
        hypercall: {
          name: 'ModifyVtlProtectionMask',
          input: { targetVtl: 1, mapFlags: ['R'], gpaPageList: ['0x10'] },
        },
      },
      { vp: 0, vtlReturn: {} },
      { vp: 0, hypercall: { name: 'EnablePartitionVtl', input: { targetVtl: 1 } } },
      { vp: 0, hypercall: { name: 'StartVirtualProcessor', input: { vpIndex: 1, targetVtl: 0 } } },
    ],
  }),
  'console-recorded.json'
)
let sim: SimTd | undefined
runScenario(scenario, { onTd: (td) => (sim = td) })
const events = (sim?.trace.events() ?? []).map((event) => ({ ...event, wallNs: 0 }))
const out = new URL('../src/fixtures/recorded-trace.json', import.meta.url)
writeFileSync(out, `${JSON.stringify(events)}\n`)
console.log(`${events.length} events → ${out.pathname}`)

if (sim === undefined) throw new Error('the scenario made no TD')
// As GET /v1/tds/{id}/memory/runs answers them.
const runs = collectRuns(sim.space, { start: 0n, end: 16n << 20n }).runs.map(svgRunToWireRun)
const runsOut = new URL('../src/fixtures/recorded-runs.json', import.meta.url)
writeFileSync(runsOut, `${JSON.stringify(runs, null, 1)}\n`)
console.log(`${runs.length} runs → ${runsOut.pathname}`)
