import { describe, expect, it } from 'vitest'
import { KeptAnswers } from '../src/kept-answers.js'

// The hardware path's Idempotency-Key answers (kept in memory): bounded in time, count and bytes,
// a too-large body reduced to its status, and a deleted TD's answers forgotten.

const answer = (key: string, body = 'x') => ({ key, fingerprint: 'f', status: 200, body })
const keys = (kept: KeptAnswers, all: string[]) => all.filter((key) => kept.get(key) !== undefined)

describe('KeptAnswers', () => {
  it('expires answers older than ttlMs as new ones are kept (no maintenance pass needed)', () => {
    const kept = new KeptAnswers({ ttlMs: 100 })
    kept.keep(answer('a'), 0)
    kept.keep(answer('b'), 50)
    expect(keys(kept, ['a', 'b'])).toEqual(['a', 'b'])
    kept.keep(answer('c'), 120)
    expect(keys(kept, ['a', 'b', 'c'])).toEqual(['b', 'c'])
    kept.keep(answer('d'), 1000)
    expect(keys(kept, ['a', 'b', 'c', 'd'])).toEqual(['d'])
    expect(kept.size).toBe(1)
  })

  it('keeps at most maxEntries answers, the oldest going first; a key kept again is the newest', () => {
    const kept = new KeptAnswers({ maxEntries: 2 })
    kept.keep(answer('a'), 0)
    kept.keep(answer('b'), 1)
    kept.keep(answer('a', 'again'), 2)
    kept.keep(answer('c'), 3)
    expect(keys(kept, ['a', 'b', 'c'])).toEqual(['a', 'c'])
    expect(kept.get('a')?.body).toBe('again')
  })

  it('keeps at most maxBytes of keys, fingerprints and bodies', () => {
    // Each answer: key 1 + fingerprint 1 + body 8 = 10 bytes.
    const kept = new KeptAnswers({ maxBytes: 25 })
    for (const [i, key] of ['a', 'b', 'c'].entries()) kept.keep(answer(key, 'b'.repeat(8)), i)
    expect(keys(kept, ['a', 'b', 'c'])).toEqual(['b', 'c'])
    // A key kept again counts its new body only.
    kept.keep(answer('c', ''), 3)
    kept.keep(answer('d', 'b'.repeat(8)), 4)
    expect(keys(kept, ['a', 'b', 'c', 'd'])).toEqual(['b', 'c', 'd'])
  })

  it('keeps only the status and size of a body over maxAnswerBytes (E_ANSWER_NOT_KEPT on retry)', () => {
    const kept = new KeptAnswers({ maxAnswerBytes: 4 })
    kept.keep(answer('small', 'abcd'), 0)
    kept.keep(answer('large', 'abcdé'), 0)
    expect(kept.get('small')).toEqual(answer('small', 'abcd'))
    expect(kept.get('large')).toEqual({ ...answer('large', ''), dropped: 6 })
  })

  it('forgets the answers of a deleted TD, and only those', () => {
    const kept = new KeptAnswers()
    kept.keep(answer('open'), 0, 'td-a')
    kept.keep(answer('step'), 1, 'td-a')
    kept.keep(answer('other'), 2, 'td-b')
    kept.keep(answer('untied'), 3)
    kept.dropTd('td-a')
    expect(keys(kept, ['open', 'step', 'other', 'untied'])).toEqual(['other', 'untied'])
  })

  it('dropBefore forgets what was kept before a time', () => {
    const kept = new KeptAnswers()
    kept.keep(answer('a'), 10)
    kept.keep(answer('b'), 20)
    kept.dropBefore(20)
    expect(keys(kept, ['a', 'b'])).toEqual(['b'])
  })
})
