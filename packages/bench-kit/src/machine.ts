import os from 'node:os'
import type { Machine } from './document.js'

export function machine(): Machine {
  const cpus = os.cpus()
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    node: process.version,
    os: `${process.platform} ${process.arch}`,
  }
}
