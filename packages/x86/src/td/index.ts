// The software TD's L2 VMs as x86 CPUs.
export { X86TdCpu } from './x86-td-cpu.js'
export { x86ScenarioCpu } from './scenario-cpu.js'
