import { VtlError } from '@vtl/core'
import {
  UC_ARCH_X86,
  UC_CTL_CPU_MODEL,
  UC_CTL_TB_FLUSH,
  UC_HOOK_MEM_INVALID,
  UC_MODE_64,
  UcHook,
  X86_MMR_SIZE,
  X86_MSR_SIZE,
  X86Reg,
  ucCtlWrite,
} from './constants.js'
import { exceptionStateOffset } from './exception-state.js'
import { UnicornError } from './unicorn-error.js'
import { loadUnicorn, type UnicornLibrary } from './unicorn-library.js'

type Handle = unknown
type Registered = ReturnType<UnicornLibrary['koffi']['register']>

/** A descriptor-table or system-segment register (`uc_x86_mmr`). */
export interface X86TableRegister {
  selector: number
  base: bigint
  limit: number
  flags: number
}

/** An access that stopped at a missing or protected mapping, as Unicorn reports it. */
export interface UcMemFault {
  /** `uc_mem_type` (`UcMemType`). */
  type: number
  /** The linear address the instruction used. */
  address: bigint
  size: number
}

/**
 * A canonical linear address as a JS number: the upper half as negative numbers (its signed
 * value), so every canonical address is exact (|value| < 2^47).
 */
export function linearNumber(address: number | bigint): number {
  return typeof address === 'bigint' ? Number(BigInt.asIntN(64, address)) : address
}

/** Past every canonical address: `uc_emu_start` never stops on reaching it. */
const NEVER = 0x8000_0000_0000_0000n

/**
 * One Unicorn x86-64 engine: a thin typed layer over libunicorn 2 through koffi. Every failing
 * call throws a `UnicornError`; hooks are JS callbacks kept alive until `close()`.
 */
export class UnicornEngine {
  private readonly lib: UnicornLibrary
  private handle: Handle
  private readonly callbacks: Registered[] = []
  private readonly scratch = Buffer.alloc(X86_MMR_SIZE)
  private readonly batchIds: Int32Array
  private readonly batchStore: ArrayBuffer
  private readonly batchValues: BigUint64Array
  private readonly batchPointers: BigUint64Array
  private readonly batchStorePointer: unknown
  private closed = false
  private context: unknown
  private contextView: Buffer | undefined

  /** `cpuModel`: a `UC_CPU_X86_*` model (default: Unicorn's qemu64). */
  constructor(options: { cpuModel?: number } = {}) {
    this.lib = loadUnicorn()
    const out: Handle[] = [null]
    this.check('uc_open', this.lib.uc_open(UC_ARCH_X86, UC_MODE_64, out))
    this.handle = out[0]
    if (options.cpuModel !== undefined) {
      this.check(
        'uc_ctl(CPU_MODEL)',
        this.lib.uc_ctl(this.handle, ucCtlWrite(UC_CTL_CPU_MODEL, 1), 'int', options.cpuModel)
      )
    }
    const max = 64
    this.batchIds = new Int32Array(max)
    this.batchStorePointer = this.lib.koffi.alloc('uint64_t', max)
    this.batchStore = this.lib.koffi.view(this.batchStorePointer, max * 8)
    this.batchValues = new BigUint64Array(this.batchStore)
    this.batchPointers = new BigUint64Array(max)
    const base = this.lib.koffi.address(this.batchStorePointer)
    for (let i = 0; i < max; i++) this.batchPointers[i] = base + BigInt(i * 8)
  }

  /** Maps `bytes` (host memory that stays owned by the caller) at `address` with `prot`. */
  mapPtr(address: bigint, bytes: Uint8Array, prot: number): void {
    this.check(
      'uc_mem_map_ptr',
      this.lib.uc_mem_map_ptr(this.live(), address, bytes.byteLength, prot, bytes)
    )
  }

  protect(address: bigint, size: number, prot: number): void {
    this.check('uc_mem_protect', this.lib.uc_mem_protect(this.live(), address, size, prot))
  }

  readReg(reg: number): bigint {
    this.scratch.fill(0, 0, 8)
    this.check('uc_reg_read', this.lib.uc_reg_read(this.live(), reg, this.scratch))
    return this.scratch.readBigUInt64LE(0)
  }

