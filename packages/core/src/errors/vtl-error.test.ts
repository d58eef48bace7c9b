import { describe, expect, it } from 'vitest'
import { HvStatus } from '../hv/status.js'
import { HvError } from './hv-error.js'
import { toVtlError, VtlError } from './vtl-error.js'

describe('VtlError', () => {
  it('carries code, field and cause', () => {
    const cause = new RangeError('inner')
    const error = new VtlError('E_DECODE_LENGTH', 'too short', { field: 'x', cause })
    expect(error.code).toBe('E_DECODE_LENGTH')
    expect(error.field).toBe('x')
    expect(error.cause).toBe(cause)
    expect(error.name).toBe('VtlError')
  })

  it('recognises an error made by another copy of the package through the global marker', () => {
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('vtl.error')]: true,
      code: 'E_IOCTL',
    })
    expect(VtlError.isInstance(foreign)).toBe(true)
    expect(VtlError.isInstance(new Error('plain'))).toBe(false)
    expect(VtlError.isInstance(null)).toBe(false)
    expect(VtlError.isInstance('E_IOCTL')).toBe(false)
  })

  it('normalises unknown throws to E_INTERNAL and keeps VtlErrors as they are', () => {
    const original = new VtlError('E_UNALIGNED', 'x')
    expect(toVtlError(original)).toBe(original)
    const wrapped = toVtlError(new TypeError('boom'))
    expect(wrapped.code).toBe('E_INTERNAL')
    expect(wrapped.message).toBe('boom')
    expect(toVtlError('text').message).toBe('text')
  })

  it('HvError names its status and is a VtlError', () => {
    const error = new HvError(HvStatus.InvalidVtlState)
    expect(error.message).toBe('InvalidVtlState (0x0051)')
    expect(error.status).toBe(0x51)
    expect(VtlError.isInstance(error)).toBe(true)
    expect(HvError.isInstance(error)).toBe(true)
    expect(HvError.isInstance(new VtlError('E_HV_STATUS', 'no status'))).toBe(false)
  })

  it('each subclass has its own cross-copy marker: an object with the fields is not one', () => {
    // What a second installed copy of @vtl/core would throw: the registry-wide symbols only.
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('vtl.error')]: true,
      [Symbol.for('vtl.error.HvError')]: true,
      code: 'E_HV_STATUS',
      status: 0x51,
    })
    expect(HvError.isInstance(foreign)).toBe(true)
    const lookalike = Object.assign(new VtlError('E_HV_STATUS', 'x'), { status: 0x51 })
    expect(HvError.isInstance(lookalike)).toBe(false)
  })
})
