import { describe, expect, it } from 'vitest'
import { enablePartitionVtlFlags, encodeEnablePartitionVtl } from '../hv/enable-partition-vtl.js'
import { encodeEnableVpVtl } from '../hv/enable-vp-vtl.js'
import { HV_PARTITION_ID_SELF, HV_VP_INDEX_SELF } from '../hv/hypercall-code.js'
import { encodeModifyVtlProtectionMask } from '../hv/modify-vtl-protection-mask.js'
import { HvRegisterName } from '../hv/register-name.js'
import { encodeStartVirtualProcessor } from '../hv/start-virtual-processor.js'
import { toHex } from '../hv/testing/arbitraries.js'
import { VtlEntryReason } from '../hv/vp-assist-page.js'
import { encodeGetVpRegisters, encodeSetVpRegisters } from '../hv/vp-registers.js'
import { dispatchHypercall, type HypercallOutcome } from './dispatch.js'
import { prepareEntry } from './interrupts.js'
import { control, makeEngine, validContext, type Harness } from './testing/harness.js'

function ok(outcome: HypercallOutcome): void {
  expect(outcome).toMatchObject({ kind: 'completed', status: 0 })
}

function readRegister(h: Harness, vp: number, name: number): bigint {
  const outcome = dispatchHypercall(h.engine, {
    vp,
    control: control(0x50, { repCount: 1 }),
    inputGpa: 0x1000n,
    outputGpa: 0x2000n,
    input: encodeGetVpRegisters(
      { partitionId: HV_PARTITION_ID_SELF, vpIndex: HV_VP_INDEX_SELF, targetVtl: 0 },
      [name]
    ),
  })
  if (outcome.kind !== 'completed' || outcome.output === undefined)
    throw new Error('GetVpRegisters failed')
  return new DataView(outcome.output.buffer, outcome.output.byteOffset).getBigUint64(0, true)
}

/** vsm-on-tdx.md §4.6, every step as the guest issues it, through the dispatcher. */
function canonicalBoot(vpCount: number, mbec: boolean): Harness {
  const h = makeEngine(vpCount)
  const { engine } = h
  const bsp = engine.vp(0)
  // 1. The BSP in VTL0 enables VTL1 on the partition.
  ok(
    dispatchHypercall(engine, {
      vp: 0,
      control: 0x0dn,
      inputGpa: 0x1000n,
      input: encodeEnablePartitionVtl({
        partitionId: HV_PARTITION_ID_SELF,
        targetVtl: 1,
        flags: enablePartitionVtlFlags({ enableMbec: mbec }),
      }),
    })
  )
  // 2. ... and on itself (SELF), as the first VP.
  const bspContext = validContext({ rip: 0xffff_8000_0010_0000n, rsp: 0xffff_8000_0020_0000n })
  ok(
    dispatchHypercall(engine, {
      vp: 0,
      control: 0x0fn,
      inputGpa: 0x1000n,
      input: encodeEnableVpVtl({
        partitionId: HV_PARTITION_ID_SELF,
        vpIndex: HV_VP_INDEX_SELF,
        targetVtl: 1,
        context: bspContext,
      }),
    })
  )
  expect(prepareEntry(engine, 0).vtl).toBe(0)
  // 3. VtlCall: VTL1 starts at ctx_bsp with entry reason VTL_CALL.
  bsp.shared.rax = 0n
  expect(dispatchHypercall(engine, { vp: 0, control: 0x11n })).toMatchObject({
    kind: 'vtl-switch',
    vtl: 1,
  })
  expect(prepareEntry(engine, 0).vtl).toBe(1)
  expect(bsp.vtls[1].registers.rip).toBe(bspContext.rip)
  expect(bsp.vtls[1].registers.rsp).toBe(bspContext.rsp)
  expect(bsp.vtls[1].control.entryReason).toBe(VtlEntryReason.VtlCall)
  // 4. VTL1 enables VTL1 on each AP, then starts its VTL0.
  for (let n = 1; n < vpCount; n++) {
    ok(
      dispatchHypercall(engine, {
        vp: 0,
        control: 0x0fn,
        inputGpa: 0x1000n,
        input: encodeEnableVpVtl({
          partitionId: HV_PARTITION_ID_SELF,
          vpIndex: n,
          targetVtl: 1,
          context: validContext({ rip: 0x10_0000n + BigInt(n) * 0x1000n }),
        }),
      })
    )
    ok(
      dispatchHypercall(engine, {
        vp: 0,
        control: 0x99n,
        inputGpa: 0x1000n,
        input: encodeStartVirtualProcessor({
          partitionId: HV_PARTITION_ID_SELF,
          vpIndex: n,
          targetVtl: 0,
          context: validContext({ rip: 0x20_0000n + BigInt(n) * 0x1000n }),
        }),
      })
    )
  }
  for (let n = 1; n < vpCount; n++) {
    // AP n runs VTL1 first, at ctx_n; its VTL0 begins at ctx0_n after VTL1's VtlReturn.
    const ap = engine.vp(n)
    expect(prepareEntry(engine, n).vtl).toBe(1)
    expect(ap.vtls[1].registers.rip).toBe(0x10_0000n + BigInt(n) * 0x1000n)
    expect(dispatchHypercall(engine, { vp: n, control: 0x12n, vtlInput: 1n })).toMatchObject({
      vtl: 0,
    })
    expect(prepareEntry(engine, n).vtl).toBe(0)
    expect(ap.vtls[0].registers.rip).toBe(0x20_0000n + BigInt(n) * 0x1000n)
  }
  // 5. VTL1 turns protections on (default mask RWX) and protects two pages from VTL0.
  ok(
    dispatchHypercall(engine, {
      vp: 0,
      control: control(0x51, { repCount: 1 }),
      inputGpa: 0x1000n,
      input: encodeSetVpRegisters(
        { partitionId: HV_PARTITION_ID_SELF, vpIndex: HV_VP_INDEX_SELF, targetVtl: 0 },
        [{ name: HvRegisterName.VsmPartitionConfig, value: 0x1fn }]
      ),
    })
  )
  ok(
    dispatchHypercall(engine, {
      vp: 0,
      control: control(0x0c, { repCount: 2 }),
      inputGpa: 0x1000n,
      input: encodeModifyVtlProtectionMask(
        { partitionId: HV_PARTITION_ID_SELF, mapFlags: 0x1, targetVtl: 0 },
        [0x800n, 0x801n]
      ),
    })
  )
  return h
}

