import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Hono } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import { GENERATED_TOKEN_FILE, bearerAuth, readTokenFile, resolveToken } from '../src/auth.js'

const TOKEN = 's3cret-token-0123456789-abcdefghijk'
const dirs: string[] = []

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vtld-auth-'))
  dirs.push(dir)
  return dir
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

function guarded() {
  const app = new Hono()
  app.use('*', bearerAuth(TOKEN))
  app.get('/x', (c) => c.json({ ok: true }))
  return app
}

describe('bearerAuth', () => {
  it.each([
    { header: undefined, status: 401, code: 'E_UNAUTHORIZED' },
    { header: '', status: 401, code: 'E_UNAUTHORIZED' },
    { header: `Basic ${TOKEN}`, status: 401, code: 'E_UNAUTHORIZED' },
    { header: 'Bearer', status: 401, code: 'E_UNAUTHORIZED' },
    { header: `Bearer ${TOKEN} extra`, status: 401, code: 'E_UNAUTHORIZED' },
    { header: 'Bearer wrong', status: 403, code: 'E_FORBIDDEN' },
    { header: `Bearer ${TOKEN}x`, status: 403, code: 'E_FORBIDDEN' },
    { header: `Bearer ${TOKEN.slice(0, -1)}`, status: 403, code: 'E_FORBIDDEN' },
  ])('$header → $status $code', async ({ header, status, code }) => {
    const response = await guarded().request(
      '/x',
      header === undefined ? {} : { headers: { authorization: header } }
    )
    expect(response.status).toBe(status)
    expect(response.headers.get('content-type')).toBe('application/problem+json')
    expect(await response.json()).toMatchObject({ code, status })
    expect(response.headers.get('www-authenticate')).toBe(
      status === 401 ? 'Bearer realm="vtld"' : null
    )
  })

  it.each([`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `Bearer  ${TOKEN} `])(
    'lets %j through',
    async (header) => {
      const response = await guarded().request('/x', { headers: { authorization: header } })
      expect(response.status).toBe(200)
      expect(await response.json()).toEqual({ ok: true })
    }
  )
})

describe('token files', () => {
  it.each([0o640, 0o604, 0o660, 0o602, 0o644])('refuses mode %o', async (mode) => {
    const file = join(tempDir(), 'token')
    writeFileSync(file, TOKEN)
    chmodSync(file, mode)
    await expect(readTokenFile(file)).rejects.toThrow(/accessible by group\/others/)
  })

  it('reads a 0600 (or 0400) file, trimmed', async () => {
    const file = join(tempDir(), 'token')
    writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 })
    expect(await readTokenFile(file)).toBe(TOKEN)
    chmodSync(file, 0o400)
    expect(await readTokenFile(file)).toBe(TOKEN)
  })

  it.each([
    { what: 'missing', make: (dir: string) => join(dir, 'nope'), error: /cannot be read/ },
    {
      what: 'a directory',
      make: (dir: string) => {
        mkdirSync(join(dir, 'd'), { mode: 0o700 })
        return join(dir, 'd')
      },
      error: /not a regular file/,
    },
    {
      what: 'empty',
      make: (dir: string) => {
        writeFileSync(join(dir, 'e'), '\n', { mode: 0o600 })
        return join(dir, 'e')
      },
      error: /one token/,
    },
    {
      what: 'a token shorter than 32 characters',
      make: (dir: string) => {
        writeFileSync(join(dir, 's'), 'x'.repeat(31), { mode: 0o600 })
        return join(dir, 's')
      },
      error: /31 characters; at least 32/,
    },
    {
      what: 'two words',
      make: (dir: string) => {
        writeFileSync(join(dir, 'w'), 'a b', { mode: 0o600 })
        return join(dir, 'w')
      },
      error: /one token/,
    },
  ])('refuses a token file that is $what', async ({ make, error }) => {
    await expect(readTokenFile(make(tempDir()))).rejects.toThrow(error)
  })

  it('generates a 0600 token in the data dir once and reuses it', async () => {
    const dir = tempDir()
    const first = await resolveToken(dir)
    expect(first.file).toBe(join(dir, GENERATED_TOKEN_FILE))
    expect(first.generated).toBe(true)
    expect(first.token).toMatch(/^[\w-]{43}$/)
    expect(statSync(first.file).mode & 0o777).toBe(0o600)
    expect((await resolveToken(dir)).token).toBe(first.token)
    expect((await resolveToken(tempDir())).token).not.toBe(first.token)
  })

  it('prefers --token-file and refuses a generated file made readable', async () => {
    const dir = tempDir()
    const file = join(dir, 'mine')
    writeFileSync(file, TOKEN, { mode: 0o600 })
    expect(await resolveToken(dir, file)).toEqual({ token: TOKEN, file, generated: false })
    const generated = await resolveToken(dir)
    chmodSync(generated.file, 0o644)
    await expect(resolveToken(dir)).rejects.toThrow(/accessible by group\/others/)
  })
})
