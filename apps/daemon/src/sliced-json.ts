import { isPlainJson } from '@vtl/sim'
import { TimeSlice } from './time-slice.js'

// A restore record carries its whole snapshot document (megabytes for a 1024-VP TD): its JSON
// text is made in slices before the journal write, so the write itself stays short.

async function parts(value: unknown, depth: number, slice: TimeSlice): Promise<string | undefined> {
  if (depth === 0 || !isPlainJson(value)) {
    const text = JSON.stringify(value) as string | undefined
    const pause = slice.due()
    if (pause !== undefined) await pause
    return text
  }
  if (Array.isArray(value)) {
    const items: string[] = []
    for (const item of value) items.push((await parts(item, depth - 1, slice)) ?? 'null')
    return `[${items.join(',')}]`
  }
  const fields: string[] = []
  for (const [key, item] of Object.entries(value)) {
    const text = await parts(item, depth - 1, slice)
    if (text !== undefined) fields.push(`${JSON.stringify(key)}:${text}`)
  }
  return `{${fields.join(',')}}`
}

/**
 * `JSON.stringify(value)` (the same text) made part by part: the top `depth` levels of plain
 * objects and arrays are walked, giving the event loop a turn whenever a time slice is used up.
 */
export async function stringifySliced(
  value: unknown,
  depth = 3,
  slice = new TimeSlice()
): Promise<string> {
  const text = await parts(value, depth, slice)
  if (text === undefined) throw new TypeError('a value without a JSON form')
  return text
}
