import { VtlError } from '@vtl/core'
import { MemoryContents, type L2CpuFactory, type ScenarioImage } from '@vtl/sim'
import { loadImages, type GuestImage } from '../loader/images.js'
import { applyStartState, buildLoaderTables } from '../loader/start-state.js'
import { unicornAvailability } from '../unicorn/unicorn-library.js'
import { X86TdCpu } from './x86-td-cpu.js'

// The scenario's inline `hex` arrives as the bytes its reader parsed.
function guestImage(image: ScenarioImage): GuestImage {
  return 'file' in image
    ? { gpa: image.gpa, file: image.file }
    : { gpa: image.gpa, bytes: image.hex }
}

/**
 * The CPU for a `partition.cpu: x86` scenario (`runScenario(s, { cpu: x86ScenarioCpu })`): guest
 * RAM as one buffer that is also the TD's memory contents (so the paravisor's writes, such as
 * SIMP messages and the VP assist page, are what the guest reads), the loader's GDT and identity
 * map in the top 1 MiB, the images, and VTL0 of every started VP in the start state at `entry`.
 * Without libunicorn it throws `E_UNSUPPORTED` saying why and how to install it.
 */
export const x86ScenarioCpu: L2CpuFactory = (td, partition) => {
  const availability = unicornAvailability()
  if (!availability.available) {
    throw new VtlError(
      'E_UNSUPPORTED',
      `partition.cpu x86 needs libunicorn2 (apt-get install libunicorn2): ${availability.reason}`,
      { field: 'partition.cpu' }
    )
  }
  const entry = partition.entry
  if (entry === undefined) {
    throw new VtlError('E_INVALID_VALUE', 'partition.cpu x86 needs partition.entry', {
      field: 'partition.entry',
    })
  }
  const ram = Buffer.alloc(Number(partition.memory))
  const layout = buildLoaderTables(ram)
  loadImages(ram, partition.images.map(guestImage))
  td.contents = MemoryContents.over(ram)
  const cpu = new X86TdCpu(td, ram)
  const started = partition.startedVps ?? Array.from({ length: partition.vps }, (_, vp) => vp)
  for (const vp of started) {
    applyStartState(cpu.backing.vp(vp).context(0), layout, entry)
    cpu.backing.syncBankFromCpu(vp, 0)
  }
  return cpu
}
