import { defineSuite } from '@vtl/bench-kit'
import {
  decodeEnableVpVtl,
  encodeEnableVpVtl,
  HV_PARTITION_ID_SELF,
  validateVtlGpaFlags,
  type EnableVpVtlInput,
} from '../src/index.js'

// A realistic EnableVpVtl input: a 64-bit long-mode context, every field non-zero so the codec
// does its full work.
const segment = (selector: number, attributes: number) => ({
  base: 0n,
  limit: 0xffff_ffff,
  selector,
  attributes,
})

const input: EnableVpVtlInput = {
  partitionId: HV_PARTITION_ID_SELF,
  vpIndex: 1,
  targetVtl: 1,
  context: {
    rip: 0xffff_f800_0010_0000n,
    rsp: 0xffff_f800_0020_0000n,
    rflags: 0x2n,
    cs: segment(0x10, 0xa09b),
    ds: segment(0x18, 0xc093),
    es: segment(0x18, 0xc093),
    fs: segment(0x18, 0xc093),
    gs: segment(0x18, 0xc093),
    ss: segment(0x18, 0xc093),
    tr: { base: 0xffff_f800_0000_3000n, limit: 0x67, selector: 0x28, attributes: 0x8b },
    ldtr: { base: 0n, limit: 0, selector: 0, attributes: 0x82 },
    idtr: { limit: 0xfff, base: 0xffff_f800_0000_1000n },
    gdtr: { limit: 0x7f, base: 0xffff_f800_0000_2000n },
    efer: 0xd01n,
    cr0: 0x8005_0033n,
    cr3: 0x0010_0000n,
    cr4: 0x0000_06f8n,
    msrCrPat: 0x0007_0406_0007_0406n,
  },
}

const source = encodeEnableVpVtl(input)

// Every low-byte mask, cycled, with and without MBEC, so branch prediction sees the real mix.
const masks = Uint32Array.from({ length: 512 }, (_, i) => (i & 0xff) | (i & 0x100 ? 0x8000 : 0))
let cursor = 0

export default defineSuite({
  name: 'core',
  cases: [
    {
      id: 'core.copy-240-bytes',
      kind: 'throughput',
      baselineOnly: true,
      note: 'Uint8Array.slice() of a 240-byte EnableVpVtlX64 input',
      op: () => source.slice(),
    },
    {
      id: 'core.enable-vp-vtl-codec',
      kind: 'throughput',
      baseline: 'core.copy-240-bytes',
      note: 'encodeEnableVpVtl then decodeEnableVpVtl of a full 240-byte EnableVpVtlX64 input',
      op: () => decodeEnableVpVtl(encodeEnableVpVtl(input)),
    },
    {
      id: 'core.validate-gpa-flags',
      kind: 'throughput',
      baseline: 'core.copy-240-bytes',
      note: 'validateVtlGpaFlags over every low-byte mask (± adjustable), MBEC alternating',
      op: () => {
        cursor = (cursor + 1) & 0x1ff
        return validateVtlGpaFlags(masks[cursor] ?? 0, (cursor & 1) === 1, false)
      },
    },
  ],
})
