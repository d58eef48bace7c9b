import { useCallback, useEffect, useState } from 'preact/hooks'
import { api, download, errorText } from '../lib/api.js'
import { href } from '../lib/route.js'

// The TDs vtld owns: create, open, delete, save (download the snapshot) and restore (upload one).

export interface TdView {
  id: string
  name: string | null
  vps: number
  memory: string
  state: string
}

/** A text field of a form ('' when absent). */
function field(data: FormData, name: string): string {
  const value = data.get(name)
  return typeof value === 'string' ? value.trim() : ''
}

export function TdList({ onError }: { onError: (message: string) => void }) {
  const [tds, setTds] = useState<TdView[] | undefined>(undefined)
  const [busy, setBusy] = useState(false)
  const [notice, setNotice] = useState('')

  const load = useCallback(async () => {
    try {
      setTds(((await api.get('/v1/tds')) as { tds: TdView[] }).tds)
    } catch (error) {
      onError(errorText(error))
    }
  }, [onError])

  useEffect(() => {
    void load()
    const timer = setInterval(() => void load(), 3000)
    return () => {
      clearInterval(timer)
    }
  }, [load])

  const act = async (what: () => Promise<string>) => {
    setBusy(true)
    try {
      setNotice(await what())
      await load()
    } catch (error) {
      onError(errorText(error))
    } finally {
      setBusy(false)
    }
  }

  const create = (form: HTMLFormElement) => {
    const data = new FormData(form)
    const name = field(data, 'name')
    return act(async () => {
      const td = (await api.post('/v1/tds', {
        ...(name === '' ? {} : { name }),
        vps: Number(data.get('vps')),
        memory: field(data, 'memory'),
      })) as TdView
      form.reset()
      return `Created ${td.name ?? td.id}.`
    })
  }

  const restore = (form: HTMLFormElement) => {
    const data = new FormData(form)
    const file = data.get('snapshot')
    const name = field(data, 'name')
    if (!(file instanceof File) || file.size === 0) {
      onError('Choose a snapshot file (saved from this list or by `vtl td save`).')
      return Promise.resolve()
    }
    return act(async () => {
      const snapshot = JSON.parse(await file.text()) as unknown
      const td = (await api.post('/v1/tds/restore', {
        ...(name === '' ? {} : { name }),
        snapshot,
      })) as TdView
      form.reset()
      return `Restored ${file.name} as ${td.name ?? td.id}.`
    })
  }

  return (
    <section aria-labelledby="tds-title">
      <h1 id="tds-title">Trust domains</h1>
      <p class="notice" role="status" aria-live="polite">
        {notice}
      </p>
      <div class="table-wrap" tabIndex={0} aria-label="TDs">
        <table class="tds">
          <thead>
            <tr>
              <th scope="col">TD</th>
              <th scope="col">VPs</th>
              <th scope="col">Memory</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {tds === undefined ? (
              <tr>
                <td colSpan={5}>Loading…</td>
              </tr>
            ) : tds.length === 0 ? (
              <tr>
                <td colSpan={5}>No TDs yet: create one below.</td>
              </tr>
            ) : (
              tds.map((td) => (
                <tr key={td.id} data-td={td.id}>
                  <th scope="row">
                    <a href={href.td(td.id)}>{td.name ?? td.id}</a>
                    {td.name === null ? '' : <span class="muted"> {td.id}</span>}
                  </th>
                  <td>{td.vps}</td>
                  <td>{td.memory}</td>
                  <td>{td.state}</td>
                  <td class="actions">
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() =>
                        void act(async () => {
                          const snapshot = await api.get(`/v1/tds/${td.id}/snapshot`)
                          download(`${td.name ?? td.id}.snapshot.json`, JSON.stringify(snapshot))
                          return `Saved ${td.name ?? td.id}.`
                        })
                      }
                    >
                      Save<span class="visually-hidden"> {td.name ?? td.id}</span>
                    </button>
                    <button
                      type="button"
                      class="danger"
                      disabled={busy}
                      onClick={() => {
                        if (!confirm(`Delete ${td.name ?? td.id}? Its state is gone for good.`))
                          return
                        void act(async () => {
                          await api.del(
                            `/v1/tds/${td.id}${td.state === 'failed' ? '?force=true' : ''}`
                          )
                          return `Deleted ${td.name ?? td.id}.`
                        })
                      }}
                    >
                      Delete<span class="visually-hidden"> {td.name ?? td.id}</span>
                    </button>
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>

      <div class="forms">
        <form
          class="card"
          aria-labelledby="create-title"
          onSubmit={(e) => {
            e.preventDefault()
            void create(e.currentTarget)
          }}
        >
          <h2 id="create-title">Create a TD</h2>
          <label>
            Name (optional)
            <input name="name" maxLength={64} />
          </label>
          <label>
            VPs
            <input name="vps" type="number" min={1} max={64} value="2" required />
          </label>
          <label>
            Memory
            <input name="memory" value="64MiB" required aria-describedby="memory-hint" />
          </label>
          <small id="memory-hint">4096, 0x1000 or 64MiB</small>
          <button type="submit" disabled={busy}>
            Create
          </button>
        </form>
        <form
          class="card"
          aria-labelledby="restore-title"
          onSubmit={(e) => {
            e.preventDefault()
            void restore(e.currentTarget)
          }}
        >
          <h2 id="restore-title">Restore a snapshot</h2>
          <label>
            Snapshot file
            <input name="snapshot" type="file" accept=".json,application/json" />
          </label>
          <label>
            Name (optional)
            <input name="name" maxLength={64} />
          </label>
          <button type="submit" disabled={busy}>
            Restore
          </button>
        </form>
      </div>
    </section>
  )
}
