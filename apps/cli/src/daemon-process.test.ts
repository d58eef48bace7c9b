import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  defaultDataDir,
  isVtld,
  logFileOf,
  pidFileOf,
  readPid,
  resolveVtld,
} from './daemon-process.js'

const dir = mkdtempSync(join(tmpdir(), 'vtl-daemon-process-'))

describe('where vtl daemon finds vtld and its files', () => {
  it.each([
    [{ XDG_STATE_HOME: '/state' }, '/state/vtld'],
    [{ XDG_STATE_HOME: '', HOME: '/h' }, /\/\.local\/state\/vtld$/],
    [{}, /\/\.local\/state\/vtld$/],
  ])('data dir for %j', (env, expected) => {
    if (typeof expected === 'string') expect(defaultDataDir(env)).toBe(expected)
    else expect(defaultDataDir(env)).toMatch(expected)
  })

  it('keeps the pid next to the socket and the log in the data dir', () => {
    expect(pidFileOf('/run/u/vtld.sock')).toBe('/run/u/vtld.sock.pid')
    expect(logFileOf('/state/vtld')).toBe('/state/vtld/vtld.log')
  })

  it('resolves the vtld script of @vtl/daemon, or says how to run it without', () => {
    expect(resolveVtld()).toMatch(/apps\/daemon\/bin\/vtld\.mjs$/)
    const noBin = join(dir, 'package.json')
    writeFileSync(noBin, '{"name":"@vtl/daemon"}')
    const missing = (): string => {
      throw Object.assign(new Error("Cannot find module '@vtl/daemon/package.json'"), {
        code: 'MODULE_NOT_FOUND',
      })
    }
    for (const find of [missing, () => noBin]) {
      expect(() => resolveVtld(find)).toThrow(
        expect.objectContaining({
          code: 'E_NO_VTLD',
          exitCode: 1,
          message: expect.stringContaining('node apps/daemon/bin/vtld.mjs') as string,
        }) as Error
      )
    }
  })

  it.each([
    ['1234\n', 1234],
    ['  42  ', 42],
    ['', undefined],
    ['abc', undefined],
    ['-5', undefined],
    ['0', undefined],
  ])('reads pid file %j as %j', async (text, pid) => {
    const file = join(dir, `pid-${Math.random()}`)
    writeFileSync(file, text)
    expect(await readPid(file)).toBe(pid)
  })

  it('a missing pid file has no pid; this test process and a dead pid are not vtld', async () => {
    expect(await readPid(join(dir, 'absent.pid'))).toBeUndefined()
    expect(await isVtld(process.pid)).toBe(false)
    expect(await isVtld(2 ** 22 + 1)).toBe(false)
  })
})
