import { fork, type ChildProcess } from 'node:child_process'
import type { ServerReply, ServerRequest } from './server-process.js'

/** A server in its own process (server-process.ts). */
export interface ServerProcess {
  socket: string
  /** A full collection there, as the runner does here before each sample. */
  gc(): Promise<void>
  /** Stops the server and waits for its process to end. */
  close(): Promise<void>
}

/** Forks `module` (server-process.ts's protocol) and waits for its ready message. */
export async function forkServer(module: string, args: string[]): Promise<ServerProcess> {
  const child: ChildProcess = fork(module, args, { stdio: 'inherit' })
  const name = `bench server ${args[0] ?? ''}`
  // A failed spawn or a send to a child that died: the pending reply fails (below), not the bench.
  let failure: Error | undefined
  child.on('error', (error) => {
    failure ??= error
  })
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      resolve()
    })
  )
  const reply = (): Promise<ServerReply> =>
    new Promise((resolve, reject) => {
      const failed = (): void => {
        child.off('exit', failed)
        child.off('error', failed)
        reject(new Error(`${name} ended`, { cause: failure }))
      }
      if (!child.connected) {
        failed()
        return
      }
      child.once('exit', failed)
      child.once('error', failed)
      child.once('message', (message: ServerReply) => {
        child.off('exit', failed)
        child.off('error', failed)
        resolve(message)
      })
    })
  const request = (message: ServerRequest): void => {
    if (child.connected) child.send(message)
  }
  const ready = await reply()
  if (typeof ready !== 'object') throw new Error(`${name}: unexpected ${ready}`)
  return {
    socket: ready.socket,
    gc: async () => {
      const answer = reply()
      request('gc')
      await answer
    },
    close: async () => {
      if (!child.connected) {
        // Exited already, or it never started (no exit then): nothing to wait for.
        if (child.exitCode === null && child.signalCode === null) child.kill()
        return
      }
      request('close')
      await exited
    },
  }
}
