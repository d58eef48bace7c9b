/**
 * Which kind of file a request is issued on. Two requests share a number (SET_POLL_FILE on the
 * VTL fd, SINT_PAUSE_MESSAGE_STREAM on /dev/mshv_sint: both 0x4008B825), so the fd decides.
 */
export type FdKind =
  | 'mshv'
  | 'vtl'
  | 'hvcall'
  | 'sint'
  | 'vtl-low'
  | 'sidecar'
  | 'kvm'
  | 'kvm-vm'
  | 'kvm-vcpu'
  | 'guest-memfd'
  | 'eventfd'
  | 'file'
