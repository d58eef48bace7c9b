import { describe, expect, it } from 'vitest'
import { VtlApic } from './apic.js'

describe('VtlApic', () => {
  it('delivers by priority class, keeps vectors in service until EOI', () => {
    const apic = new VtlApic()
    expect(apic.hasDeliverable()).toBe(false)
    apic.request(0x31)
    apic.request(0x52)
    expect(apic.accept()).toBe(0x52)
    expect(apic.hasDeliverable()).toBe(false)
    expect(apic.accept()).toBe(-1)
    expect(apic.eoi()).toBe(0x52)
    expect(apic.accept()).toBe(0x31)
    expect(apic.eoi()).toBe(0x31)
    expect(apic.eoi()).toBe(-1)
  })

  it('TPR masks lower classes; an NMI is always deliverable', () => {
    const apic = new VtlApic()
    apic.tpr = 0x50
    apic.request(0x55)
    expect(apic.hasDeliverable()).toBe(false)
    apic.request(0x61)
    expect(apic.hasDeliverable()).toBe(true)
    apic.request(0)
    expect(apic.highestRequested()).toBe(0x61)
    const nmi = new VtlApic()
    nmi.nmiPending = true
    expect(nmi.hasDeliverable()).toBe(true)
  })
})
