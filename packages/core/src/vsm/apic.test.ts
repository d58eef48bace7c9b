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

  it('reads an untouched in-service set as empty and makes it only when a vector is accepted', () => {
    const apic = new VtlApic()
    expect(apic.highestInService()).toBe(-1)
    expect(apic.eoi()).toBe(-1)
    expect([...apic.isr]).toEqual(new Array(8).fill(0))
    apic.request(0x41)
    expect(apic.accept()).toBe(0x41)
    expect(apic.isr[2]).toBe(2)
    expect(apic.eoi()).toBe(0x41)
    expect([...apic.isr]).toEqual(new Array(8).fill(0))
  })

  it('keeps the vector sets of every LAPIC apart (they share buffers)', () => {
    const apics = Array.from({ length: 600 }, () => new VtlApic())
    apics.forEach((a, i) => {
      a.request(i % 256)
    })
    apics.forEach((a, i) => {
      expect(a.highestRequested()).toBe(i % 256)
    })
    apics.forEach((a) => {
      expect(a.irr.filter((w) => w !== 0)).toHaveLength(1)
    })
  })
})
