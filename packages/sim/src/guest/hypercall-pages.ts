import { VtlError, formatHex } from '@vtl/core'

/**
 * Where a scripted guest puts a memory hypercall's input page and where it asks for the output
 * (RDX and R8 of its VMCALL). A TD (and a scenario's `partition.hypercallPages`) may choose them.
 */
export interface HypercallPages {
  input: bigint
  output: bigint
}

/** The default pair: the first two pages of guest RAM. */
export const HYPERCALL_INPUT_GPA = 0x0n
export const HYPERCALL_OUTPUT_GPA = 0x1000n
export const DEFAULT_HYPERCALL_PAGES: Readonly<HypercallPages> = {
  input: HYPERCALL_INPUT_GPA,
  output: HYPERCALL_OUTPUT_GPA,
}

/**
 * Why `pages` cannot serve a TD with `memory` bytes of RAM from GPA 0 (the field at fault and the
 * reason), or undefined: each must be a 4 KiB-aligned page inside RAM, and they must differ (the
 * output would overwrite the input).
 */
export function hypercallPagesProblem(
  pages: HypercallPages,
  memory: bigint
): { field: 'input' | 'output'; problem: string } | undefined {
  for (const field of ['input', 'output'] as const) {
    const gpa = pages[field]
    if ((gpa & 0xfffn) !== 0n) {
      return { field, problem: `${formatHex(gpa)} is not 4 KiB aligned` }
    }
    if (gpa + 0x1000n > memory) {
      return {
        field,
        problem: `${formatHex(gpa)} is not a page of guest RAM (0x0..${formatHex(memory)})`,
      }
    }
  }
  if (pages.input === pages.output) {
    return { field: 'output', problem: 'must be another page than the input page' }
  }
  return undefined
}

/**
 * The pages a TD with `memory` bytes of RAM uses: the default when none are chosen (usable even
 * on a TD of one page), else the chosen pair, refused with `E_FIELD_RANGE` naming the field.
 */
export function resolveHypercallPages(
  pages: HypercallPages | undefined,
  memory: bigint
): Readonly<HypercallPages> {
  if (pages === undefined) return DEFAULT_HYPERCALL_PAGES
  const bad = hypercallPagesProblem(pages, memory)
  if (bad !== undefined) {
    throw new VtlError('E_FIELD_RANGE', `hypercallPages.${bad.field}: ${bad.problem}`, {
      field: `hypercallPages.${bad.field}`,
    })
  }
  return pages
}
