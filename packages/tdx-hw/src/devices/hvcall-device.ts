import {
  HvStatus,
  VtlError,
  decodeHypercallControl,
  decodeHypercallResult,
  hypercallName,
} from '@vtl/core'
import { MshvVtlHvcall, MshvVtlHvcallSetup } from '../structs/mshv-structs.js'
import type { Syscalls, UserMemory } from '../sys/syscalls.js'
import { MSHV_HVCALL_IO_MAX, MshvRequest } from '../uapi/mshv-requests.js'
import { bitmapAllows, encodeAllowBitmap } from './allow-bitmap.js'
import { DeviceFd, openFd, withMemory } from './device-fd.js'

export const MSHV_HVCALL_PATH = '/dev/mshv_hvcall'

const notAllowedMarker = Symbol.for('vtl.error.HypercallNotAllowedError')

/** A hypercall outside the fd's allow bitmap: refused here, where the kernel would say EPERM. */
export class HypercallNotAllowedError extends VtlError {
  readonly [notAllowedMarker] = true
  readonly callCode: number

  constructor(code: number) {
    const name = hypercallName(code) ?? `0x${code.toString(16)}`
    super('E_INVALID_VALUE', `hypercall ${name} is not in this fd's allow bitmap`, {
      field: 'control.code',
    })
    this.name = 'HypercallNotAllowedError'
    this.callCode = code
  }

  static override isInstance(value: unknown): value is HypercallNotAllowedError {
    return VtlError.isInstance(value) && notAllowedMarker in value
  }
}

export interface HvcallResult {
  /** The final hypercall result word (status 15:0, reps completed 43:32). */
  result: bigint
  output: Uint8Array
  /** How many times the call was issued (more than 1 after Timeout resumptions). */
  issued: number
}

// A rep call that keeps timing out without progress is a hypervisor fault, not a loop to spin.
const MAX_STALLED_RESUMES = 64

/**
 * `/dev/mshv_hvcall`: hypercalls to the hypervisor, gated by a per-fd allow bitmap set once
 * with HVCALL_SETUP. The ioctl returns 0; the hypercall's own result is in the struct.
 */
export class HvcallDevice extends DeviceFd {
  private allowed: Uint8Array | undefined
  private pages: { input: UserMemory; output: UserMemory } | undefined

  static open(sys: Syscalls, path = MSHV_HVCALL_PATH): HvcallDevice {
    return new HvcallDevice(sys, openFd(sys, path), path, 'hvcall')
  }

  get isSetUp(): boolean {
    return this.allowed !== undefined
  }

  /** MSHV_HVCALL_SETUP with exactly `codes` allowed; once per fd (the kernel: -EINVAL). */
  setup(codes: readonly number[]): void {
    if (this.allowed !== undefined) {
      throw new VtlError('E_INVALID_VALUE', 'HVCALL_SETUP was already done on this fd', {
        field: 'allowBitmap',
      })
    }
    const bitmap = encodeAllowBitmap(codes)
    withMemory(this.sys, bitmap.byteLength, (memory) => {
      memory.bytes.set(bitmap)
      this.ioctl(
        MshvRequest.MSHV_HVCALL_SETUP,
        MshvVtlHvcallSetup.encode({
          bitmapArraySize: BigInt(bitmap.byteLength),
          allowBitmapPtr: memory.address,
        })
      )
    })
    this.allowed = bitmap
  }

  allows(code: number): boolean {
    return this.allowed !== undefined && bitmapAllows(this.allowed, code)
  }

  /**
   * One hypercall. A rep call that ends in HV_STATUS_TIMEOUT is issued again from the reps it
   * completed (rep_start = reps completed), as OpenHCL does, until it finishes or fails.
   */
  call(control: bigint, input: Uint8Array, outputSize = 0): HvcallResult {
    const decoded = decodeHypercallControl(control)
    if (this.allowed === undefined) {
      throw new VtlError('E_INVALID_VALUE', 'HVCALL before HVCALL_SETUP', { field: 'allowBitmap' })
    }
    if (!bitmapAllows(this.allowed, decoded.code)) throw new HypercallNotAllowedError(decoded.code)
    if (
      input.byteLength > MSHV_HVCALL_IO_MAX ||
      outputSize > MSHV_HVCALL_IO_MAX ||
      outputSize < 0
    ) {
      throw new VtlError('E_FIELD_RANGE', `hypercall input/output above ${MSHV_HVCALL_IO_MAX} B`, {
        field: 'input_size',
      })
    }
    const pages = this.ioPages()
    pages.input.bytes.fill(0)
    pages.input.bytes.set(input)
    let word = control
    let issued = 0
    let stalled = 0
    let lastReps = decoded.repStart
    for (;;) {
      pages.output.bytes.fill(0, 0, outputSize)
      const arg = MshvVtlHvcall.encode({
        control: word,
        inputSize: BigInt(input.byteLength),
        inputPtr: pages.input.address,
        outputSize: BigInt(outputSize),
        outputPtr: pages.output.address,
      })
      this.ioctl(MshvRequest.MSHV_HVCALL, arg)
      issued++
      const result = MshvVtlHvcall.decode(arg).status
      const { status, repsCompleted } = decodeHypercallResult(result)
      const resumable = decoded.repCount > 0 && status === HvStatus.Timeout
      if (!resumable || repsCompleted >= decoded.repCount) {
        return { result, output: pages.output.bytes.slice(0, outputSize), issued }
      }
      stalled = repsCompleted > lastReps ? 0 : stalled + 1
      if (stalled > MAX_STALLED_RESUMES) {
        throw new VtlError('E_HV_STATUS', `rep hypercall stalled at ${repsCompleted} reps`, {
          field: 'repStart',
        })
      }
      lastReps = repsCompleted
      word = (control & ~(0xfffn << 48n)) | (BigInt(repsCompleted) << 48n)
    }
  }

  private ioPages(): { input: UserMemory; output: UserMemory } {
    if (this.pages === undefined) {
      const input = this.sys.alloc(MSHV_HVCALL_IO_MAX)
      this.pages = { input, output: this.sys.alloc(MSHV_HVCALL_IO_MAX) }
    }
    return this.pages
  }

  protected override onClose(): void {
    if (this.pages === undefined) return
    this.sys.free(this.pages.input)
    this.sys.free(this.pages.output)
    this.pages = undefined
  }
}
