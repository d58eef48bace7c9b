import { decodeEnablePartitionVtl } from '../hv/enable-partition-vtl.js'
import { readGpnList } from '../hv/gpn-list.js'
import {
  decodeModifySparseGpaPageHostVisibilityHeader,
  decodeQuerySparseGpaPageHostVisibilityHeader,
  MODIFY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE,
  QUERY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE,
} from '../hv/host-visibility.js'
import { HypercallCode } from '../hv/hypercall-code.js'
import {
  decodeModifyVtlProtectionMaskHeader,
  MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE,
} from '../hv/modify-vtl-protection-mask.js'
import type { HvStatus } from '../hv/status.js'
import { decodeVpContextHeader, type VpContextInput } from '../hv/vp-context-input.js'
import {
  decodeGetSetVpRegistersHeader,
  GET_SET_VP_REGISTERS_HEADER_SIZE,
  readRegisterAssocs,
  readRegisterNames,
} from '../hv/vp-registers.js'
import type { VsmEngine } from './engine.js'
import { enablePartitionVtl } from './handlers/enable-partition-vtl.js'
import { enableVpVtl } from './handlers/enable-vp-vtl.js'
import { FLUSH_EX_INPUT_SIZE, FLUSH_INPUT_SIZE, flushVirtualAddress } from './handlers/flush.js'
import {
  modifySparseGpaPageHostVisibility,
  querySparseGpaPageHostVisibility,
} from './handlers/host-visibility.js'
import {
  decodeInstallIntercept,
  INSTALL_INTERCEPT_SIZE,
  installIntercept,
} from './handlers/install-intercept.js'
import { modifyVtlProtectionMask } from './handlers/modify-vtl-protection-mask.js'
import type { RepResult } from './handlers/rep-result.js'
import {
  SEND_IPI_EX_INPUT_SIZE,
  SEND_IPI_INPUT_SIZE,
  sendSyntheticClusterIpi,
} from './handlers/send-synthetic-cluster-ipi.js'
import { startVirtualProcessor } from './handlers/start-virtual-processor.js'
import { getVpRegisters, setVpRegisters } from './handlers/vp-registers.js'
import { vtlCall, vtlReturn } from './handlers/vtl-switch.js'
import { sharedInitialContext } from './shared-contexts.js'

/** A fixed-size call (`HypercallData::Simple`). `input` is exactly `inputSize` + 8·var-header bytes. */
export interface SimpleCall {
  kind: 'simple'
  inputSize: number
  outputSize: number
  variableHeader: boolean
  run(engine: VsmEngine, vp: number, code: number, input: Uint8Array): HvStatus
}

/**
 * A rep call (`HypercallData::Rep`). `input` holds the header (and variable header); `elements` the
 * element bytes from rep start on.
 */
export interface RepCall {
  kind: 'rep'
  headerSize: number
  inputElementSize: number
  outputElementSize: number
  variableHeader: boolean
  run(
    engine: VsmEngine,
    vp: number,
    code: number,
    header: Uint8Array,
    elements: Uint8Array,
    count: number
  ): RepResult
}

/** VtlCall / VtlReturn: no generic checks; the input is one u64; false means #UD. */
export interface VtlSwitchCall {
  kind: 'vtl'
  run(engine: VsmEngine, vp: number, control: bigint, input: bigint): boolean
}

export type HypercallSpec = SimpleCall | RepCall | VtlSwitchCall

const C = HypercallCode

/**
 * EnableVpVtl's or StartVirtualProcessor's input with the shared frozen decoding of its context
 * (`raw`, bytes 16..240 of `input`): the handlers only check a context and queue the raw bytes.
 */
function vpContextInput(
  input: Uint8Array,
  field: string,
  raw: Uint8Array
): Required<VpContextInput> {
  const header = decodeVpContextHeader(input, field)
  return {
    partitionId: header.partitionId,
    vpIndex: header.vpIndex,
    targetVtl: header.targetVtl,
    context: sharedInitialContext(raw),
    reserved: header.reserved,
  }
}

const gpns = (elements: Uint8Array, count: number): bigint[] => readGpnList(elements, 0, count)

const flushSpace: SimpleCall = {
  kind: 'simple',
  inputSize: FLUSH_INPUT_SIZE,
  outputSize: 0,
  variableHeader: false,
  run: (engine, vp, code, input) => flushVirtualAddress(engine, vp, code, input),
}

const flushList: RepCall = {
  kind: 'rep',
  headerSize: FLUSH_INPUT_SIZE,
  inputElementSize: 8,
  outputElementSize: 0,
  variableHeader: false,
  run: (engine, vp, code, header, _elements, count) => {
    const status = flushVirtualAddress(engine, vp, code, header)
    return { status, processed: status === 0 ? count : 0 }
  },
}

/**
 * The calls the paravisor's TDX dispatcher handles for VTL0/VTL1 (§1.2, §13.10). Anything else is
 * InvalidHypercallCode.
 */
