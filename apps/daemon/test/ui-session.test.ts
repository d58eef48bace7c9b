import { describe, expect, it } from 'vitest'
import { UI_SESSION_TTL_MS, UI_TOKEN_TTL_MS, UiSessions } from '../src/ui-session.js'

const ORIGIN = 'http://127.0.0.1:7880'

describe('UiSessions', () => {
  it('exchanges a token once, for a session bound to the console origin', () => {
    const sessions = new UiSessions(() => 0)
    const { token } = sessions.issueToken()
    const id = sessions.exchange(token, ORIGIN)
    expect(id).toMatch(/^[\w-]{43}$/)
    expect(sessions.exchange(token, ORIGIN)).toBeUndefined()
    expect(sessions.valid(id, ORIGIN)).toBe(true)
    expect(sessions.valid(id, 'http://127.0.0.1:7881')).toBe(false)
    expect(sessions.valid(undefined, ORIGIN)).toBe(false)
    expect(sessions.valid(token, ORIGIN)).toBe(false)
  })

  it('refuses an expired token, and ends sessions after their lifetime', () => {
    let now = 0
    const sessions = new UiSessions(() => now)
    const late = sessions.issueToken().token
    const early = sessions.issueToken().token
    const id = sessions.exchange(early, ORIGIN)
    now = UI_TOKEN_TTL_MS
    expect(sessions.exchange(late, ORIGIN)).toBeUndefined()
    expect(sessions.valid(id, ORIGIN)).toBe(true)
    now = UI_SESSION_TTL_MS
    expect(sessions.valid(id, ORIGIN)).toBe(false)
  })

  it('a guessed token spends nothing of the real one', () => {
    const sessions = new UiSessions(() => 0)
    const { token, expiresAt } = sessions.issueToken()
    expect(expiresAt).toBe(new Date(UI_TOKEN_TTL_MS).toISOString())
    expect(sessions.exchange(`${token}x`, ORIGIN)).toBeUndefined()
    expect(sessions.exchange(token, ORIGIN)).toBeDefined()
  })
})
