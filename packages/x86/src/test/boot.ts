import type { PagePermissionSource } from '../cpu/page-permissions.js'
import { X86Vp } from '../cpu/x86-vp.js'
import { loadImages, type GuestImage } from '../loader/images.js'
import { applyStartState, buildLoaderTables, type LoaderLayout } from '../loader/start-state.js'

export const TEST_MEMORY = 16 * 1024 * 1024
export const CODE_GPA = 0x10_0000n
export const STACK_TOP = 0x8_0000n

/** A VP over fresh RAM with the images loaded and VTL0 in the start state. */
export function bootVp(
  images: readonly GuestImage[],
  options: { permissions?: PagePermissionSource; memory?: number } = {}
): { vp: X86Vp; ram: Buffer; layout: LoaderLayout } {
  const ram = Buffer.alloc(options.memory ?? TEST_MEMORY)
  const layout = buildLoaderTables(ram)
  loadImages(ram, images)
  const vp = new X86Vp(
    options.permissions === undefined ? { ram } : { ram, permissions: options.permissions }
  )
  applyStartState(vp.context(0), layout, { rip: CODE_GPA, rsp: STACK_TOP })
  return { vp, ram, layout }
}
