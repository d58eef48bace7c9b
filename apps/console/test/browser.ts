import { accessSync, constants } from 'node:fs'

// Which Chromium the browser suite drives: $VTL_CHROMIUM, else Debian's (`.ci/run` installs the
// `chromium` package when /usr/bin/chromium is missing). The flags keep a headless Chromium off
// the network it cannot reach here (sync, component updates, background fetches).

export const CHROMIUM = process.env.VTL_CHROMIUM ?? '/usr/bin/chromium'

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** Why the browser suite cannot run here, or undefined when it can. */
export function noBrowser(): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK)
    return undefined
  } catch {
    return `no Chromium at ${CHROMIUM} (install Debian's chromium package, or set VTL_CHROMIUM)`
  }
}
