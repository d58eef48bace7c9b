import { useCallback, useState } from 'preact/hooks'
import { href, useRoute } from './lib/route.js'
import { MetricsPage } from './pages/metrics.js'
import { ScenarioPage } from './pages/scenarios.js'
import { TdList } from './pages/td-list.js'
import { TdPage } from './pages/td-view.js'

export function App() {
  const route = useRoute()
  const [error, setError] = useState('')
  const onError = useCallback((message: string) => {
    setError(message)
  }, [])
  const link = (to: string, label: string, active: boolean) => (
    <a href={to} aria-current={active ? 'page' : undefined}>
      {label}
    </a>
  )
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span class="brand">vtl console</span>
        <nav aria-label="Main">
          {link(href.tds, 'TDs', route.page === 'tds' || route.page === 'td')}
          {link(href.scenarios(), 'Scenarios', route.page === 'scenarios')}
          {link(href.metrics, 'Metrics', route.page === 'metrics')}
        </nav>
      </header>
      {error === '' ? null : (
        <div class="error" role="alert">
          <span>{error}</span>
          <button
            type="button"
            onClick={() => {
              setError('')
            }}
          >
            Dismiss
          </button>
        </div>
      )}
      <main id="main" tabIndex={-1}>
        {route.page === 'tds' ? <TdList onError={onError} /> : null}
        {route.page === 'td' ? <TdPage key={route.id} id={route.id} onError={onError} /> : null}
        {route.page === 'metrics' ? <MetricsPage onError={onError} /> : null}
        {route.page === 'scenarios' ? (
          <ScenarioPage key={route.td ?? ''} td={route.td} onError={onError} />
        ) : null}
      </main>
    </>
  )
}
