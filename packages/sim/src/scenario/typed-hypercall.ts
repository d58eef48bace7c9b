import {
  HV_PARTITION_ID_SELF,
  HV_VP_INDEX_SELF,
  HostVisibility,
  HypercallCode,
  encodeEnablePartitionVtl,
  encodeEnableVpVtl,
  encodeGetVpRegisters,
  encodeModifySparseGpaPageHostVisibility,
  encodeModifyVtlProtectionMask,
  encodeQuerySparseGpaPageHostVisibility,
  encodeSetVpRegisters,
  encodeStartVirtualProcessor,
  enablePartitionVtlFlags,
  hvInputVtlFor,
  registerNumberFromName,
  type InitialVpContextX64,
} from '@vtl/core'
import { InitialVpContextSchema } from '@vtl/core/schemas'
import { defaultVpContext } from './default-context.js'
import { join, type Plain, type Reader } from './reader.js'
import type { TypedHypercall } from './types.js'

type Encoder = (
  reader: Reader,
  input: Plain,
  field: string
) => Omit<TypedHypercall, 'kind' | 'name' | 'code'>

function simple(
  input: Uint8Array,
  hasOutput = false
): Omit<TypedHypercall, 'kind' | 'name' | 'code'> {
  return { input, repCount: 0, rep: false, hasOutput }
}

function rep(
  input: Uint8Array,
  repCount: number,
  hasOutput: boolean
): Omit<TypedHypercall, 'kind' | 'name' | 'code'> {
  return { input, repCount, rep: true, hasOutput }
}

function partitionId(reader: Reader, input: Plain, field: string): bigint {
  return input.partitionId === undefined
    ? HV_PARTITION_ID_SELF
    : reader.partitionId(input.partitionId, join(field, 'partitionId'))
}

/**
 * The `HvInputVtl` byte: `targetVtl: 0..2` targets that VTL explicitly, omitted or `current` means
 * the caller's VTL; `inputVtl` gives the raw byte (to send reserved bits or values above 2).
 */
function inputVtl(reader: Reader, input: Plain, field: string): number {
  if (input.inputVtl !== undefined) return reader.uint(input.inputVtl, join(field, 'inputVtl'), 8)
  if (input.targetVtl === undefined || input.targetVtl === 'current') return 0
  const vtl = reader.int(input.targetVtl, join(field, 'targetVtl'), 0, 2) as 0 | 1 | 2
  return hvInputVtlFor(vtl)
}

function gpnList(reader: Reader, input: Plain, field: string): bigint[] {
  const key = input.gpaPageList === undefined ? 'gpns' : 'gpaPageList'
  const list = reader.array(reader.required(input, key, field), join(field, key))
  return list.map((gpn, i) => reader.u64(gpn, join(join(field, key), i)))
}

/** A context written in the file, over the default one: fields left out keep the default. */
function vpContext(reader: Reader, input: Plain, field: string): InitialVpContextX64 {
  const key = input.context === undefined ? 'vpContext' : 'context'
  const written = input[key]
  const base = defaultVpContext()
  if (written === undefined) return base
  const at = join(field, key)
  const given = reader.object(written, at, Object.keys(base))
  const full = reader.parse(InitialVpContextSchema, given, at)
  const merged: Record<string, unknown> = { ...base }
  for (const name of Object.keys(given)) merged[name] = full[name as keyof InitialVpContextX64]
  return merged as unknown as InitialVpContextX64
}

function registerName(reader: Reader, value: unknown, field: string): number {
  if (typeof value === 'string' && !/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(value)) {
    const number = registerNumberFromName(value)
    if (number === undefined) reader.fail(field, `unknown register name '${value}'`)
    return number
  }
  return reader.uint(value, field, 32)
}

