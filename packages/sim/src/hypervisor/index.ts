export { UntrustedHypervisor, bytesToHex } from './untrusted-hypervisor.js'
export type {
  HypervisorAnomaly,
  HypervisorCallRecord,
  UntrustedHypervisorJson,
  UntrustedHypervisorOptions,
} from './untrusted-hypervisor.js'
