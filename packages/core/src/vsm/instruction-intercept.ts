import { HV_X64_MSR_HYPERCALL } from '../hv/hypercall-page.js'
import { HvRegisterName } from '../hv/register-name.js'
import { HvStatus } from '../hv/status.js'
import { HvSyntheticMsr, syntheticMsrRegister } from '../hv/synthetic-msr.js'
import type { GuestVtl } from '../hv/vtl.js'
import { isCanonicalAddress, pagingVaBits } from '../x86/canonical.js'
import { movToCr0, movToCr4, type ControlState } from '../x86/cr-write.js'
import { MISC_ENABLE_VALUE, Msr } from '../x86/msr.js'
import { isValidMsrWrite } from '../x86/msr-write-rules.js'
import { Efer, isTdxEfer } from '../x86/register-bits.js'
import type { VsmEngine } from './engine.js'
import {
  apicBase,
  getVpRegister,
  setVpRegister,
  writeRegisters,
} from './handlers/register-access.js'
import { writeHypercallMsr } from './hypercall-page.js'
import { cr4AllowedBits } from './initial-context-check.js'
import {
  encodeIoPortInterceptMessage,
  encodeMsrInterceptMessage,
  encodeRegisterInterceptMessage,
} from './intercept-messages.js'
import {
  advance,
  gp,
  intercept,
  interceptHeader,
  registerIntercepts,
  type InstructionOutcome,
} from './instruction-outcome.js'
import type { PrivateRegisters } from './registers.js'
import { GuestVsmState } from './shared-state.js'
import type { VsmVp } from './vp.js'

/** `HvRegisterCrInterceptControl` write bits (hvdef), the ones §13.16 acts on. */
export const CrInterceptBit = {
  Cr0Write: 1n << 0n,
  Cr4Write: 1n << 1n,
  MsrLstarWrite: 1n << 6n,
  MsrStarWrite: 1n << 8n,
  MsrCstarWrite: 1n << 10n,
  ApicBaseMsrWrite: 1n << 12n,
  MsrEferWrite: 1n << 14n,
  MsrSysenterCsWrite: 1n << 19n,
  MsrSysenterEipWrite: 1n << 20n,
  MsrSysenterEspWrite: 1n << 21n,
  MsrSfmaskWrite: 1n << 22n,
  MsrTscAuxWrite: 1n << 23n,
  MsrXssWrite: 1n << 25n,
  MsrScetWrite: 1n << 26n,
  MsrPlsSspWrite: 1n << 27n,
  MsrInterruptSspTableAddrWrite: 1n << 28n,
  Xcr0Write: 1n << 2n,
  GdtrWrite: 1n << 15n,
  IdtrWrite: 1n << 16n,
  LdtrWrite: 1n << 17n,
  TrWrite: 1n << 18n,
} as const

/** The control bit that guards a write to each MSR (`cvm_try_protect_msr_write`). */
const MSR_INTERCEPT_BIT = new Map<number, bigint>([
  [Msr.Lstar, CrInterceptBit.MsrLstarWrite],
  [Msr.Star, CrInterceptBit.MsrStarWrite],
  [Msr.Cstar, CrInterceptBit.MsrCstarWrite],
  [Msr.ApicBase, CrInterceptBit.ApicBaseMsrWrite],
  [Msr.Efer, CrInterceptBit.MsrEferWrite],
  [Msr.SysenterCs, CrInterceptBit.MsrSysenterCsWrite],
  [Msr.SysenterEip, CrInterceptBit.MsrSysenterEipWrite],
  [Msr.SysenterEsp, CrInterceptBit.MsrSysenterEspWrite],
  [Msr.Sfmask, CrInterceptBit.MsrSfmaskWrite],
  [Msr.TscAux, CrInterceptBit.MsrTscAuxWrite],
  [Msr.Xss, CrInterceptBit.MsrXssWrite],
  [Msr.SCet, CrInterceptBit.MsrScetWrite],
  [Msr.Pl0Ssp, CrInterceptBit.MsrPlsSspWrite],
  [Msr.Pl1Ssp, CrInterceptBit.MsrPlsSspWrite],
  [Msr.Pl2Ssp, CrInterceptBit.MsrPlsSspWrite],
  [Msr.InterruptSspTableAddr, CrInterceptBit.MsrInterruptSspTableAddrWrite],
])

