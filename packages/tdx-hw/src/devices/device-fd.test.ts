import { describe, expect, it } from 'vitest'
import { FakeSyscalls, thrown } from '../test/fake-syscalls.js'
import { DeviceFd, checkArgument } from './device-fd.js'

function device(kind: 'vtl' | 'sint' | 'kvm' = 'vtl'): { fake: FakeSyscalls; fd: DeviceFd } {
  const fake = new FakeSyscalls()
  return { fake, fd: new DeviceFd(fake, fake.newFd('anon:test'), 'anon:test', kind) }
}

describe('checks before the syscall', () => {
  it('refuses a struct of the wrong size for a known request', () => {
    const { fake, fd } = device()
    expect(thrown(() => fd.ioctl(0xc038b832, new Uint8Array(48)))).toMatchObject({
      code: 'E_DECODE_LENGTH',
      field: 'MSHV_VTL_TDCALL',
    })
    expect(fake.ioctls).toEqual([])
  })

  it('refuses a known request on the wrong kind of fd', () => {
    const { fake, fd } = device('kvm')
    expect(thrown(() => fd.ioctl(0xc030b81f, new Uint8Array(48)))).toMatchObject({
      code: 'E_INVALID_VALUE',
      message: expect.stringContaining('MSHV_HVCALL') as unknown,
    })
    expect(fake.ioctls).toEqual([])
  })

  it('lets the fd decide 0x4008B825 and passes unknown numbers to the kernel', () => {
    expect(() => {
      checkArgument(0x4008b825, new Uint8Array(8), 'vtl', 'x')
    }).not.toThrow()
    expect(() => {
      checkArgument(0x4008b825, new Uint8Array(8), 'sint', 'x')
    }).not.toThrow()
    expect(() => {
      checkArgument(0x4008b825, new Uint8Array(8), 'kvm', 'x')
    }).toThrow()
    const { fake, fd } = device()
    fd.ioctl(0xc004ae02, new Uint8Array(8))
    expect(fake.ioctls).toHaveLength(1)
  })

  it('issues by name, refusing unknown names first', () => {
    const { fake, fd } = device()
    expect(thrown(() => fd.ioctlByName('MSHV_NO_SUCH', 0))).toMatchObject({
      code: 'E_UNKNOWN_NAME',
    })
    expect(thrown(() => fd.ioctlByName('constructor', 0))).toMatchObject({ code: 'E_UNKNOWN_NAME' })
    fd.ioctlByName('MSHV_VTL_RETURN_TO_LOWER_VTL')
    expect(fake.requests()).toEqual([0xb827])
  })

  it('names the request as this fd kind sees it in an errno error', () => {
    const { fake, fd } = device('sint')
    fake.onIoctl = () => -16
    expect(thrown(() => fd.ioctl(0x4008b825, new Uint8Array(8)))).toMatchObject({
      requestName: 'MSHV_SINT_PAUSE_MESSAGE_STREAM',
      errnoName: 'EBUSY',
    })
  })
})
