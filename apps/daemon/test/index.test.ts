import { describe, expect, it } from 'vitest'
import * as daemon from '../src/index.js'

describe('@vtl/daemon’s barrel', () => {
  it.each([
    'DaemonMetrics',
    'ScenarioWorkers',
    'checkBackend',
    'BackendRefusedError',
    'bearerAuth',
    'resolveToken',
    'requestTimeout',
    'startDaemon',
    'createApp',
  ])('exports %s', (name) => {
    expect(typeof (daemon as Record<string, unknown>)[name]).toBe('function')
  })
})