/** MSRs backed by a register of the VTL's bank. */
type MsrRegister =
  | 'efer'
  | 'star'
  | 'lstar'
  | 'cstar'
  | 'sfmask'
  | 'sysenterCs'
  | 'sysenterEip'
  | 'sysenterEsp'
  | 'tscAux'
  | 'pat'
  | 'kernelGsBase'
const MSR_REGISTER = new Map<number, MsrRegister>([
  [Msr.Efer, 'efer'],
  [Msr.Star, 'star'],
  [Msr.Lstar, 'lstar'],
  [Msr.Cstar, 'cstar'],
  [Msr.Sfmask, 'sfmask'],
  [Msr.SysenterCs, 'sysenterCs'],
  [Msr.SysenterEip, 'sysenterEip'],
  [Msr.SysenterEsp, 'sysenterEsp'],
  [Msr.TscAux, 'tscAux'],
  [Msr.Pat, 'pat'],
  [Msr.KernelGsBase, 'kernelGsBase'],
])

/** Instruction lengths of the forms the paravisor is shown: IN/OUT with DX (66 for 16-bit). */
export const IN_OUT_LENGTH = { 1: 1, 2: 2, 4: 1 } as const
/** MOV CRn, r64 (0F 22 /r). */
export const MOV_CR_LENGTH = 3
/** RDMSR / WRMSR (0F 32 / 0F 30). */
export const RDMSR_WRMSR_LENGTH = 2

const U32 = 0xffff_ffffn

/**
 * IN or OUT (DX form) of `size` bytes on `port` by the VP's current VTL (`cvm_try_protect_io_port_access`):
 * from VTL0, once guest VSM is Enabled, a port VTL1 installed an intercept on for that direction
 * posts an I/O-port intercept message (0x80010000). Otherwise it is performed: OUT goes nowhere
 * (no device claims a port here), IN reads all ones into AL/AX/EAX (EAX zero-extends into RAX).
 * The value is RAX, as the instruction uses it; DX is the port.
 */
export function executeIo(
  engine: VsmEngine,
  vpIndex: number,
  access: { port: number; size: 1 | 2 | 4; write: boolean }
): InstructionOutcome {
  const vp = engine.vp(vpIndex)
  const vtl = vp.exitVtl
  const length = IN_OUT_LENGTH[access.size]
  if (
    vtl === 0 &&
    engine.guestVsmState === GuestVsmState.Enabled &&
    engine.shared.ioIntercept(access.port, access.write)
  ) {
    const regs = vp.vtls[0].registers
    const message = encodeIoPortInterceptMessage(
      interceptHeader(vp, length, access.write ? 1 : 0),
      {
        port: access.port,
        accessSize: access.size,
        stringOp: false,
        repPrefix: false,
        rax: vp.shared.rax,
        ds: regs.ds,
        es: regs.es,
        rcx: vp.shared.rcx,
        rsi: vp.shared.rsi,
        rdi: vp.shared.rdi,
      }
    )
    return intercept(engine, vp, message)
  }
  advance(vp, vtl, length)
  if (access.write) return { kind: 'performed' }
  const ones = (1n << BigInt(access.size * 8)) - 1n
  const rax = vp.shared.rax
  vp.shared.rax = access.size === 4 ? ones : (rax & ~ones) | ones
  return { kind: 'performed', value: ones }
}

function controlState(regs: PrivateRegisters): ControlState {
  return {
    cr0: regs.cr0,
    cr3: regs.cr3,
    cr4: regs.cr4,
    efer: regs.efer,
    // CS.L is bit 13 of the attributes (bit 9 of the high attribute byte).
    csLong: (regs.cs.attributes & 0x2000) !== 0,
  }
}

/**
 * MOV to CR0 or CR4 of `value` by the VP's current VTL (`cvm_try_protect_secure_register_write`):
 * from VTL0 with VTL1 Active, when `CrInterceptControl.cr0_write`/`cr4_write` is set and the value
 * differs from the current one in a bit of `CrInterceptCr0Mask`/`Cr4Mask`, a register intercept
 * message (0x80010006) goes to VTL1. Otherwise the CPU's rules apply (#GP or the write, with
 * EFER.LMA following paging).
 */
