import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { ClientFactory, TcpEndpoint, VtldRequest } from './client.js'
import { createProgram } from './program.js'

function capture(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = new PassThrough()
  const chunks: Buffer[] = []
  stream.on('data', (c: Buffer) => chunks.push(c))
  return {
    stream: stream as unknown as NodeJS.WriteStream,
    text: () => Buffer.concat(chunks).toString('utf8'),
  }
}

/** A client that records requests and answers `{ ok: true }`. */
function recordingClient(): {
  factory: ClientFactory
  seen: { socket: string; tcp?: TcpEndpoint; request: VtldRequest }[]
} {
  const seen: { socket: string; tcp?: TcpEndpoint; request: VtldRequest }[] = []
  return {
    seen,
    factory: (socket, tcp) => ({
      endpoint: socket,
      request: (request) => {
        seen.push({ socket, ...(tcp === undefined ? {} : { tcp }), request })
        // Not an answer any route gives: the commands print whatever comes back.
        return Promise.resolve({ ok: true, value: 0xffff_ffff_ffff_ffffn } as never)
      },
      traceEvents: () => ({
        [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve({ done: true, value: 0 }) }),
      }),
    }),
  }
}

describe('createProgram', () => {
  it('names the program vtl and has every command group', () => {
    const program = createProgram()
    expect(program.name()).toBe('vtl')
    expect(program.commands.map((c) => c.name())).toEqual([
      'demo',
      'sim',
      'daemon',
      'td',
      'vsm',
      'guest',
      'reg',
      'mem',
      'hypercall',
      'trace',
      'ui',
      'probe',
      'bench',
      'completion',
    ])
  })

  it('hands stateful commands to the client as typed requests, 64-bit values exact', async () => {
    const { factory, seen } = recordingClient()
    const out = capture()
    const program = createProgram({ clientFactory: factory, stdout: out.stream, env: {} })
    await program.parseAsync(
      [
        '--socket',
        '/s.sock',
        'vsm',
        'enable-vp',
        '--td',
        'd',
        '--target-vp',
        '3',
        '--rip',
        '0xffffffffffffffff',
        '--json',
      ],
      { from: 'user' }
    )
    expect(seen).toEqual([
      {
        socket: '/s.sock',
        request: {
          op: 'vsm.enable-vp',
          td: 'd',
          vp: 0,
          targetVp: 3,
          targetVtl: 1,
          rip: 0xffff_ffff_ffff_ffffn,
        },
      },
    ])
    expect(JSON.parse(out.text())).toEqual({ ok: true, value: '0xffffffffffffffff' })
  })

  it('parses sizes, flags and hex input into the request', async () => {
    const { factory, seen } = recordingClient()
    const program = createProgram({
      clientFactory: factory,
      stdout: capture().stream,
      env: { XDG_RUNTIME_DIR: '/run/u' },
    })
    await program.parseAsync(
      [
        'mem',
        'protect',
        '--td',
        't',
        '--gpa',
        '65536',
        '--size',
        '2MiB',
        '--flags',
        'R,UX',
        '--target-vtl',
        '0',
      ],
      {
        from: 'user',
      }
    )
    await program.parseAsync(['hypercall', '0x13', '0a0B', '--td', 't', '--vtl', '1', '--fast'], {
      from: 'user',
    })
    expect(seen.map((s) => s.socket)).toEqual(['/run/u/vtld.sock', '/run/u/vtld.sock'])
    expect(seen[0]?.request).toEqual({
      op: 'mem.protect',
      td: 't',
      vp: 0,
      targetVtl: 0,
      start: 0x10000n,
      size: 2n << 20n,
      flags: 0x9,
    })
    expect(seen[1]?.request).toMatchObject({
      op: 'hypercall',
      code: 0x13,
      vtl: 1,
      fast: true,
      repCount: 0,
    })
    expect(seen[1]?.request.op === 'hypercall' ? [...seen[1].request.input] : []).toEqual([
      0x0a, 0x0b,
    ])
  })

  it.each([
    [['--url', 'http://127.0.0.1:7070', '--token', 'flag'], {}, 'flag'],
    [['--url', 'http://127.0.0.1:7070'], { VTLD_TOKEN: 'env' }, 'env'],
    [['--url', 'http://127.0.0.1:7070', '--token', 'flag'], { VTLD_TOKEN: 'env' }, 'flag'],
    [['--url', 'http://127.0.0.1:7070'], { VTLD_TOKEN: '' }, undefined],
  ])('%j with %j talks to TCP with token %j', async (args, env, token) => {
    const { factory, seen } = recordingClient()
    const program = createProgram({ clientFactory: factory, stdout: capture().stream, env })
    await program.parseAsync([...args, 'td', 'list'], { from: 'user' })
    expect(seen[0]?.tcp?.url.origin).toBe('http://127.0.0.1:7070')
    expect(seen[0]?.tcp?.token).toBe(token)
  })

  it.each([['ftp://h:1'], ['not a url'], ['https://h:1']])(
    'refuses --url %s (exit 2)',
    async (url) => {
      const err = capture()
      const program = createProgram({
        clientFactory: recordingClient().factory,
        stdout: capture().stream,
        stderr: err.stream,
        env: {},
      })
      await expect(
        program.parseAsync(['--url', url, 'td', 'list'], { from: 'user' })
      ).rejects.toMatchObject({ code: 'commander.invalidArgument' })
      expect(err.text()).toContain('http://')
    }
  )

  it('fits tables to the width of the context’s stdout, not this process’s', async () => {
    const td = {
      id: 'td-1',
      name: 'a-rather-long-td-name',
      vps: 2,
      memory: '0x4000000',
      gpaWidth: 48,
    }
    const factory: ClientFactory = (socket) => ({
      ...recordingClient().factory(socket),
      request: () => Promise.resolve({ tds: [{ ...td, mbec: true, state: 'running' }] } as never),
    })
    const widest = async (env: NodeJS.ProcessEnv): Promise<number> => {
      const out = capture()
      await createProgram({ clientFactory: factory, stdout: out.stream, env }).parseAsync(
        ['td', 'list'],
        { from: 'user' }
      )
      return Math.max(
        ...out
          .text()
          .trimEnd()
          .split('\n')
          .map((line) => line.length)
      )
    }
    expect(await widest({ COLUMNS: '60' })).toBeLessThanOrEqual(60)
    // Room for every column: one line per row, wider than 60.
    expect(await widest({ COLUMNS: '200' })).toBeGreaterThan(60)
  })

  it('mem show --td derives the range the daemon’s runs cover (empty: the --gpa asked)', async () => {
    const run = (start: string, size: string) => ({
      start,
      size,
      kind: 'ram',
      visibility: 'private',
      accepted: true,
      locked: false,
      vtl0: 'rwxu',
      vtl1: 'none',
      overlay: { vtl0: false, vtl1: false },
    })
    const shown = async (runs: unknown[], args: string[]): Promise<unknown> => {
      const out = capture()
      const factory: ClientFactory = (socket) => ({
        ...recordingClient().factory(socket),
        request: () => Promise.resolve({ td: 'd', runs } as never),
      })
      await createProgram({ clientFactory: factory, stdout: out.stream, env: {} }).parseAsync(
        ['mem', 'show', '--td', 'd', '--json', ...args],
        { from: 'user' }
      )
      return JSON.parse(out.text())
    }
    const runs = [run('0x10000', '0x1000'), run('0x11000', '0x3000')]
    expect(await shown(runs, [])).toEqual({ td: 'd', start: '0x10000', end: '0x14000', runs })
    expect(await shown([], ['--gpa', '0x5000'])).toEqual({
      td: 'd',
      start: '0x5000',
      end: '0x5000',
      runs: [],
    })
  })
})
