import { VtlError } from '@vtl/core'
import type { FdKind } from './fd-kind.js'
import { IocDir, decodeRequest, formatRequest } from './ioc.js'
import { KvmRequest, type KvmRequestName } from './kvm-requests.js'
import { MSHV_REQUEST_ALIASES, MshvRequest, type MshvRequestName } from './mshv-requests.js'

export type RequestName = MshvRequestName | KvmRequestName

/** One ioctl request: its number, the fds it is valid on, and the argument it takes. */
export interface RequestInfo {
  name: RequestName
  request: number
  fds: readonly FdKind[]
  /**
   * Bytes a struct argument must have; `undefined` when the argument is an integer (`_IO`) or its
   * size is not the `_IOC` size (KVM_MEMORY_ENCRYPT_OP points at a per-vendor struct,
   * KVM_SET_CPUID2 carries a variable entry array).
   */
  argSize: number | undefined
}

const INDIRECT: ReadonlySet<RequestName> = new Set([
  'KVM_MEMORY_ENCRYPT_OP',
  'KVM_SET_CPUID2',
] as const)

const VTL: readonly FdKind[] = ['vtl']
const SINT: readonly FdKind[] = ['sint']

/** Which fd each request belongs to (abi.md §1.3 "fd" column, §2.2). */
const FDS: Readonly<Record<RequestName, readonly FdKind[]>> = {
  MSHV_CHECK_EXTENSION: ['mshv'],
  MSHV_CREATE_VTL: ['mshv'],
  MSHV_HVCALL_SETUP: ['hvcall'],
  MSHV_HVCALL: ['hvcall'],
  MSHV_SINT_SIGNAL_EVENT: SINT,
  MSHV_SINT_POST_MESSAGE: SINT,
  MSHV_SINT_SET_EVENTFD: SINT,
  MSHV_SINT_PAUSE_MESSAGE_STREAM: SINT,
  MSHV_GET_VP_REGISTERS: VTL,
  MSHV_SET_VP_REGISTERS: VTL,
  MSHV_RESTORE_PARTITION_TIME: VTL,
  MSHV_ADD_VTL0_MEMORY: VTL,
  MSHV_SET_POLL_FILE: VTL,
  MSHV_RETURN_TO_LOWER_VTL: VTL,
  MSHV_VTL_PVALIDATE: VTL,
  MSHV_VTL_RMPADJUST: VTL,
  MSHV_VTL_TDCALL: VTL,
  MSHV_VTL_READ_VMX_CR4_FIXED1: VTL,
  MSHV_VTL_GUEST_VSM_VMSA_PFN: VTL,
  MSHV_VTL_RMPQUERY: VTL,
  MSHV_VTL_INVLPGB: VTL,
  MSHV_VTL_TLBSYNC: VTL,
  MSHV_VTL_KICK_CPU: VTL,
  MSHV_VTL_MAP_REDIRECTED_DEVICE_INTERRUPT: VTL,
  MSHV_VTL_SECURE_AVIC_VTL0_PFN: VTL,
  MSHV_VTL_SIDECAR_START: ['sidecar'],
  MSHV_VTL_SIDECAR_STOP: ['sidecar'],
  MSHV_VTL_SIDECAR_RUN: ['sidecar'],
  MSHV_VTL_SIDECAR_INFO: ['sidecar'],
  KVM_GET_API_VERSION: ['kvm'],
  KVM_CREATE_VM: ['kvm'],
  KVM_CHECK_EXTENSION: ['kvm', 'kvm-vm'],
  KVM_GET_VCPU_MMAP_SIZE: ['kvm'],
  KVM_CREATE_VCPU: ['kvm-vm'],
  KVM_SET_USER_MEMORY_REGION: ['kvm-vm'],
  KVM_SET_USER_MEMORY_REGION2: ['kvm-vm'],
  KVM_RUN: ['kvm-vcpu'],
  KVM_SET_CPUID2: ['kvm-vcpu'],
  KVM_ENABLE_CAP: ['kvm-vm', 'kvm-vcpu'],
  KVM_MEMORY_ENCRYPT_OP: ['kvm-vm', 'kvm-vcpu'],
  KVM_SET_MEMORY_ATTRIBUTES: ['kvm-vm'],
  KVM_CREATE_GUEST_MEMFD: ['kvm-vm'],
  KVM_PRE_FAULT_MEMORY: ['kvm-vcpu'],
}

const ALL: Readonly<Record<RequestName, number>> = { ...MshvRequest, ...KvmRequest }

/** Every request this package knows, in table order. */
export const REQUESTS: readonly RequestInfo[] = (Object.keys(ALL) as RequestName[]).map((name) => {
  const { dir, size } = decodeRequest(ALL[name])
  const argSize = dir === IocDir.None || INDIRECT.has(name) ? undefined : size
  return { name, request: ALL[name], fds: FDS[name], argSize }
})

const byNumber = new Map<number, RequestInfo[]>()
for (const info of REQUESTS) {
  const list = byNumber.get(info.request) ?? []
  list.push(info)
  byNumber.set(info.request, list)
}

/**
 * The request number of a name (upstream or older fork spelling). Unknown → `E_UNKNOWN_NAME`,
 * before any syscall could see it.
 */
export function requestFromName(name: string): number {
  const canonical = Object.hasOwn(MSHV_REQUEST_ALIASES, name) ? MSHV_REQUEST_ALIASES[name] : name
  // Own properties only: 'toString' must not resolve to an Object.prototype member.
  if (canonical === undefined || !Object.hasOwn(ALL, canonical)) {
    throw new VtlError('E_UNKNOWN_NAME', `unknown ioctl request '${name}'`, { field: 'request' })
  }
  return ALL[canonical as RequestName]
}

/** Every name a number has; two for 0x4008B825 (SET_POLL_FILE, SINT_PAUSE_MESSAGE_STREAM). */
export function requestNames(request: number): RequestName[] {
  return (byNumber.get(request >>> 0) ?? []).map((info) => info.name)
}

/**
 * The name of a request as issued on an fd of `kind`; `undefined` if no request of that number
 * belongs to that fd. Without a kind, a shared number is ambiguous and gives `undefined`.
 */
export function requestName(request: number, kind?: FdKind): RequestName | undefined {
  const list = byNumber.get(request >>> 0) ?? []
  const fitting = kind === undefined ? list : list.filter((info) => info.fds.includes(kind))
  return fitting.length === 1 ? fitting[0]?.name : undefined
}

// Per fd kind, request → entry: one Map lookup on the ioctl hot path.
const byKind = new Map<FdKind, Map<number, RequestInfo>>()
for (const info of REQUESTS) {
  for (const kind of info.fds) {
    const table = byKind.get(kind) ?? new Map<number, RequestInfo>()
    table.set(info.request, info)
    byKind.set(kind, table)
  }
}

/** The table entry of a request as issued on an fd of `kind`. */
export function requestInfo(request: number, kind: FdKind): RequestInfo | undefined {
  return byKind.get(kind)?.get(request >>> 0)
}

/** Whether any fd kind knows this number. */
export function isKnownRequest(request: number): boolean {
  return byNumber.has(request >>> 0)
}

/** `MSHV_HVCALL (0xC030B81F)`, or the hex alone for a number we do not know. */
export function describeRequest(request: number, kind?: FdKind): string {
  const name = requestName(request, kind) ?? requestNames(request).join('|')
  return name === '' ? formatRequest(request) : `${name} (${formatRequest(request)})`
}