  writeReg(reg: number, value: bigint): void {
    this.scratch.writeBigUInt64LE(BigInt.asUintN(64, value), 0)
    this.check('uc_reg_write', this.lib.uc_reg_write(this.live(), reg, this.scratch))
  }

  /** Reads up to 64 64-bit registers in one call (`uc_reg_read_batch`). */
  readRegs(regs: readonly number[]): bigint[] {
    this.prepareBatch(regs)
    this.batchValues.fill(0n, 0, regs.length)
    this.check(
      'uc_reg_read_batch',
      this.lib.uc_reg_read_batch(this.live(), this.batchIds, this.batchPointers, regs.length)
    )
    return Array.from(this.batchValues.subarray(0, regs.length))
  }

  /** Writes up to 64 64-bit registers in one call (`uc_reg_write_batch`). */
  writeRegs(regs: readonly number[], values: readonly bigint[]): void {
    if (values.length !== regs.length) {
      throw new VtlError('E_INVALID_VALUE', 'writeRegs: one value per register')
    }
    this.prepareBatch(regs)
    values.forEach((v, i) => (this.batchValues[i] = BigInt.asUintN(64, v)))
    this.check(
      'uc_reg_write_batch',
      this.lib.uc_reg_write_batch(this.live(), this.batchIds, this.batchPointers, regs.length)
    )
  }

  /** A register wider than 64 bits (XMM: 16 bytes), as little-endian bytes. */
  readWide(reg: number, bytes: number): Uint8Array {
    this.scratch.fill(0)
    this.check('uc_reg_read', this.lib.uc_reg_read(this.live(), reg, this.scratch))
    return Uint8Array.from(this.scratch.subarray(0, bytes))
  }

  writeWide(reg: number, value: Uint8Array): void {
    this.scratch.fill(0)
    this.scratch.set(value.subarray(0, X86_MMR_SIZE))
    this.check('uc_reg_write', this.lib.uc_reg_write(this.live(), reg, this.scratch))
  }

  /** A segment selector register: writing one loads the descriptor from the current GDT. */
  writeSelector(reg: number, selector: number): void {
    this.scratch.writeUInt16LE(selector, 0)
    this.check('uc_reg_write', this.lib.uc_reg_write(this.live(), reg, this.scratch))
  }

  readTable(reg: number): X86TableRegister {
    this.scratch.fill(0)
    this.check('uc_reg_read', this.lib.uc_reg_read(this.live(), reg, this.scratch))
    return {
      selector: this.scratch.readUInt16LE(0),
      base: this.scratch.readBigUInt64LE(8),
      limit: this.scratch.readUInt32LE(16),
      flags: this.scratch.readUInt32LE(20),
    }
  }

  writeTable(reg: number, value: X86TableRegister): void {
    this.scratch.fill(0)
    this.scratch.writeUInt16LE(value.selector, 0)
    this.scratch.writeBigUInt64LE(value.base, 8)
    this.scratch.writeUInt32LE(value.limit, 16)
    this.scratch.writeUInt32LE(value.flags, 20)
    this.check('uc_reg_write', this.lib.uc_reg_write(this.live(), reg, this.scratch))
  }

  readMsr(index: number): bigint {
    const msr = Buffer.alloc(X86_MSR_SIZE)
    msr.writeUInt32LE(index, 0)
    this.check('uc_reg_read(MSR)', this.lib.uc_reg_read(this.live(), X86Reg.MSR, msr))
    return msr.readBigUInt64LE(8)
  }

  writeMsr(index: number, value: bigint): void {
    const msr = Buffer.alloc(X86_MSR_SIZE)
    msr.writeUInt32LE(index, 0)
    msr.writeBigUInt64LE(BigInt.asUintN(64, value), 8)
    this.check('uc_reg_write(MSR)', this.lib.uc_reg_write(this.live(), X86Reg.MSR, msr))
  }

  /**
   * Runs from `begin` until a hook calls `stop()`, an unhandled event stops the engine, or
   * `count` instructions (0: no limit). Returns the raw `uc_err` (0 = stopped cleanly): the
   * memory and instruction faults that end a run are answers here, not exceptions.
   */
  start(begin: bigint, count = 0): number {
    return this.lib.uc_emu_start(this.live(), begin, NEVER, 0n, count) as number
  }