export function executeMovToCr(
  engine: VsmEngine,
  vpIndex: number,
  cr: 0 | 4,
  value: bigint
): InstructionOutcome {
  const vp = engine.vp(vpIndex)
  const vtl = vp.exitVtl
  const regs = vp.vtls[vtl].registers
  const control = registerIntercepts(vp, vtl)
  const masks = vp.vtl1?.regIntercept
  if (control !== undefined && masks !== undefined) {
    const [bit, current, mask, name] =
      cr === 0
        ? [CrInterceptBit.Cr0Write, regs.cr0, masks.cr0Mask, HvRegisterName.Cr0]
        : [CrInterceptBit.Cr4Write, regs.cr4, masks.cr4Mask, HvRegisterName.Cr4]
    if ((control & bit) !== 0n && ((current ^ value) & mask) !== 0n) {
      const message = encodeRegisterInterceptMessage(
        interceptHeader(vp, MOV_CR_LENGTH, 1),
        name,
        value
      )
      return intercept(engine, vp, message)
    }
  }
  const state = controlState(regs)
  const result =
    cr === 0 ? movToCr0(state, value) : movToCr4(state, value, cr4AllowedBits(engine.fixedBits))
  if (!result.ok) return gp(engine, vp, vtl)
  const write = cr === 0 ? { cr0: result.value, efer: result.efer } : { cr4: result.value }
  if (writeRegisters(engine, vp, vtl, write) !== HvStatus.Success) return gp(engine, vp, vtl)
  advance(vp, vtl, MOV_CR_LENGTH)
  return { kind: 'performed' }
}

/**
 * RDMSR of ECX = `msr` by the VP's current VTL: the VTL's register for the MSRs it banks, the FS/GS
 * bases, APIC_BASE, IA32_MISC_ENABLE's fixed value, the VP assist page and SynIC MSRs as
 * GetVpRegisters of their register, HV_X64_MSR_VP_INDEX the VP's index; an MSR the paravisor does not know reads 0
 * (OpenHCL answers unknown reads with 0, not #GP). The value lands in EDX:EAX. Reads are never
 * intercepted.
 */
export function executeRdmsr(engine: VsmEngine, vpIndex: number, msr: number): InstructionOutcome {
  const vp = engine.vp(vpIndex)
  const vtl = vp.exitVtl
  const value = readMsr(engine, vp, vtl, msr)
  vp.shared.rax = value & U32
  vp.shared.rdx = (value >> 32n) & U32
  advance(vp, vtl, RDMSR_WRMSR_LENGTH)
  return { kind: 'performed', value }
}

function readMsr(engine: VsmEngine, vp: VsmVp, vtl: GuestVtl, msr: number): bigint {
  if (msr === HV_X64_MSR_HYPERCALL) return vp.vtls[vtl].hypercallMsr
  const synthetic = syntheticMsrRegister(msr)
  if (synthetic !== undefined) return getVpRegister(engine, vp.index, vtl, vtl, synthetic).value
  if (msr === HvSyntheticMsr.VpIndex) return BigInt(vp.index)
  const regs = vp.vtls[vtl].registers
  const banked = MSR_REGISTER.get(msr)
  if (banked !== undefined) return regs[banked]
  if (msr === Msr.FsBase) return regs.fs.base
  if (msr === Msr.GsBase) return regs.gs.base
  if (msr === Msr.ApicBase) return apicBase(vp)
  if (msr === Msr.MiscEnable) return MISC_ENABLE_VALUE
  return 0n
}

