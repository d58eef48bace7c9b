import { readFileSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import { VtlError } from '@vtl/core'
import { LOADER_AREA_BYTES } from './start-state.js'

/**
 * One image of `partition.images`: a flat binary file, or bytes already in memory (a scenario's
 * inline `hex`, parsed and checked by its reader), at a GPA.
 */
export type GuestImage = { gpa: bigint | number | string } & (
  { file: string; bytes?: never } | { bytes: Uint8Array; file?: never }
)

export interface LoadedImage {
  gpa: bigint
  bytes: number
}

function parseGpa(gpa: GuestImage['gpa']): bigint {
  try {
    const value = typeof gpa === 'bigint' ? gpa : BigInt(gpa)
    if (value >= 0n) return value
  } catch {
    // reported below
  }
  throw new VtlError('E_INVALID_VALUE', `image gpa ${String(gpa)} is not an address`, {
    field: 'gpa',
  })
}

function imageBytes(image: GuestImage, baseDir: string, index: number): Uint8Array {
  // Checked at run time too: callers in plain JavaScript (or with the old `hex`) are not typed.
  const { bytes, file } = image as { bytes?: unknown; file?: unknown }
  if ((bytes === undefined) === (file === undefined)) {
    throw new VtlError('E_INVALID_VALUE', `image ${index} needs exactly one of file and bytes`, {
      field: `images[${index}]`,
    })
  }
  if (bytes !== undefined) {
    if (bytes instanceof Uint8Array) return bytes
    throw new VtlError('E_INVALID_VALUE', `image ${index}: bytes is not a Uint8Array`, {
      field: `images[${index}].bytes`,
    })
  }
  if (typeof file !== 'string') {
    throw new VtlError('E_INVALID_VALUE', `image ${index}: file is not a path`, {
      field: `images[${index}].file`,
    })
  }
  try {
    return readFileSync(isAbsolute(file) ? file : resolve(baseDir, file))
  } catch (cause) {
    throw new VtlError('E_INVALID_VALUE', `image ${index}: file ${file} cannot be read`, {
      field: `images[${index}].file`,
      cause,
    })
  }
}

/**
 * Copies the images into guest RAM (`file` paths relative to `baseDir`). Every image is checked
 * before any byte is written: one that leaves RAM is `E_NOT_RAM`, one that reaches into the
 * loader's top 1 MiB or another image `E_OVERLAP` (checked here, where file sizes are known).
 */
export function loadImages(
  ram: Uint8Array,
  images: readonly GuestImage[],
  baseDir = '.'
): LoadedImage[] {
  const limit = BigInt(ram.byteLength - LOADER_AREA_BYTES)
  const planned = images.map((image, index) => ({
    gpa: parseGpa(image.gpa),
    bytes: imageBytes(image, baseDir, index),
  }))
  planned.forEach(({ gpa, bytes }, i) => {
    const end = gpa + BigInt(bytes.byteLength)
    if (end > BigInt(ram.byteLength)) {
      throw new VtlError('E_NOT_RAM', `image ${i} (0x${gpa.toString(16)}) ends beyond RAM`, {
        field: 'images',
      })
    }
    if (end > limit) {
      throw new VtlError('E_OVERLAP', `image ${i} reaches into the loader's top 1 MiB`, {
        field: 'images',
      })
    }
    for (const other of planned.slice(0, i)) {
      if (gpa < other.gpa + BigInt(other.bytes.byteLength) && other.gpa < end) {
        throw new VtlError('E_OVERLAP', `image ${i} overlaps an earlier image`, { field: 'images' })
      }
    }
  })
  for (const { gpa, bytes } of planned) ram.set(bytes, Number(gpa))
  return planned.map(({ gpa, bytes }) => ({ gpa, bytes: bytes.byteLength }))
}
