import type { Env, MiddlewareHandler } from 'hono'

/**
 * Middleware run in order as one: hono dispatches each registered middleware through an async
 * frame of its own (and, on an app with its own error handler, a compose around it), which every
 * request pays for. As hono's dispatch does, a Response a layer returns becomes the context's
 * answer for the layers before it; an error passes through them to the registration's handler.
 */
export function chain<E extends Env>(
  first: MiddlewareHandler<E>,
  ...rest: MiddlewareHandler<E>[]
): MiddlewareHandler<E> {
  let whole = first
  for (const layer of rest) {
    const outer = whole
    whole = (c, next) =>
      outer(c, () =>
        layer(c, next).then((res) => {
          if (res instanceof Response && !c.finalized) c.res = res
        })
      )
  }
  return whole
}