const ENCODERS: Readonly<Record<string, { keys: readonly string[]; encode: Encoder }>> = {
  EnablePartitionVtl: {
    keys: ['partitionId', 'targetVtl', 'flags'],
    encode: (reader, input, field) => {
      const flagsField = join(field, 'flags')
      let flags = enablePartitionVtlFlags()
      if (typeof input.flags === 'object' && input.flags !== null) {
        const f = reader.object(input.flags, flagsField, [
          'enableMbec',
          'enableSupervisorShadowStack',
          'enableHardwareHvpt',
        ])
        const bool = (key: string): boolean =>
          f[key] === undefined ? false : reader.boolean(f[key], join(flagsField, key))
        flags = enablePartitionVtlFlags({
          enableMbec: bool('enableMbec'),
          enableSupervisorShadowStack: bool('enableSupervisorShadowStack'),
          enableHardwareHvpt: bool('enableHardwareHvpt'),
        })
      } else if (input.flags !== undefined) {
        const raw = reader.uint(input.flags, flagsField, 8)
        flags = { ...enablePartitionVtlFlags({}, raw & 0xf8), raw }
        flags.enableMbec = (raw & 1) !== 0
        flags.enableSupervisorShadowStack = (raw & 2) !== 0
        flags.enableHardwareHvpt = (raw & 4) !== 0
      }
      const targetVtl =
        input.targetVtl === undefined
          ? 1
          : reader.uint(input.targetVtl, join(field, 'targetVtl'), 8)
      return simple(
        encodeEnablePartitionVtl({
          partitionId: partitionId(reader, input, field),
          targetVtl,
          flags,
        })
      )
    },
  },
  EnableVpVtl: {
    keys: ['partitionId', 'vpIndex', 'targetVtl', 'vpContext', 'context'],
    encode: (reader, input, field) =>
      simple(
        encodeEnableVpVtl({
          partitionId: partitionId(reader, input, field),
          vpIndex:
            input.vpIndex === undefined
              ? HV_VP_INDEX_SELF
              : reader.vpIndex(input.vpIndex, join(field, 'vpIndex')),
          targetVtl:
            input.targetVtl === undefined
              ? 1
              : reader.uint(input.targetVtl, join(field, 'targetVtl'), 8),
          context: vpContext(reader, input, field),
        })
      ),
  },
  StartVirtualProcessor: {
    keys: ['partitionId', 'vpIndex', 'targetVtl', 'vpContext', 'context'],
    encode: (reader, input, field) =>
      simple(
        encodeStartVirtualProcessor({
          partitionId: partitionId(reader, input, field),
          vpIndex: reader.vpIndex(reader.required(input, 'vpIndex', field), join(field, 'vpIndex')),
          targetVtl:
            input.targetVtl === undefined
              ? 0
              : reader.uint(input.targetVtl, join(field, 'targetVtl'), 8),
          context: vpContext(reader, input, field),
        })
      ),
  },
  ModifyVtlProtectionMask: {
    keys: ['partitionId', 'mapFlags', 'targetVtl', 'inputVtl', 'gpaPageList', 'gpns'],
    encode: (reader, input, field) => {
      const gpns = gpnList(reader, input, field)
      const bytes = encodeModifyVtlProtectionMask(
        {
          partitionId: partitionId(reader, input, field),
          mapFlags: reader.mapFlags(
            reader.required(input, 'mapFlags', field),
            join(field, 'mapFlags')
          ),
          targetVtl: inputVtl(reader, input, field),
        },
        gpns
      )
      return rep(bytes, gpns.length, false)
    },
  },
  GetVpRegisters: {
    keys: ['partitionId', 'vpIndex', 'targetVtl', 'inputVtl', 'names'],
    encode: (reader, input, field) => {
      const list = reader.array(reader.required(input, 'names', field), join(field, 'names'))
      const names = list.map((n, i) => registerName(reader, n, join(join(field, 'names'), i)))
      const bytes = encodeGetVpRegisters(
        {
          partitionId: partitionId(reader, input, field),
          vpIndex:
            input.vpIndex === undefined
              ? HV_VP_INDEX_SELF
              : reader.vpIndex(input.vpIndex, join(field, 'vpIndex')),
          targetVtl: inputVtl(reader, input, field),
        },
        names
      )
      return rep(bytes, names.length, true)
    },
  },
  SetVpRegisters: {
    keys: ['partitionId', 'vpIndex', 'targetVtl', 'inputVtl', 'registers'],
    encode: (reader, input, field) => {
      const at = join(field, 'registers')
      const list = reader.array(reader.required(input, 'registers', field), at)
      const registers = list.map((entry, i) => {
        const e = reader.object(entry, join(at, i), ['name', 'value'])
        return {
          name: registerName(
            reader,
            reader.required(e, 'name', join(at, i)),
            join(join(at, i), 'name')
          ),
          value: reader.u64(reader.required(e, 'value', join(at, i)), join(join(at, i), 'value')),
        }
      })
      const bytes = encodeSetVpRegisters(
        {
          partitionId: partitionId(reader, input, field),
          vpIndex:
            input.vpIndex === undefined
              ? HV_VP_INDEX_SELF
              : reader.vpIndex(input.vpIndex, join(field, 'vpIndex')),
          targetVtl: inputVtl(reader, input, field),
        },
        registers
      )
      return rep(bytes, registers.length, false)
    },
  },
  ModifySparseGpaPageHostVisibility: {
    keys: ['partitionId', 'hostVisibility', 'gpaPageList', 'gpns'],
    encode: (reader, input, field) => {
      const gpns = gpnList(reader, input, field)
      const raw = reader.required(input, 'hostVisibility', field)
      const at = join(field, 'hostVisibility')
      const names: Readonly<Record<string, number>> = {
        private: HostVisibility.Private,
        readOnly: HostVisibility.ReadOnly,
        shared: HostVisibility.ReadWrite,
        readWrite: HostVisibility.ReadWrite,
      }
      const hostVisibility =
        typeof raw === 'string' && raw in names ? (names[raw] ?? 0) : reader.uint(raw, at, 2)
      const bytes = encodeModifySparseGpaPageHostVisibility(
        { partitionId: partitionId(reader, input, field), hostVisibility },
        gpns
      )
      return rep(bytes, gpns.length, false)
    },
  },
  QuerySparseGpaPageHostVisibility: {
    keys: ['partitionId', 'gpaPageList', 'gpns'],
    encode: (reader, input, field) => {
      const gpns = gpnList(reader, input, field)
      const bytes = encodeQuerySparseGpaPageHostVisibility(
        { partitionId: partitionId(reader, input, field) },
        gpns
      )
      return rep(bytes, gpns.length, true)
    },
  },
}

/** The TLFS names a typed hypercall may use (others: write them raw, with `code` and `input`). */
export const TYPED_HYPERCALLS: readonly string[] = Object.keys(ENCODERS)

/** Encodes `{ name, input }` into the guest's input page. */
export function encodeTypedHypercall(
  reader: Reader,
  name: string,
  input: unknown,
  field: string
): TypedHypercall {
  const bare = name.startsWith('HvCall') ? name.slice('HvCall'.length) : name
  const encoder = ENCODERS[bare]
  if (encoder === undefined) {
    reader.fail(
      join(field, 'name'),
      `unknown or untyped hypercall '${name}' (typed: ${TYPED_HYPERCALLS.join(', ')}; others: use code and input)`
    )
  }
  const inputField = join(field, 'input')
  const record = reader.object(input ?? {}, inputField, encoder.keys)
  const code = HypercallCode[bare as keyof typeof HypercallCode]
  return { kind: 'typed', name: bare, code, ...encoder.encode(reader, record, inputField) }
}
