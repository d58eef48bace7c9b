import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** An answer from vtld: the HTTP status and the parsed JSON body (undefined when empty). */
export interface VtldAnswer {
  status: number
  body: unknown
}

/** One HTTP request to vtld on its unix socket (node:http; undici is only the daemon's dev dep). */
export function vtldRequest(
  socket: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown
): Promise<VtldAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = request(
      {
        socketPath: socket,
        method,
        path,
        headers: payload === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          try {
            resolve({
              status: res.statusCode ?? 0,
              body: text === '' ? undefined : JSON.parse(text),
            })
          } catch (error) {
            reject(error instanceof Error ? error : new Error(String(error)))
          }
        })
      }
    )
    req.on('error', reject)
    req.end(payload)
  })
}

const require = createRequire(import.meta.url)
/** vtld's entry in the daemon's sources (the in-process replay runs the same sources). */
const VTLD_MAIN = join(dirname(require.resolve('@vtl/daemon/package.json')), 'src/main.ts')
/** This package's folder: `--import tsx` resolves tsx from here. */
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url))

/** A vtld child process: kill -9 is a real SIGKILL of another process. */
export class VtldProcess {
  private stderr = ''
  private exited: Promise<number | null>

  private constructor(
    readonly socket: string,
    private readonly child: ChildProcess
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString('utf8')).slice(-4000)
    })
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        resolve(code)
      })
    })
  }

  /**
   * Starts vtld from sources (tsx, the @vtl/source condition) and waits until it is ready;
   * `args`: more command-line flags.
   */
  static async start(
    socket: string,
    dataDir: string,
    timeoutMs = 30_000,
    args: readonly string[] = []
  ): Promise<VtldProcess> {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@vtl/source',
        '--import',
        'tsx',
        VTLD_MAIN,
        '--socket',
        socket,
        '--data-dir',
        dataDir,
        '--quiet',
        ...args,
      ],
      { cwd: PACKAGE_DIR, stdio: ['ignore', 'ignore', 'pipe'] }
    )
    const vtld = new VtldProcess(socket, child)
    let exitCode: number | null | undefined
    void vtld.exited.then((code) => (exitCode = code))
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if (exitCode !== undefined) {
        throw new Error(`vtld exited (${String(exitCode)}) while starting: ${vtld.stderr}`)
      }
      const ready = await vtldRequest(socket, 'GET', '/readyz').then(
        (answer) => answer.status === 200,
        () => false
      )
      if (ready) return vtld
      if (Date.now() > deadline) {
        await vtld.kill()
        throw new Error(`vtld not ready after ${timeoutMs} ms: ${vtld.stderr}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<VtldAnswer> {
    return vtldRequest(this.socket, method, path, body)
  }

  /** kill -9, and wait for the process to be gone. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL')
    await this.exited
  }

  /** SIGTERM (graceful shutdown); returns the exit code. */
  async stop(): Promise<number | null> {
    this.child.kill('SIGTERM')
    return await this.exited
  }

  /** The tail of its stderr (for a violation's detail). */
  get log(): string {
    return this.stderr
  }
}
