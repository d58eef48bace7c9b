import { describe, expect, it } from 'vitest'
import { HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { HvStatus } from '../../hv/status.js'
import { makeEngine } from '../testing/harness.js'
import { modifySparseGpaPageHostVisibility } from './host-visibility.js'

// Found by the faults campaign (@vtl/campaign): the host refused a private→shared change and the
// handler rolled the pages back to private itself. Seed 136: that rollback failed too (an injected
// TDG.MEM.PAGE.ACCEPT failure) and the call answered "0 processed" with the pages still shared.
// Seed 1013: the rollback succeeded but gave the pages the default protections, so VTL0 regained
// execute on pages VTL1 had made R|W — a failed call that changed VTL0's rights. OpenHCL panics
// there (vsm-on-tdx.md §5.6: "no safe rollback"); so does the handler now, with a typed error.
describe('ModifySparseGpaPageHostVisibility: the host refuses a private→shared change', () => {
  const header = { partitionId: HV_PARTITION_ID_SELF, hostVisibility: 3 }

  it.each([HvStatus.AccessDenied, HvStatus.InvalidParameter, HvStatus.InsufficientMemory])(
    'host status %i: a typed panic and no rollback through the protection port',
    (status) => {
      const h = makeEngine(1)
      h.hv.answer = () => status
      expect(() => modifySparseGpaPageHostVisibility(h.engine, 0, header, [0x10n, 0x11n])).toThrow(
        expect.objectContaining({ code: 'E_HV_STATUS' })
      )
      expect(h.protection.calls).toEqual(['visibility vtl0 shared [16,17]'])
    }
  )

  it('a host that accepts: the pages are shared and reported', () => {
    const h = makeEngine(1)
    expect(modifySparseGpaPageHostVisibility(h.engine, 0, header, [0x10n])).toEqual({
      status: HvStatus.Success,
      processed: 1,
    })
  })
})
