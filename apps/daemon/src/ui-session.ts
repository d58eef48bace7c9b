import { createHash, randomBytes } from 'node:crypto'

// The console's sessions: a one-time link token (minted by a client the daemon already trusts:
// the 0600 socket, or TCP with the bearer token) is exchanged once for a session cookie, bound to
// the console's origin (`http://127.0.0.1:PORT` of the `vtl ui` that asked for it).

/** How long a minted link works before it is exchanged (ms). */
export const UI_TOKEN_TTL_MS = 10 * 60_000
/** How long a console session lasts after its exchange (ms). */
export const UI_SESSION_TTL_MS = 24 * 60 * 60_000

/** Tokens and session ids are kept as SHA-256 digests (the text itself is never stored). */
const digest = (text: string): string => createHash('sha256').update(text).digest('hex')
const secret = (): string => randomBytes(32).toString('base64url')

interface Entry {
  origin: string
  expires: number
}

export class UiSessions {
  private readonly tokens = new Map<string, number>()
  private readonly sessions = new Map<string, Entry>()

  constructor(private readonly now: () => number = Date.now) {}

  /** A new one-time token (valid for `UI_TOKEN_TTL_MS`). */
  issueToken(): { token: string; expiresAt: string } {
    this.sweep()
    const token = secret()
    const expires = this.now() + UI_TOKEN_TTL_MS
    this.tokens.set(digest(token), expires)
    return { token, expiresAt: new Date(expires).toISOString() }
  }

  /**
   * Spends `token` (whether or not it is still valid: a token is tried once) and opens a session
   * for `origin`; undefined when the token is unknown, spent or expired.
   */
  exchange(token: string, origin: string): string | undefined {
    const key = digest(token)
    const expires = this.tokens.get(key)
    this.tokens.delete(key)
    if (expires === undefined || expires <= this.now()) return undefined
    const id = secret()
    this.sessions.set(digest(id), { origin, expires: this.now() + UI_SESSION_TTL_MS })
    return id
  }

  /** Whether `id` is a live session opened for `origin`. */
  valid(id: string | undefined, origin: string): boolean {
    if (id === undefined) return false
    const entry = this.sessions.get(digest(id))
    if (entry === undefined) return false
    if (entry.expires <= this.now()) {
      this.sessions.delete(digest(id))
      return false
    }
    return entry.origin === origin
  }

  private sweep(): void {
    const now = this.now()
    for (const [key, expires] of this.tokens) if (expires <= now) this.tokens.delete(key)
    for (const [key, entry] of this.sessions) if (entry.expires <= now) this.sessions.delete(key)
  }
}
