import { describe, expect, it } from 'vitest'
import {
  KvmRequest,
  MshvRequest,
  decodeRequest,
  describeRequest,
  ioc,
  requestFromName,
  requestName,
  requestNames,
  REQUESTS,
} from './index.js'

// The literal values of abi.md §1.3 and §2.2: the table computes them, these pin them.
const MSHV_LITERALS: Record<keyof typeof MshvRequest, number> = {
  MSHV_CHECK_EXTENSION: 0x4004b800,
  MSHV_GET_VP_REGISTERS: 0xc010b805,
  MSHV_SET_VP_REGISTERS: 0x4010b806,
  MSHV_RESTORE_PARTITION_TIME: 0x4018b813,
  MSHV_CREATE_VTL: 0x8001b81d,
  MSHV_HVCALL_SETUP: 0x4010b81e,
  MSHV_HVCALL: 0xc030b81f,
  MSHV_ADD_VTL0_MEMORY: 0x4010b821,
  MSHV_SINT_SIGNAL_EVENT: 0x4008b822,
  MSHV_SINT_POST_MESSAGE: 0x4018b823,
  MSHV_SINT_SET_EVENTFD: 0x4008b824,
  MSHV_SINT_PAUSE_MESSAGE_STREAM: 0x4008b825,
  MSHV_SET_POLL_FILE: 0x4008b825,
  MSHV_RETURN_TO_LOWER_VTL: 0x0000b827,
  MSHV_VTL_PVALIDATE: 0x4014b828,
  MSHV_VTL_RMPADJUST: 0x4020b829,
  MSHV_VTL_TDCALL: 0xc038b832,
  MSHV_VTL_READ_VMX_CR4_FIXED1: 0x8008b833,
  MSHV_VTL_GUEST_VSM_VMSA_PFN: 0xc008b834,
  MSHV_VTL_RMPQUERY: 0x4030b835,
  MSHV_VTL_INVLPGB: 0x4018b836,
  MSHV_VTL_TLBSYNC: 0x0000b837,
  MSHV_VTL_KICK_CPU: 0x4018b838,
  MSHV_VTL_MAP_REDIRECTED_DEVICE_INTERRUPT: 0xc010b839,
  MSHV_VTL_SECURE_AVIC_VTL0_PFN: 0xc008b840,
  MSHV_VTL_SIDECAR_START: 0xb8f0,
  MSHV_VTL_SIDECAR_STOP: 0xb8f1,
  MSHV_VTL_SIDECAR_RUN: 0xb8f2,
  MSHV_VTL_SIDECAR_INFO: 0x800cb8f3,
}

const KVM_LITERALS: Record<keyof typeof KvmRequest, number> = {
  KVM_GET_API_VERSION: 0x0000ae00,
  KVM_CREATE_VM: 0x0000ae01,
  KVM_CHECK_EXTENSION: 0x0000ae03,
  KVM_GET_VCPU_MMAP_SIZE: 0x0000ae04,
  KVM_CREATE_VCPU: 0x0000ae41,
  KVM_SET_USER_MEMORY_REGION: 0x4020ae46,
  KVM_SET_USER_MEMORY_REGION2: 0x40a0ae49,
  KVM_RUN: 0x0000ae80,
  KVM_SET_CPUID2: 0x4008ae90,
  KVM_ENABLE_CAP: 0x4068aea3,
  KVM_MEMORY_ENCRYPT_OP: 0xc008aeba,
  KVM_SET_MEMORY_ATTRIBUTES: 0x4020aed2,
  KVM_CREATE_GUEST_MEMFD: 0xc040aed4,
  KVM_PRE_FAULT_MEMORY: 0xc040aed5,
}

describe('request numbers', () => {
  it.each(Object.entries(MSHV_LITERALS))('%s = spec literal', (name, literal) => {
    expect(MshvRequest[name as keyof typeof MshvRequest]).toBe(literal)
  })
  it.each(Object.entries(KVM_LITERALS))('%s = spec literal', (name, literal) => {
    expect(KvmRequest[name as keyof typeof KvmRequest]).toBe(literal)
  })
  it('covers every table entry', () => {
    expect(REQUESTS).toHaveLength(
      Object.keys(MSHV_LITERALS).length + Object.keys(KVM_LITERALS).length
    )
  })
  it('keeps requests ≥ 2^31 unsigned', () => {
    expect(MshvRequest.MSHV_HVCALL).toBeGreaterThan(0)
    expect(ioc(3, 0xb8, 0x1f, 48)).toBe(0xc030b81f)
  })
  it('decodes a request into its fields', () => {
    expect(decodeRequest(0xc038b832)).toEqual({ dir: 3, size: 56, type: 0xb8, nr: 0x32 })
  })
  it('refuses _IOC fields out of range', () => {
    expect(() => ioc(1, 0x100, 0, 0)).toThrow(expect.objectContaining({ code: 'E_FIELD_RANGE' }))
    expect(() => ioc(1, 0xb8, 0, 0x4000)).toThrow(
      expect.objectContaining({ code: 'E_FIELD_RANGE' })
    )
  })
})

describe('name ⇄ request', () => {
  it('lets the fd decide between SET_POLL_FILE and SINT_PAUSE_MESSAGE_STREAM', () => {
    expect(requestNames(0x4008b825)).toEqual([
      'MSHV_SINT_PAUSE_MESSAGE_STREAM',
      'MSHV_SET_POLL_FILE',
    ])
    expect(requestName(0x4008b825, 'vtl')).toBe('MSHV_SET_POLL_FILE')
    expect(requestName(0x4008b825, 'sint')).toBe('MSHV_SINT_PAUSE_MESSAGE_STREAM')
    expect(requestName(0x4008b825)).toBeUndefined()
    expect(requestName(0x4008b825, 'kvm')).toBeUndefined()
  })
  it('round-trips every unambiguous name', () => {
    for (const info of REQUESTS) {
      expect(requestFromName(info.name)).toBe(info.request)
      for (const fd of info.fds) expect(requestName(info.request, fd)).toBe(info.name)
    }
  })
  it('accepts the older fork spellings', () => {
    expect(requestFromName('MSHV_VTL_RETURN_TO_LOWER_VTL')).toBe(0xb827)
    expect(requestFromName('MSHV_VTL_SET_POLL_FILE')).toBe(0x4008b825)
    expect(requestFromName('MSHV_VTL_ADD_VTL0_MEMORY')).toBe(0x4010b821)
  })
  it('refuses unknown names, including Object.prototype members', () => {
    for (const name of ['MSHV_NOPE', 'toString', '__proto__', '']) {
      expect(() => requestFromName(name)).toThrow(
        expect.objectContaining({ code: 'E_UNKNOWN_NAME' })
      )
    }
  })
  it('describes known and unknown numbers', () => {
    expect(describeRequest(0xc030b81f)).toBe('MSHV_HVCALL (0xC030B81F)')
    expect(describeRequest(0x4008b825, 'vtl')).toBe('MSHV_SET_POLL_FILE (0x4008B825)')
    expect(describeRequest(0x1234)).toBe('0x00001234')
  })
})
