/**
 * The part of one VTL's local APIC the VSM rules need (§7.4, §13.2, §13.12): requested and
 * in-service vectors, the task priority, a pending NMI. Priority classes follow the SDM: a vector
 * is deliverable when its class is above the processor priority (max of TPR and the highest
 * in-service class). A delivered vector stays in service until an EOI.
 */
export class VtlApic {
  readonly irr = new Uint32Array(8)
  readonly isr = new Uint32Array(8)
  tpr = 0
  nmiPending = false
  /** LAPIC activity (§2.3); the VTL1 LAPIC runs on every VP, VTL0's waits for SIPI on APs. */
  activity: 'running' | 'halted' | 'wait-for-sipi' = 'running'

  request(vector: number): void {
    const word = vector >>> 5
    this.irr[word] = ((this.irr[word] ?? 0) | (1 << (vector & 31))) >>> 0
  }

  /** The highest requested vector, or -1. */
  highestRequested(): number {
    return highest(this.irr)
  }

  /** Whether any vector is requested (`highestRequested() >= 0`; the entry path's quick test). */
  anyRequested(): boolean {
    const irr = this.irr
    const low = (irr[0] ?? 0) | (irr[1] ?? 0) | (irr[2] ?? 0) | (irr[3] ?? 0)
    return (low | (irr[4] ?? 0) | (irr[5] ?? 0) | (irr[6] ?? 0) | (irr[7] ?? 0)) !== 0
  }

  highestInService(): number {
    return highest(this.isr)
  }

  /** Processor priority class (PPR[7:4]). */
  priorityClass(): number {
    const isr = this.highestInService()
    return Math.max(this.tpr >>> 4, isr < 0 ? 0 : isr >>> 4)
  }

  /** A requested vector above the processor priority, or an NMI, is waiting (interrupt flag aside). */
  hasDeliverable(): boolean {
    if (this.nmiPending) return true
    const vector = this.highestRequested()
    return vector >= 0 && vector >>> 4 > this.priorityClass()
  }

  /** Move the highest deliverable vector from IRR to ISR and return it (-1 when none is). */
  accept(): number {
    const vector = this.highestRequested()
    if (vector < 0 || vector >>> 4 <= this.priorityClass()) return -1
    const word = vector >>> 5
    const bit = 1 << (vector & 31)
    this.irr[word] = ((this.irr[word] ?? 0) & ~bit) >>> 0
    this.isr[word] = ((this.isr[word] ?? 0) | bit) >>> 0
    return vector
  }

  /** EOI: retire the highest in-service vector; returns it, or -1 when nothing was in service. */
  eoi(): number {
    const vector = this.highestInService()
    if (vector < 0) return -1
    const word = vector >>> 5
    this.isr[word] = ((this.isr[word] ?? 0) & ~(1 << (vector & 31))) >>> 0
    return vector
  }
}

function highest(bits: Uint32Array): number {
  for (let word = 7; word >= 0; word--) {
    const value = bits[word] ?? 0
    if (value !== 0) return word * 32 + 31 - Math.clz32(value)
  }
  return -1
}
