import { useEffect, useState } from 'preact/hooks'

// Hash routes (the daemon serves one index.html; no server-side fallback needed).

export type Route =
  | { page: 'tds' }
  | { page: 'td'; id: string }
  | { page: 'metrics' }
  | { page: 'scenarios'; td: string | undefined }

export function parseRoute(hash: string): Route {
  const [path = '', query = ''] = hash.replace(/^#/, '').split('?')
  const parts = path.split('/').filter((p) => p !== '')
  if (parts[0] === 'td' && parts[1] !== undefined)
    return { page: 'td', id: decodeURIComponent(parts[1]) }
  if (parts[0] === 'metrics') return { page: 'metrics' }
  if (parts[0] === 'scenarios') {
    return { page: 'scenarios', td: new URLSearchParams(query).get('td') ?? undefined }
  }
  return { page: 'tds' }
}

export const href = {
  tds: '#/',
  td: (id: string) => `#/td/${encodeURIComponent(id)}`,
  metrics: '#/metrics',
  scenarios: (td?: string) =>
    td === undefined ? '#/scenarios' : `#/scenarios?td=${encodeURIComponent(td)}`,
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const changed = () => {
      setRoute(parseRoute(location.hash))
    }
    addEventListener('hashchange', changed)
    return () => {
      removeEventListener('hashchange', changed)
    }
  }, [])
  return route
}
