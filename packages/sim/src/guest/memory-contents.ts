const PAGE = 4096
/** The largest GPA `Number` converts exactly. */
const MAX_SAFE_GPA = BigInt(Number.MAX_SAFE_INTEGER)

/**
 * Guest memory contents, kept sparsely: one 4 KiB buffer per page that was ever written, zero
 * everywhere else, so a 1 TiB TD costs nothing until it is touched. Keyed by canonical GPN; the
 * shared alias of a page names the same bytes here (the TDX module zeroes a page on conversion,
 * which `zero` models).
 */
export class MemoryContents {
  private readonly pages = new Map<number, Uint8Array>()
  /** The contiguous RAM every page is a view of (`over`), or undefined when kept sparsely. */
  private ram: Uint8Array | undefined

  /**
   * Contents kept in one contiguous buffer from GPA 0 (what a CPU emulator maps as guest RAM):
   * every page is a view of `ram` (made when first used), so what the paravisor writes here is
   * what the guest reads.
   */
  static over(ram: Uint8Array): MemoryContents {
    const contents = new MemoryContents()
    contents.ram = ram
    return contents
  }

  /** Pages of `ram` (0 when kept sparsely): each has a view, made on first use. */
  private get ramPages(): number {
    return this.ram === undefined ? 0 : Math.ceil(this.ram.byteLength / PAGE)
  }

  /** The bytes of page `gpn`, or undefined when it holds none (reads as zero). */
  private page(gpn: number): Uint8Array | undefined {
    const page = this.pages.get(gpn)
    if (page !== undefined) return page
    const view = this.ramView(gpn)
    if (view !== undefined) this.pages.set(gpn, view)
    return view
  }

  /** Page `gpn` of `ram` as a new view (undefined outside it), not kept. */
  private ramView(gpn: number): Uint8Array | undefined {
    if (this.ram === undefined || !(gpn >= 0 && gpn < this.ramPages)) return undefined
    return this.ram.subarray(gpn * PAGE, (gpn + 1) * PAGE)
  }

  /** The bytes of page `gpn`, created zeroed when it has none yet. */
  private writablePage(gpn: number): Uint8Array {
    let page = this.page(gpn)
    if (page === undefined) {
      page = new Uint8Array(PAGE)
      this.pages.set(gpn, page)
    }
    return page
  }

  /** Little-endian read of `size` bytes (1, 2, 4 or 8) at a canonical GPA; may cross a page. */
  read(gpa: bigint, size: number): bigint {
    let value = 0n
    for (let i = size - 1; i >= 0; i--) value = (value << 8n) | BigInt(this.byte(gpa + BigInt(i)))
    return value
  }

  write(gpa: bigint, size: number, value: bigint): void {
    let rest = value
    for (let i = 0; i < size; i++) {
      const at = gpa + BigInt(i)
      this.writablePage(Number(at >> 12n))[Number(at & 0xfffn)] = Number(rest & 0xffn)
      rest >>= 8n
    }
  }

  /** `length` bytes at a canonical GPA (a copy); may cross pages. */
  readBytes(gpa: bigint, length: number): Uint8Array {
    // A GPA fits a double exactly (52 bits at most): page and offset without BigInt arithmetic.
    const address = gpa <= MAX_SAFE_GPA ? Number(gpa) : -1
    const start = address - Math.floor(address / PAGE) * PAGE
    if (address >= 0 && start + length <= PAGE) {
      // Within one page (a hypercall's input, say): one copy, no intermediate view.
      const page = this.page(Math.floor(address / PAGE))
      if (page === undefined) return new Uint8Array(length)
      if (page.length >= start + length) return page.slice(start, start + length)
    }
    const out = new Uint8Array(length)
    let at = gpa
    let done = 0
    while (done < length) {
      const offset = Number(at & 0xfffn)
      const chunk = Math.min(length - done, PAGE - offset)
      const page = this.page(Number(at >> 12n))
      if (page !== undefined) out.set(page.subarray(offset, offset + chunk), done)
      done += chunk
      at += BigInt(chunk)
    }
    return out
  }

  /** Writes `bytes` at a canonical GPA; may cross pages. */
  writeBytes(gpa: bigint, bytes: Uint8Array): void {
    const address = gpa <= MAX_SAFE_GPA ? Number(gpa) : -1
    const start = address - Math.floor(address / PAGE) * PAGE
    if (address >= 0 && start + bytes.length <= PAGE) {
      this.writablePage(Math.floor(address / PAGE)).set(bytes, start)
      return
    }
    let at = gpa
    let done = 0
    while (done < bytes.length) {
      const offset = Number(at & 0xfffn)
      const chunk = Math.min(bytes.length - done, PAGE - offset)
      this.writablePage(Number(at >> 12n)).set(bytes.subarray(done, done + chunk), offset)
      done += chunk
      at += BigInt(chunk)
    }
  }

  /** Drops the contents of `count` pages from `gpn` on (TDX zeroes pages it accepts). */
  zero(gpn: number, count: number): void {
    if (this.ram !== undefined) {
      this.ram.fill(0, gpn * PAGE, Math.min(this.ram.byteLength, (gpn + count) * PAGE))
      return
    }
    if (count > this.pages.size) {
      for (const key of [...this.pages.keys()]) {
        if (key >= gpn && key < gpn + count) this.pages.delete(key)
      }
      return
    }
    for (let i = 0; i < count; i++) this.pages.delete(gpn + i)
  }

  private byte(gpa: bigint): number {
    return this.page(Number(gpa >> 12n))?.[Number(gpa & 0xfffn)] ?? 0
  }

  /** Pages that hold data, as `gpn → hex`, for snapshots (all-zero pages are left out). */
  toJSON(): Record<string, string> {
    const out: Record<string, string> = {}
    // Every page of `ram` (viewed or not), then the pages kept beside it, in GPN order.
    const ramPages = this.ramPages
    const gpns = [
      ...Array.from({ length: ramPages }, (_, gpn) => gpn),
      ...[...this.pages.keys()].filter((gpn) => !(gpn >= 0 && gpn < ramPages)),
    ].sort((a, b) => a - b)
    for (const gpn of gpns) {
      // A save reads every RAM page: it must not keep a view of each (they are made lazily).
      const page = this.pages.get(gpn) ?? this.ramView(gpn)
      if (page === undefined || page.every((b) => b === 0)) continue
      out[`0x${gpn.toString(16)}`] = Buffer.from(page).toString('hex')
    }
    return out
  }

  static fromJSON(json: Readonly<Record<string, string>>): MemoryContents {
    const contents = new MemoryContents()
    for (const [gpn, hex] of Object.entries(json)) {
      contents.pages.set(Number(gpn), new Uint8Array(Buffer.from(hex, 'hex')))
    }
    return contents
  }
}
