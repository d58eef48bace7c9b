import { useEffect, useState } from 'preact/hooks'
import { api, errorText } from '../lib/api.js'
import { href } from '../lib/route.js'
import {
  parseScenarioText,
  splitSteps,
  stepsReport,
  type RunReport,
} from '../trace/scenario-steps.js'
import type { TdView } from './td-list.js'

// The scenario runner: paste or upload a scenario (YAML or JSON), run it on a fresh TD (vtld runs
// the file, expectations and faults included) or on one of the daemon's TDs (its steps, with
// the expectations compared here), then step through the timeline.

/** VP0 turns VTL1 on, takes page 0x10 from VTL0 (read-only) and tries to enable VTL1 twice. */
export const SAMPLE = `version: 1
name: enable-vtl1
partition: { vps: 2, memory: 64MiB }
steps:
  - vp: 0
    hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } }
    expect: { status: Success }
  - vp: 0
    hypercall: { name: EnableVpVtl, input: { vpIndex: self, targetVtl: 1 } }
    expect: { status: Success }
  - vp: 0
    vtlCall: {}
    expect: { activeVtl: 1 }
  - vp: 0
    vtl: 1
    setRegister: { name: VsmPartitionConfig, value: '0x1f' }
    expect: { status: Success }
  - vp: 0
    vtl: 1
    hypercall:
      name: ModifyVtlProtectionMask
      input: { targetVtl: 1, mapFlags: [R], gpaPageList: ['0x10'] }
    expect: { status: Success, repsCompleted: 1 }
  - vp: 0
    vtl: 1
    vtlReturn: {}
    expect: { activeVtl: 0 }
  - vp: 0
    hypercall: { name: EnablePartitionVtl, input: { targetVtl: 1 } }
    expect: { status: InvalidVtlState }
`

const FRESH = ''

export function ScenarioPage({
  td: initialTd,
  onError,
}: {
  td: string | undefined
  onError: (message: string) => void
}) {
  const [text, setText] = useState(SAMPLE)
  const [target, setTarget] = useState(initialTd ?? FRESH)
  const [tds, setTds] = useState<TdView[]>([])
  const [report, setReport] = useState<RunReport | undefined>(undefined)
  const [current, setCurrent] = useState(0)
  const [busy, setBusy] = useState(false)

  useEffect(() => {
    api
      .get('/v1/tds')
      .then((answer) => {
        setTds((answer as { tds: TdView[] }).tds)
      })
      .catch((error: unknown) => {
        onError(errorText(error))
      })
  }, [onError])

  const run = async () => {
    setBusy(true)
    setReport(undefined)
    try {
      const doc = parseScenarioText(text)
      const name = typeof doc.name === 'string' ? doc.name : 'scenario'
      let next: RunReport
      if (target === FRESH) {
        next = (await api.post('/v1/scenarios/run', doc)) as RunReport
      } else {
        const { steps, expects } = splitSteps(doc)
        const answer = (await api.post(`/v1/tds/${target}/steps`, { steps })) as {
          results: Parameters<typeof stepsReport>[1]
        }
        next = stepsReport(name, answer.results, expects)
      }
      setReport(next)
      setCurrent(0)
    } catch (error) {
      onError(errorText(error))
    } finally {
      setBusy(false)
    }
  }

  const step = report?.steps[current]
  const move = (delta: number) => {
    if (report === undefined) return
    setCurrent((c) => Math.max(0, Math.min(report.steps.length - 1, c + delta)))
  }

  return (
    <section aria-labelledby="scenario-title">
      <h1 id="scenario-title">Scenario runner</h1>
      <form
        class="card scenario-form"
        onSubmit={(e) => {
          e.preventDefault()
          void run()
        }}
      >
        <label for="scenario-text">Scenario (YAML or JSON)</label>
        <textarea
          id="scenario-text"
          rows={14}
          spellcheck={false}
          value={text}
          onInput={(e) => {
            setText(e.currentTarget.value)
          }}
        />
        <div class="row">
          <label>
            Or upload a file
            <input
              type="file"
              accept=".yaml,.yml,.json"
              onChange={(e) => {
                const file = e.currentTarget.files?.[0]
                if (file !== undefined) void file.text().then(setText)
              }}
            />
          </label>
          <label>
            Run on
            <select
              value={target}
              onChange={(e) => {
                setTarget(e.currentTarget.value)
              }}
            >
              <option value={FRESH}>a fresh TD (the file’s partition)</option>
              {tds.map((td) => (
                <option key={td.id} value={td.id}>
                  {td.name ?? td.id} ({td.vps} VPs)
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={busy}>
            {busy ? 'Running…' : 'Run'}
          </button>
          {target === FRESH ? null : <a href={href.td(target)}>Watch this TD</a>}
        </div>
      </form>

      {report === undefined ? null : (
        <div class="report">
          <p
            role="status"
            class={report.failed === 0 ? 'ok' : 'bad'}
            data-testid="scenario-summary"
          >
            {report.scenario}: {report.passed} passed, {report.failed} failed
          </p>
          <div class="timeline">
            <ol
              class="steps"
              aria-label="Steps"
              onKeyDown={(e) => {
                if (e.key === 'ArrowDown' || e.key === 'ArrowRight') move(1)
                else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') move(-1)
                else return
                e.preventDefault()
              }}
            >
              {report.steps.map((s, i) => (
                <li key={s.index}>
                  <button
                    type="button"
                    class={`${s.ok ? 'ok' : 'bad'}${i === current ? ' current' : ''}`}
                    aria-current={i === current ? 'step' : undefined}
                    tabIndex={i === current ? 0 : -1}
                    ref={(el) => {
                      if (
                        i === current &&
                        el !== null &&
                        el.ownerDocument.activeElement?.closest('.steps')
                      )
                        el.focus()
                    }}
                    onClick={() => {
                      setCurrent(i)
                    }}
                  >
                    {s.index}. VP{s.vp} VTL{s.vtl} {s.action} {s.ok ? '✓' : '✗'}
                  </button>
                </li>
              ))}
            </ol>
            {step === undefined ? null : (
              <div class="step-detail" aria-live="polite">
                <h2>
                  Step {step.index}: {step.action} on VP {step.vp} (VTL{step.vtl})
                </h2>
                <div class="row">
                  <button
                    type="button"
                    disabled={current === 0}
                    onClick={() => {
                      move(-1)
                    }}
                  >
                    ← Previous
                  </button>
                  <button
                    type="button"
                    disabled={current === report.steps.length - 1}
                    onClick={() => {
                      move(1)
                    }}
                  >
                    Next →
                  </button>
                </div>
                <pre>{JSON.stringify(step.result, null, 2)}</pre>
                {step.mismatches.length === 0 ? (
                  <p class="ok">Every expectation holds.</p>
                ) : (
                  <table class="mismatches">
                    <caption>Mismatches</caption>
                    <thead>
                      <tr>
                        <th scope="col">Field</th>
                        <th scope="col">Expected</th>
                        <th scope="col">Actual</th>
                      </tr>
                    </thead>
                    <tbody>
                      {step.mismatches.map((m) => (
                        <tr key={m.field}>
                          <td>{m.field}</td>
                          <td>{JSON.stringify(m.expected)}</td>
                          <td>{JSON.stringify(m.actual)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </div>
            )}
          </div>
        </div>
      )}
    </section>
  )
}
