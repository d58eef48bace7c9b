import { Hono, type Context, type MiddlewareHandler, type Next } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import { problem, problemResponse } from '../problem.js'
import { serveConsoleFile } from '../ui-static.js'
import type { UiSessions } from '../ui-session.js'

// The web console's edge. `vtl ui` listens on 127.0.0.1 and forwards the browser's requests to
// vtld (socket, or TCP with the token), marking each with `x-vtl-ui-origin: http://127.0.0.1:PORT`
// (its own origin, which it sets and the browser cannot). Marked requests are a browser's: they
// need the session cookie (401 without), a Host that is the console's (403), and, when they change
// state, the console's Origin (403). Unmarked requests come from trusted clients, as before.

/** The header `vtl ui` puts on every request it forwards (the console's origin). */
export const UI_ORIGIN_HEADER = 'x-vtl-ui-origin'

const CONSOLE_ORIGIN = /^http:\/\/127\.0\.0\.1:(\d{1,5})$/
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The cookie of the console at `origin` (cookies ignore ports: one name per console port). */
export function uiCookieName(origin: string): string {
  return `vtl_ui_${CONSOLE_ORIGIN.exec(origin)?.[1] ?? '0'}`
}

const refuse = (code: 'E_UNAUTHORIZED' | 'E_FORBIDDEN', detail: string): Response =>
  problemResponse(problem(code, detail))

/** Guards the requests `vtl ui` forwarded; lets every other request through untouched. */
export function uiGuard(sessions: UiSessions): MiddlewareHandler {
  // Not async for the common case (no header): the request goes on without a frame of its own.
  const guarded = async (c: Context, next: Next, origin: string): Promise<Response | undefined> => {
    if (!CONSOLE_ORIGIN.test(origin)) {
      return refuse('E_FORBIDDEN', `${origin} is not a console origin (http://127.0.0.1:PORT)`)
    }
    // DNS rebinding: a page of another name resolving to 127.0.0.1 sends its own Host.
    if (`http://${c.req.header('host') ?? ''}` !== origin) {
      return refuse('E_FORBIDDEN', `Host ${c.req.header('host') ?? '(none)'} is not the console's`)
    }
    const { path, method } = c.req
    if (path === '/v1/ui/sessions') {
      return refuse('E_FORBIDDEN', 'console links are minted by vtl ui, not from the console')
    }
    if (!(path === '/ui/session' && method === 'GET')) {
      if (!sessions.valid(getCookie(c, uiCookieName(origin)), origin)) {
        return refuse('E_UNAUTHORIZED', 'no console session: open the link `vtl ui` printed')
      }
      if (!SAFE_METHODS.has(method) && c.req.header('origin') !== origin) {
        return refuse(
          'E_FORBIDDEN',
          `a ${method} from Origin ${c.req.header('origin') ?? '(none)'} is not the console's`
        )
      }
    }
    await next()
    c.res.headers.set('x-frame-options', 'DENY')
    c.res.headers.set('x-content-type-options', 'nosniff')
    c.res.headers.set('referrer-policy', 'no-referrer')
    return undefined
  }
  return (c, next) => {
    const origin = c.req.header(UI_ORIGIN_HEADER)
    return origin === undefined ? next() : guarded(c, next, origin)
  }
}

/**
 * `POST /v1/ui/sessions` (trusted clients: a one-time console link), `GET /ui/session?token=`
 * (the link: token → HttpOnly SameSite=Strict cookie, 303 to /ui/) and the console's files.
 */
export function uiRoutes(sessions: UiSessions, consoleDir: string | undefined): Hono {
  const ui = new Hono()
  ui.post('/v1/ui/sessions', (c) => {
    const { token, expiresAt } = sessions.issueToken()
    return c.json({ token, path: `/ui/session?token=${token}`, expiresAt }, 201)
  })
  ui.get('/ui/session', (c) => {
    const origin = c.req.header(UI_ORIGIN_HEADER)
    if (origin === undefined) {
      return problemResponse(problem('E_BAD_REQUEST', 'console links work through `vtl ui` only'))
    }
    const id = sessions.exchange(c.req.query('token') ?? '', origin)
    if (id === undefined) {
      return refuse('E_UNAUTHORIZED', 'this console link was used or has expired: run vtl ui again')
    }
    setCookie(c, uiCookieName(origin), id, { httpOnly: true, sameSite: 'Strict', path: '/' })
    c.header('cache-control', 'no-store')
    return c.redirect('/ui/', 303)
  })
  ui.get('/ui', (c) => c.redirect('/ui/', 308))
  ui.get('/ui/*', (c) => serveConsoleFile(consoleDir, c.req.path.slice('/ui/'.length)))
  return ui
}