export const HYPERCALL_TABLE: ReadonlyMap<number, HypercallSpec> = new Map<number, HypercallSpec>([
  [C.FlushVirtualAddressSpace, flushSpace],
  [C.FlushVirtualAddressList, flushList],
  [
    C.FlushVirtualAddressSpaceEx,
    { ...flushSpace, inputSize: FLUSH_EX_INPUT_SIZE, variableHeader: true },
  ],
  [
    C.FlushVirtualAddressListEx,
    { ...flushList, headerSize: FLUSH_EX_INPUT_SIZE, variableHeader: true },
  ],
  [
    C.SendSyntheticClusterIpi,
    {
      kind: 'simple',
      inputSize: SEND_IPI_INPUT_SIZE,
      outputSize: 0,
      variableHeader: false,
      run: (engine, vp, code, input) => sendSyntheticClusterIpi(engine, vp, code, input),
    },
  ],
  [
    C.SendSyntheticClusterIpiEx,
    {
      kind: 'simple',
      inputSize: SEND_IPI_EX_INPUT_SIZE,
      outputSize: 0,
      variableHeader: true,
      run: (engine, vp, code, input) => sendSyntheticClusterIpi(engine, vp, code, input),
    },
  ],
  [
    C.ModifyVtlProtectionMask,
    {
      kind: 'rep',
      headerSize: MODIFY_VTL_PROTECTION_MASK_HEADER_SIZE,
      inputElementSize: 8,
      outputElementSize: 0,
      variableHeader: false,
      run: (engine, vp, _code, header, elements, count) =>
        modifyVtlProtectionMask(
          engine,
          vp,
          decodeModifyVtlProtectionMaskHeader(header),
          gpns(elements, count)
        ),
    },
  ],
  [
    C.EnablePartitionVtl,
    {
      kind: 'simple',
      inputSize: 16,
      outputSize: 0,
      variableHeader: false,
      run: (engine, _vp, _code, input) =>
        enablePartitionVtl(engine, decodeEnablePartitionVtl(input)),
    },
  ],
  [
    C.EnableVpVtl,
    {
      kind: 'simple',
      inputSize: 240,
      outputSize: 0,
      variableHeader: false,
      run: (engine, vp, _code, input) => {
        const raw = input.subarray(16, 240)
        return enableVpVtl(engine, vp, vpContextInput(input, 'EnableVpVtlX64', raw), raw)
      },
    },
  ],
  [C.VtlCall, { kind: 'vtl', run: vtlCall }],
  [C.VtlReturn, { kind: 'vtl', run: vtlReturn }],
  [
    C.InstallIntercept,
    {
      kind: 'simple',
      inputSize: INSTALL_INTERCEPT_SIZE,
      outputSize: 0,
      variableHeader: false,
      run: (engine, vp, _code, input) =>
        installIntercept(engine, vp, decodeInstallIntercept(input)),
    },
  ],
  [
    C.GetVpRegisters,
    {
      kind: 'rep',
      headerSize: GET_SET_VP_REGISTERS_HEADER_SIZE,
      inputElementSize: 4,
      outputElementSize: 16,
      variableHeader: false,
      run: (engine, vp, _code, header, elements, count) =>
        getVpRegisters(
          engine,
          vp,
          decodeGetSetVpRegistersHeader(header),
          readRegisterNames(elements, 0, count)
        ),
    },
  ],
  [
    C.SetVpRegisters,
    {
      kind: 'rep',
      headerSize: GET_SET_VP_REGISTERS_HEADER_SIZE,
      inputElementSize: 32,
      outputElementSize: 0,
      variableHeader: false,
      run: (engine, vp, _code, header, elements, count) =>
        setVpRegisters(
          engine,
          vp,
          decodeGetSetVpRegistersHeader(header),
          readRegisterAssocs(elements, 0, count)
        ),
    },
  ],
  [
    C.StartVirtualProcessor,
    {
      kind: 'simple',
      inputSize: 240,
      outputSize: 0,
      variableHeader: false,
      run: (engine, vp, _code, input) => {
        const raw = input.subarray(16, 240)
        return startVirtualProcessor(
          engine,
          vp,
          vpContextInput(input, 'StartVirtualProcessorX64', raw),
          raw
        )
      },
    },
  ],
  [
    C.ModifySparseGpaPageHostVisibility,
    {
      kind: 'rep',
      headerSize: MODIFY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE,
      inputElementSize: 8,
      outputElementSize: 0,
      variableHeader: false,
      run: (engine, vp, _code, header, elements, count) =>
        modifySparseGpaPageHostVisibility(
          engine,
          vp,
          decodeModifySparseGpaPageHostVisibilityHeader(header),
          gpns(elements, count)
        ),
    },
  ],
  [
    C.QuerySparseGpaPageHostVisibility,
    {
      kind: 'rep',
      headerSize: QUERY_SPARSE_GPA_PAGE_HOST_VISIBILITY_HEADER_SIZE,
      inputElementSize: 8,
      outputElementSize: 1,
      variableHeader: false,
      run: (engine, _vp, _code, header, elements, count) =>
        querySparseGpaPageHostVisibility(
          engine,
          decodeQuerySparseGpaPageHostVisibilityHeader(header),
          gpns(elements, count)
        ),
    },
  ],
])
