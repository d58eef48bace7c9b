import { readFile, stat } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, extname, join, resolve, sep } from 'node:path'
import { problem, problemResponse } from './problem.js'

// The console's static files (apps/console's Vite build), served under /ui/.

/** Where `@vtl/console` keeps its build, or undefined when the package cannot be found. */
export function defaultConsoleDir(): string | undefined {
  try {
    const manifest = createRequire(import.meta.url).resolve('@vtl/console/package.json')
    return join(dirname(manifest), 'dist')
  } catch {
    return undefined
  }
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
}

/** The page's policy: its own scripts and API only, never framed. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

/**
 * The answer for `/ui/<rest>` from `dir`: the file (`index.html` for the root), 404 for anything
 * else, including paths that climb out of `dir`. Built files under `assets/` carry a content hash
 * and are cached for good; the rest is revalidated.
 */
export async function serveConsoleFile(dir: string | undefined, rest: string): Promise<Response> {
  const missing = (what: string) => problemResponse(problem('E_NOT_FOUND', what))
  if (dir === undefined || !(await stat(join(dir, 'index.html')).catch(() => undefined))) {
    return missing('the console is not built: run `npx -y pnpm@10.34.9 build` and restart vtld')
  }
  let relative: string
  try {
    relative = decodeURIComponent(rest)
  } catch {
    return missing(`no console file ${rest}`)
  }
  if (relative === '') relative = 'index.html'
  const root = resolve(dir)
  const file = resolve(root, relative)
  if (relative.includes('\0') || !file.startsWith(root + sep)) {
    return missing(`no console file ${rest}`)
  }
  const body = await readFile(file).catch(() => undefined)
  if (body === undefined) return missing(`no console file ${rest}`)
  const type = TYPES[extname(file)] ?? 'application/octet-stream'
  const headers: Record<string, string> = {
    'content-type': type,
    'cache-control': relative.startsWith('assets/')
      ? 'public, max-age=31536000, immutable'
      : 'no-cache',
  }
  if (type.startsWith('text/html')) headers['content-security-policy'] = CSP
  return new Response(body, { status: 200, headers })
}