/**
 * WRMSR of EDX:EAX = `value` to ECX = `msr` by the VP's current VTL. From VTL0 with VTL1 Active the
 * MSR's `CrInterceptControl` bit posts an MSR intercept message (0x80010001) first
 * (`cvm_try_protect_msr_write`). Otherwise: IA32_MISC_ENABLE writes are dropped; an invalid value
 * (`validate_cvm_msr_write`, a non-canonical FS/GS base, EFER without NXE or with SVME/FFXSR,
 * EFER.LME changed while paging) is #GP; the banked MSRs and FS/GS bases are written (EFER.LMA
 * keeps its value: it is read-only); APIC_BASE takes only its current value;
 * HV_X64_MSR_HYPERCALL maps the VTL's hypercall page (`writeHypercallMsr`, a refusal is #GP); the
 * VP assist page and SynIC MSRs are SetVpRegisters of their register by the VTL itself
 * (`hv.rs`/`synic.rs` `msr_write`: mapping an overlay, SINTs, SCONTROL, EOM), any refusal #GP;
 * VP_INDEX, TIME_REF_COUNT and TSC_FREQUENCY are read-only (#GP); anything else is ignored, as
 * OpenHCL ignores unknown MSR writes.
 *
 * Deviation: the engine has no guest OS id, reference TSC page or synthetic timers, so WRMSR of
 * HV_X64_MSR_GUEST_OS_ID (0x40000000), REFERENCE_TSC (0x40000021) and STIMER0–3 (0x400000B0–B7)
 * is ignored and RDMSR of them, of TIME_REF_COUNT and of TSC_FREQUENCY reads 0, where OpenHCL
 * stores them (and #GPs a reserved REFERENCE_TSC bit).
 */
export function executeWrmsr(
  engine: VsmEngine,
  vpIndex: number,
  msr: number,
  value: bigint
): InstructionOutcome {
  const vp = engine.vp(vpIndex)
  const vtl = vp.exitVtl
  const control = registerIntercepts(vp, vtl)
  const bit = MSR_INTERCEPT_BIT.get(msr)
  if (control !== undefined && bit !== undefined && (control & bit) !== 0n) {
    const rax = vp.shared.rax
    const rdx = vp.shared.rdx
    return intercept(
      engine,
      vp,
      encodeMsrInterceptMessage(interceptHeader(vp, RDMSR_WRMSR_LENGTH, 1), msr, rax, rdx)
    )
  }
  const write = msrWrite(engine, vp, vtl, msr, value)
  if (write === undefined) return gp(engine, vp, vtl)
  if (
    Object.keys(write).length > 0 &&
    writeRegisters(engine, vp, vtl, write) !== HvStatus.Success
  ) {
    return gp(engine, vp, vtl)
  }
  advance(vp, vtl, RDMSR_WRMSR_LENGTH)
  return { kind: 'performed' }
}

/** `hv.rs` `msr_write`: MsrError::InvalidAccess, a #GP. */
const READ_ONLY_SYNTHETIC_MSRS: ReadonlySet<number> = new Set([
  HvSyntheticMsr.VpIndex,
  HvSyntheticMsr.TimeRefCount,
  HvSyntheticMsr.TscFrequency,
])

/** The register write a valid WRMSR makes (empty: nothing to store), or undefined for #GP. */
function msrWrite(
  engine: VsmEngine,
  vp: VsmVp,
  vtl: GuestVtl,
  msr: number,
  value: bigint
): Partial<PrivateRegisters> | undefined {
  if (msr === Msr.MiscEnable) return {}
  if (msr === HV_X64_MSR_HYPERCALL)
    return writeHypercallMsr(engine, vp, vtl, value) ? {} : undefined
  const synthetic = syntheticMsrRegister(msr)
  if (synthetic !== undefined) {
    const status = setVpRegister(engine, vp.index, vtl, vtl, synthetic, value)
    return status === HvStatus.Success ? {} : undefined
  }
  if (READ_ONLY_SYNTHETIC_MSRS.has(msr)) return undefined
  if (!isValidMsrWrite(msr, value, engine.xssSupported)) return undefined
  const regs = vp.vtls[vtl].registers
  if (msr === Msr.FsBase || msr === Msr.GsBase) {
    if (!isCanonicalAddress(value, pagingVaBits(regs.efer, regs.cr4))) return undefined
    return msr === Msr.FsBase
      ? { fs: { ...regs.fs, base: value } }
      : { gs: { ...regs.gs, base: value } }
  }
  if (msr === Msr.Efer) {
    // `write_efer`; beyond it, LME is fixed while paging is on.
    if (!isTdxEfer(value)) return undefined
    const paging = (regs.cr0 & (1n << 31n)) !== 0n
    if (paging && ((value ^ regs.efer) & Efer.LME) !== 0n) return undefined
    return { efer: (value & ~Efer.LMA) | (regs.efer & Efer.LMA) }
  }
  if (msr === Msr.ApicBase) return value === apicBase(vp) ? {} : undefined
  const banked = MSR_REGISTER.get(msr)
  return banked === undefined ? {} : { [banked]: value }
}
