import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { serveConsoleFile } from '../src/ui-static.js'

const dir = mkdtempSync(join(tmpdir(), 'vtld-ui-static-'))
const built = join(dir, 'dist')
mkdirSync(join(built, 'assets'), { recursive: true })
writeFileSync(join(built, 'index.html'), '<!doctype html>')
writeFileSync(join(built, 'assets', 'index-abc.css'), 'body{}')
writeFileSync(join(dir, 'outside.txt'), 'secret')
afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('serveConsoleFile', () => {
  it('serves index.html for the root with the page policy, assets for good', async () => {
    const root = await serveConsoleFile(built, '')
    expect(root.status).toBe(200)
    expect(root.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(root.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/)
    expect(root.headers.get('cache-control')).toBe('no-cache')
    const css = await serveConsoleFile(built, 'assets/index-abc.css')
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable')
    expect(css.headers.get('content-security-policy')).toBeNull()
  })

  it.each([
    '../outside.txt',
    '%2e%2e/outside.txt',
    'assets/../../outside.txt',
    'nothing.js',
    '%E0%A4%A',
  ])('answers 404 for %s', async (path) => {
    const answer = await serveConsoleFile(built, path)
    expect(answer.status).toBe(404)
    expect(await answer.json()).toMatchObject({ code: 'E_NOT_FOUND' })
  })

  it('says how to build when the console is not built', async () => {
    for (const missing of [undefined, join(dir, 'nowhere')]) {
      const answer = await serveConsoleFile(missing, '')
      expect(answer.status).toBe(404)
      expect(((await answer.json()) as { detail: string }).detail).toMatch(/console is not built/)
    }
  })
})
