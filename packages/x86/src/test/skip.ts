import { unicornAvailability } from '../unicorn/unicorn-library.js'
import { nasmAvailable } from './nasm.js'

/** Why the guest-code tests cannot run here (no libunicorn, no nasm), or `false` when they can. */
export function guestCodeSkip(): string | false {
  const unicorn = unicornAvailability()
  if (!unicorn.available) return `libunicorn missing: ${unicorn.reason}`
  return nasmAvailable() ? false : 'nasm missing (apt-get install nasm)'
}
