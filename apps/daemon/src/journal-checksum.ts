import { createHash } from 'node:crypto'

// Each journal row carries a checksum of what it says, so a changed byte inside a record (which
// SQLite's integrity_check cannot see: the row is well-formed) is found before it is replayed.

/** The checksum of a journal record row (its seq, TD, op and JSON body). */
export function recordSum(seq: number, td: string, op: string, body: string): string {
  return createHash('sha256').update(`${seq}\n${td}\n${op}\n${body}`).digest('hex').slice(0, 32)
}

/** The checksum of a snapshot row (its TD, the seq it covers, its meta and JSON body). */
export function snapshotSum(td: string, seq: number, meta: string, body: string): string {
  return createHash('sha256')
    .update(`snapshot\n${td}\n${seq}\n${meta}\n${body}`)
    .digest('hex')
    .slice(0, 32)
}