describe.each([1, 4, 64])('the canonical guest sequence (§4.6) on %i VPs', (vpCount) => {
  it('tells the hypervisor exactly what OpenHCL does, in order', () => {
    const h = canonicalBoot(vpCount, false)
    const expected = [
      { control: 0x0dn, input: 'ffffffffffffffff0100000000000000' },
      ...Array.from({ length: vpCount }, (_, n) => ({
        control: 0x0fn,
        input:
          'ffffffffffffffff' +
          n.toString(16).padStart(2, '0') +
          '000000' +
          '01000000' +
          '00'.repeat(224),
      })),
    ]
    expect(h.hv.calls.map((c) => ({ control: c.control, input: toHex(c.input) }))).toEqual(expected)
    expect(h.protection.calls).toEqual(['default vtl1 0xf', 'protect vtl0 0x1 [2048,2049]'])
    expect(h.vpPort.exceptions).toEqual([])
  })

  it('ends with every VP EnableCalled and Active, and the status registers as literals', () => {
    const h = canonicalBoot(vpCount, false)
    // The BSP is in VTL1: active VTL 1, enabled set {0, 1}.
    expect(readRegister(h, 0, HvRegisterName.VsmVpStatus)).toBe(0x3_0001n)
    expect(readRegister(h, 0, HvRegisterName.VsmPartitionStatus)).toBe(0x1_0003n)
    for (let n = 1; n < vpCount; n++) {
      expect(h.engine.vp(n).vtl1).toBeDefined()
      expect(readRegister(h, n, HvRegisterName.VsmVpStatus)).toBe(0x3_0000n)
    }
    expect(readRegister(h, 0, HvRegisterName.VsmPartitionConfig)).toBe(0x1fn)
  })

  it('with MBEC the partition status reports it for VTL0 and VTL1', () => {
    const h = canonicalBoot(vpCount, true)
    expect(readRegister(h, 0, HvRegisterName.VsmPartitionStatus)).toBe(0x31_0003n)
    expect(h.hv.calls[0]?.input[9]).toBe(0)
  })
})
