// "Open in Perfetto": the Perfetto UI's documented postMessage hand-off. The console opens the UI
// in a new tab, PINGs it until it answers PONG, then posts the trace buffer; nothing is uploaded
// anywhere else (the trace goes from this tab to that one).

export const PERFETTO_ORIGIN = 'https://ui.perfetto.dev'

export function openInPerfetto(trace: string, title: string): void {
  const ui = window.open(PERFETTO_ORIGIN)
  if (ui === null)
    throw new Error('the browser blocked the Perfetto tab: allow pop-ups for the console')
  const buffer = new TextEncoder().encode(trace).buffer
  let tries = 0
  const ping = setInterval(() => {
    ui.postMessage('PING', PERFETTO_ORIGIN)
    if (++tries > 200) stop()
  }, 100)
  const onMessage = (event: MessageEvent) => {
    if (event.origin !== PERFETTO_ORIGIN || event.data !== 'PONG') return
    stop()
    ui.postMessage({ perfetto: { buffer, title, fileName: `${title}.json` } }, PERFETTO_ORIGIN)
  }
  function stop(): void {
    clearInterval(ping)
    removeEventListener('message', onMessage)
  }
  addEventListener('message', onMessage)
}
