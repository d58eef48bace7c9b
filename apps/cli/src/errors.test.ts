import { VtlError } from '@vtl/core'
import { describe, expect, it } from 'vitest'
import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NoDaemonError, checkSocketOwner, defaultSocketPath } from './client.js'
import { CliError, ExitCode, exitCodeOf, formatError } from './errors.js'
import { colorsFor } from './output/colors.js'

describe('exit codes and messages', () => {
  it('maps errors to 1, 2 and 3', () => {
    expect(exitCodeOf(new VtlError('E_SCENARIO', 'bad'))).toBe(ExitCode.BadInput)
    expect(exitCodeOf(new VtlError('E_PORT', 'failed'))).toBe(ExitCode.Failed)
    expect(exitCodeOf(new NoDaemonError('/s'))).toBe(ExitCode.NoDaemon)
    expect(exitCodeOf(new Error('x'))).toBe(ExitCode.Failed)
  })

  it('prints vtl’s own message whole, the first line of others, the cause chain with verbose', () => {
    const error = new CliError('E_X', 'outer\n  second line', ExitCode.Failed, {
      cause: new VtlError('E_PORT', 'inner\ndetail'),
    })
    expect(formatError(error)).toBe('vtl: outer\n  second line')
    expect(formatError(error, true).split('\n')).toEqual([
      'vtl: outer',
      '  second line',
      '  caused by: [E_PORT] inner',
    ])
    expect(formatError(new Error('first\nstack-like detail'))).toBe('vtl: first')
  })
})

describe('the vtld client seam', () => {
  it('finds the default socket', () => {
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/7/' }, 7)).toBe('/run/user/7/vtld.sock')
    expect(defaultSocketPath({}, 7)).toBe('/tmp/vtld-7/vtld.sock')
    expect(defaultSocketPath({ XDG_RUNTIME_DIR: '' }, 7)).toBe('/tmp/vtld-7/vtld.sock')
  })

  it('refuses a socket directory another user owns or others may write (exit 2)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vtl-owner-'))
    try {
      const socket = join(dir, 'vtld.sock')
      expect(() => {
        checkSocketOwner(socket)
      }).not.toThrow()
      expect(() => {
        checkSocketOwner(socket, (process.getuid?.() ?? 0) + 1)
      }).toThrow(/its directory belongs to uid/)
      chmodSync(dir, 0o777)
      let error: unknown
      try {
        checkSocketOwner(socket)
      } catch (e) {
        error = e
      }
      expect(error).toMatchObject({ code: 'E_SOCKET_OWNER', exitCode: ExitCode.BadInput })
      expect(String(error)).toMatch(/writable by others \(mode 777\)/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('colours', () => {
  it('colour only a TTY, never with NO_COLOR or --no-color', () => {
    expect(colorsFor({ isTTY: true }, {}).red('x')).not.toBe('x')
    expect(colorsFor({ isTTY: false }, {}).red('x')).toBe('x')
    expect(colorsFor({ isTTY: true }, { NO_COLOR: '1' }).red('x')).toBe('x')
    expect(colorsFor({ isTTY: true }, {}, true).red('x')).toBe('x')
  })
})
