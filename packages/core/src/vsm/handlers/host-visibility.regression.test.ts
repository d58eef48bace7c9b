import { describe, expect, it } from 'vitest'
import { HV_PARTITION_ID_SELF } from '../../hv/hypercall-code.js'
import { HvStatus } from '../../hv/status.js'
import { makeEngine } from '../testing/harness.js'
import { modifySparseGpaPageHostVisibility } from './host-visibility.js'

// Found by the faults campaign (@vtl/campaign, seed 136): the host refused a private→shared
// change and the rollback to private failed too (an injected TDG.MEM.PAGE.ACCEPT failure); the
// call answered "0 processed" while the pages stayed shared.
describe('ModifySparseGpaPageHostVisibility: a failed rollback after a host failure', () => {
  const header = { partitionId: HV_PARTITION_ID_SELF, hostVisibility: 3 }

  it('is a typed panic (E_TDX_STATUS), never a status that hides shared pages', () => {
    const h = makeEngine(1)
    h.hv.answer = () => HvStatus.AccessDenied
    const change = h.protection.changeHostVisibility.bind(h.protection)
    h.protection.changeHostVisibility = (vtl, gpns, shared) =>
      shared ? change(vtl, gpns, shared) : { status: HvStatus.OperationFailed, processed: 0 }
    expect(() => modifySparseGpaPageHostVisibility(h.engine, 0, header, [0x10n])).toThrow(
      expect.objectContaining({ code: 'E_TDX_STATUS' })
    )
  })

  it('a rollback that succeeds still reports the host status with nothing processed', () => {
    const h = makeEngine(1)
    h.hv.answer = () => HvStatus.AccessDenied
    expect(modifySparseGpaPageHostVisibility(h.engine, 0, header, [0x10n])).toEqual({
      status: HvStatus.AccessDenied,
      processed: 0,
    })
    expect(h.protection.shared.size).toBe(0)
  })
})
