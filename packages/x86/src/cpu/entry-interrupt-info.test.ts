import { describe, expect, it } from 'vitest'
import { eventFromEntryInterruptInfo } from './entry-interrupt-info.js'

describe('eventFromEntryInterruptInfo (SDM Vol. 3C §24.8.3)', () => {
  it.each([
    ['not valid', 0x0000_030d, 0, undefined],
    ['#GP(0): hardware exception with an error code', 0x8000_0b0d, 0, { vector: 13, errorCode: 0 }],
    ['#UD: hardware exception', 0x8000_0306, 0, { vector: 6 }],
    ['external interrupt 0x30', 0x8000_0030, 0, { vector: 0x30 }],
    ['#PF with its code', 0x8000_0b0e, 0x2, { vector: 14, errorCode: 2 }],
    ['INT3: software exception', 0x8000_0603, 0, { vector: 3, software: true }],
  ])('%s', (_name, info, errorCode, event) => {
    expect(eventFromEntryInterruptInfo(info, errorCode)).toEqual(event)
  })
})
