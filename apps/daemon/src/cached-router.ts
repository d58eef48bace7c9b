import type { Result, Router } from 'hono/router'
import { RegExpRouter } from 'hono/router/reg-exp-router'
import { SmartRouter } from 'hono/router/smart-router'
import { TrieRouter } from 'hono/router/trie-router'

/** Matches kept before the cache starts over (TD ids make the paths many). */
const MAX_CACHED = 1024

/**
 * hono's default router (SmartRouter: RegExpRouter, else TrieRouter) with the last matches kept
 * by method and path. vtld's routes fall back to the trie, whose match costs microseconds per
 * request; clients poll the same few paths. Match results are only read by hono, so one can be
 * handed out again.
 */
export class CachedRouter<T> implements Router<T> {
  readonly name = 'CachedRouter'
  private readonly inner: Router<T> = new SmartRouter<T>({
    routers: [new RegExpRouter<T>(), new TrieRouter<T>()],
  })
  private readonly cache = new Map<string, Result<T>>()

  add(method: string, path: string, handler: T): void {
    this.cache.clear()
    this.inner.add(method, path, handler)
  }

  match(method: string, path: string): Result<T> {
    const key = `${method} ${path}`
    let result = this.cache.get(key)
    if (result === undefined) {
      result = this.inner.match(method, path)
      if (this.cache.size >= MAX_CACHED) this.cache.clear()
      this.cache.set(key, result)
    }
    return result
  }
}
