import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { lstat, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { VtlError } from '@vtl/core'
import type { MiddlewareHandler } from 'hono'
import { problem, problemResponse } from './problem.js'

// Bearer-token authentication of the TCP listener (the unix socket is guarded by its 0600 mode).

/** The file vtld generates in its data dir when no `--token-file` is given. */
export const GENERATED_TOKEN_FILE = 'vtld.token'

/** The shortest TCP token vtld takes (its generated ones have 43 characters). */
export const MIN_TOKEN_LENGTH = 32

const BEARER = /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i

/** SHA-256 of the text: equal-length inputs for timingSafeEqual whatever the token's length. */
const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/**
 * Hono middleware: no `Authorization: Bearer` credentials → 401 `E_UNAUTHORIZED` with
 * `WWW-Authenticate: Bearer`; credentials that are not the token → 403 `E_FORBIDDEN`.
 */
export function bearerAuth(token: string): MiddlewareHandler {
  const expected = digest(token)
  return async (c, next) => {
    const header = c.req.header('authorization')
    const presented = header === undefined ? undefined : BEARER.exec(header)?.[1]
    if (presented === undefined) {
      const response = problemResponse(
        problem('E_UNAUTHORIZED', 'this listener needs an Authorization: Bearer <token> header')
      )
      response.headers.set('www-authenticate', 'Bearer realm="vtld"')
      return response
    }
    if (!timingSafeEqual(digest(presented), expected)) {
      return problemResponse(problem('E_FORBIDDEN', 'the bearer token is not this daemon’s'))
    }
    await next()
    return undefined
  }
}

/** Reads a token file; refuses one that is not a regular file, is group/world accessible or empty. */
export async function readTokenFile(path: string): Promise<string> {
  const refuse = (why: string): never => {
    throw new VtlError('E_INVALID_VALUE', `token file ${path} ${why}`, { field: 'token-file' })
  }
  const stat = await lstat(path).catch(() => refuse('cannot be read'))
  if (!stat.isFile()) refuse('is not a regular file')
  const uid = process.getuid?.()
  if (uid !== undefined && stat.uid !== uid) {
    refuse(`is owned by uid ${stat.uid}, not by this user (uid ${uid})`)
  }
  if ((stat.mode & 0o077) !== 0) {
    refuse(`is accessible by group/others (mode ${(stat.mode & 0o777).toString(8)}); chmod 600 it`)
  }
  const token = (await readFile(path, 'utf8')).trim()
  if (!BEARER.test(`Bearer ${token}`)) refuse('must hold one token of printable ASCII characters')
  if (token.length < MIN_TOKEN_LENGTH) {
    refuse(`holds a token of ${token.length} characters; at least ${MIN_TOKEN_LENGTH} are needed`)
  }
  return token
}

/**
 * The token of `--token-file`, or else the one vtld generated in the data dir (32 random bytes,
 * base64url, written 0600 on first use and reused after).
 */
export async function resolveToken(
  dataDir: string,
  tokenFile?: string
): Promise<{ token: string; file: string; generated: boolean }> {
  if (tokenFile !== undefined) {
    return { token: await readTokenFile(tokenFile), file: tokenFile, generated: false }
  }
  const file = join(dataDir, GENERATED_TOKEN_FILE)
  try {
    await writeFile(file, `${randomBytes(32).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  return { token: await readTokenFile(file), file, generated: true }
}
