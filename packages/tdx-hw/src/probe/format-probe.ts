import type { Check, ProbeResult } from './probe.js'

function answer(check: Check): string {
  if (check.ok) return check.detail === undefined ? 'yes' : `yes (${check.detail})`
  return `no — ${check.reason}`
}

/** The probe as the CLI prints it: one line per question, each "no" with its reason. */
export function formatProbe(result: ProbeResult): string {
  const lines: string[] = []
  const row = (label: string, text: string): void => {
    lines.push(`${label.padEnd(22)} ${text}`)
  }
  const { host } = result
  row(
    'host',
    `Linux ${host.kernel ?? '?'} ${host.arch}, ${host.root ? 'root' : `uid ${host.uid ?? '?'} (not root)`}`
  )
  row('FFI', answer(result.ffi))
  for (const device of result.devices) row(device.path, answer(device.usable))
  const mshv = result.mshvVtl
  row(
    'mshv_vtl (VTL2 kernel)',
    mshv.ok && mshv.extensions !== undefined
      ? `yes (${Object.entries(mshv.extensions)
          .map(([name, value]) => `${name}=${value ?? 'n/a'}`)
          .join(' ')})`
      : answer(mshv)
  )
  const { kvm } = result
  row(
    'KVM',
    kvm.usable.ok
      ? `yes (API ${kvm.apiVersion ?? '?'}, VM types ${kvm.vmTypes?.names.join(', ') ?? '?'})`
      : answer(kvm.usable)
  )
  if (kvm.caps !== undefined) {
    row(
      '  capabilities',
      Object.entries(kvm.caps)
        .map(([name, value]) => `${name}=${value}`)
        .join(' ')
    )
  }
  row('  TDX VM type', answer(kvm.tdxVmType))
  if (kvm.tdx !== undefined) {
    row('  TDX capabilities', `attrs ${kvm.tdx.supportedAttrs} xfam ${kvm.tdx.supportedXfam}`)
  }
  row('  guest_memfd', answer(kvm.guestMemfd))
  row('  private memory', answer(kvm.privateMemoryAttributes))
  row('TDX guest', answer(result.tdxGuest))
  return lines.join('\n')
}