  stop(): void {
    this.check('uc_emu_stop', this.lib.uc_emu_stop(this.live()))
  }

  /**
   * Clears QEMU's record of an exception in flight after the backing delivered (or dropped) one,
   * so the next exception is not escalated to #DF / a triple fault (see exception-state.ts).
   * Returns false when this libunicorn's layout could not be measured.
   */
  resetExceptionState(): boolean {
    const at = exceptionStateOffset(this.lib)
    if (at === null) return false
    if (this.context === undefined) {
      const out: unknown[] = [null]
      this.check('uc_context_alloc', this.lib.uc_context_alloc(this.live(), out))
      this.context = out[0]
      this.contextView = Buffer.from(
        this.lib.koffi.view(this.context, Number(this.lib.uc_context_size(this.live())))
      )
    }
    this.check('uc_context_save', this.lib.uc_context_save(this.live(), this.context))
    this.contextView?.writeInt32LE(-1, at)
    this.check('uc_context_restore', this.lib.uc_context_restore(this.live(), this.context))
    return true
  }

  /** Drops the translated-code cache (after the host changed guest code behind the engine). */
  flushTranslations(): void {
    this.check('uc_ctl(TB_FLUSH)', this.lib.uc_ctl(this.live(), ucCtlWrite(UC_CTL_TB_FLUSH, 0)))
  }

  /** Before every instruction: its linear address and length. */
  addCodeHook(callback: (address: number, size: number) => void): void {
    this.addHook(
      UcHook.CODE,
      this.lib.codeHook,
      (_uc: unknown, address: number | bigint, size: number) => {
        callback(linearNumber(address), size)
      }
    )
  }

  /** An exception or software interrupt (`intno` = vector) that the CPU did not deliver. */
  addInterruptHook(callback: (vector: number) => void): void {
    this.addHook(UcHook.INTR, this.lib.intrHook, (_uc: unknown, intno: number) => {
      callback(intno)
    })
  }

  /** A fetch, read or write that hit an unmapped or protected page; returning false stops. */
  addMemFaultHook(callback: (fault: UcMemFault) => boolean): void {
    this.addHook(
      UC_HOOK_MEM_INVALID,
      this.lib.memFaultHook,
      (_uc: unknown, type: number, address: number | bigint, size: number) =>
        callback({ type, address: BigInt.asUintN(64, BigInt(address)), size })
    )
  }

  /** An instruction the CPU model cannot decode (#UD); returning false stops. */
  addInvalidInstructionHook(callback: () => boolean): void {
    this.addHook(UcHook.INSN_INVALID, this.lib.insnInvalidHook, () => callback())
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.lib.uc_close(this.handle)
    this.handle = null
    for (const cb of this.callbacks) this.lib.koffi.unregister(cb)
    this.callbacks.length = 0
    this.lib.koffi.free(this.batchStorePointer)
    if (this.context !== undefined) this.lib.uc_context_free(this.context)
  }

  private addHook(
    type: number,
    proto: UnicornLibrary['codeHook'],
    fn: (...args: never[]) => unknown
  ): void {
    const registered = this.lib.koffi.register(fn, this.lib.koffi.pointer(proto))
    this.callbacks.push(registered)
    const hh = [0]
    this.check('uc_hook_add', this.lib.uc_hook_add(this.live(), hh, type, registered, null, 1n, 0n))
  }

  private prepareBatch(regs: readonly number[]): void {
    if (regs.length > this.batchIds.length) {
      throw new VtlError('E_FIELD_RANGE', `at most ${this.batchIds.length} registers per batch`)
    }
    regs.forEach((r, i) => (this.batchIds[i] = r))
  }

  private live(): Handle {
    if (this.closed) throw new VtlError('E_INVALID_VALUE', 'the Unicorn engine is closed')
    return this.handle
  }

  private check(call: string, err: unknown): void {
    if (err === 0) return
    const code = Number(err)
    throw new UnicornError(call, code, String(this.lib.uc_strerror(code)))
  }
}
