// The daemon's API on the console's own origin (`vtl ui` forwards /v1/… to vtld). The session
// cookie goes with every same-origin request; the browser adds the Origin vtld checks.

/** A problem+json answer (or a failure to reach vtld at all). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

async function call(method: string, path: string, body?: unknown): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: {
        accept: 'application/json, application/problem+json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
  } catch (error) {
    throw new ApiError(0, 'E_NETWORK', `vtl ui does not answer (${String(error)})`)
  }
  const text = await response.text()
  let doc: unknown = undefined
  if (text !== '') {
    try {
      doc = JSON.parse(text)
    } catch {
      doc = text
    }
  }
  if (!response.ok) {
    const problem = (typeof doc === 'object' && doc !== null ? doc : {}) as {
      code?: unknown
      detail?: unknown
      title?: unknown
    }
    const detail = typeof problem.detail === 'string' ? problem.detail : undefined
    throw new ApiError(
      response.status,
      typeof problem.code === 'string' ? problem.code : `HTTP_${response.status}`,
      detail ?? (typeof problem.title === 'string' ? problem.title : `HTTP ${response.status}`)
    )
  }
  return doc
}

export const api = {
  get: (path: string) => call('GET', path),
  post: (path: string, body: unknown) => call('POST', path, body),
  del: (path: string) => call('DELETE', path),
  /** The raw text of a GET (Prometheus /metrics). */
  async text(path: string): Promise<string> {
    const response = await fetch(path, { credentials: 'same-origin' })
    if (!response.ok) throw new ApiError(response.status, `HTTP_${response.status}`, path)
    return await response.text()
  },
}

/** One line for the user. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 401) return 'The console session ended: run `vtl ui` again.'
    return `${error.message} [${error.code}]`
  }
  return error instanceof Error ? error.message : String(error)
}

/** Saves `text` as a file the browser downloads. */
export function download(name: string, text: string, type = 'application/json'): void {
  const url = URL.createObjectURL(new Blob([text], { type }))
  const link = document.createElement('a')
  link.href = url
  link.download = name
  document.body.append(link)
  link.click()
  link.remove()
  setTimeout(() => {
    URL.revokeObjectURL(url)
  }, 1000)
}
