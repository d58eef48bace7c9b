import type { InitialVpContextX64 } from '@vtl/core'

/**
 * The initial VP context a typed EnableVpVtl / StartVirtualProcessor uses for fields the file
 * leaves out: flat 64-bit long mode that TDX accepts (EFER.NXE set, CR0 = PE|ET|NE|PG, CR4 = PAE),
 * so that a scenario only writes what it cares about (usually `rip` and `rsp`).
 */
export function defaultVpContext(): InitialVpContextX64 {
  const flat = (selector: number, attributes: number) => ({
    base: 0n,
    limit: 0xffff_ffff,
    selector,
    attributes,
  })
  return {
    rip: 0x1000n,
    rsp: 0x8000n,
    rflags: 0x2n,
    cs: flat(0x08, 0xa09b),
    ds: flat(0x10, 0xc093),
    es: flat(0x10, 0xc093),
    fs: flat(0x10, 0xc093),
    gs: flat(0x10, 0xc093),
    ss: flat(0x10, 0xc093),
    tr: { base: 0n, limit: 0x67, selector: 0x18, attributes: 0x8b },
    ldtr: { base: 0n, limit: 0, selector: 0, attributes: 0x82 },
    idtr: { limit: 0xfff, base: 0x2000n },
    gdtr: { limit: 0x1f, base: 0x3000n },
    efer: 0xd01n,
    cr0: 0x8000_0031n,
    cr3: 0x4000n,
    cr4: 0x20n,
    msrCrPat: 0x0007_0406_0007_0406n,
  }
}
