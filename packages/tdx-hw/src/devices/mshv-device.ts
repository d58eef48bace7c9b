import { MshvCapability, MshvRequest, type MshvCapabilityName } from '../uapi/mshv-requests.js'
import type { Syscalls } from '../sys/syscalls.js'
import { DeviceFd, openFd } from './device-fd.js'
import { VtlFd, type VtlFdOptions } from './vtl-fd.js'

export const MSHV_PATH = '/dev/mshv'

/** `/dev/mshv` of the mshv_vtl driver: extension checks and CREATE_VTL. */
export class MshvDevice extends DeviceFd {
  static open(sys: Syscalls, path = MSHV_PATH): MshvDevice {
    return new MshvDevice(sys, openFd(sys, path), path, 'mshv')
  }

  /** The extension's value (the ioctl's return); an unknown one throws IoctlError EOPNOTSUPP. */
  checkExtension(cap: MshvCapabilityName | number): number {
    const id = typeof cap === 'number' ? cap : MshvCapability[cap]
    const arg = new Uint8Array(4)
    new DataView(arg.buffer).setUint32(0, id, true)
    return this.ioctl(MshvRequest.MSHV_CHECK_EXTENSION, arg)
  }

  /** MSHV_CREATE_VTL: the new anonymous VTL fd (its argument byte is ignored by the kernel). */
  createVtl(options: VtlFdOptions = {}): VtlFd {
    const fd = this.ioctl(MshvRequest.MSHV_CREATE_VTL, new Uint8Array(1))
    return new VtlFd(this.sys, fd, options)
  }
}
