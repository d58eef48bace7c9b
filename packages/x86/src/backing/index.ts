export {
  X86Backing,
  type PrivateBank,
  type RegisterBanks,
  type X86BackingExit,
  type X86BackingOptions,
} from './x86-backing.js'
