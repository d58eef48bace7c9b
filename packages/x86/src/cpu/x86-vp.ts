import { VtlError, type GuestVtl } from '@vtl/core'
import type { PagePermissionSource } from './page-permissions.js'
import { VtlContext, type EnterResult } from './vtl-context.js'

export interface X86VpOptions {
  /** The TD's guest RAM, shared by every VP and VTL. */
  ram: Uint8Array
  permissions?: PagePermissionSource
}

/**
 * One VP's CPU: an execution context per VTL (VTL1's made when first used). Entering a VTL other
 * than the one that ran last carries the shared registers over (GPRs but RSP, CR2, DR0–3, SSE);
 * RIP, RSP, RFLAGS, control registers, EFER, segments and descriptor tables stay with each VTL,
 * the way TDX banks them in VMCS #1 and #2 — so a VTL switch is just entering the other VTL.
 */
export class X86Vp {
  private readonly contexts: [VtlContext | undefined, VtlContext | undefined] = [
    undefined,
    undefined,
  ]
  private last: GuestVtl = 0

  constructor(private readonly options: X86VpOptions) {}

  context(vtl: GuestVtl): VtlContext {
    let context = this.contexts[vtl]
    if (context === undefined) {
      context = new VtlContext({ vtl, ram: this.options.ram, ...this.permissionsOption() })
      this.contexts[vtl] = context
    }
    return context
  }

  /** The VTL that ran (or was entered) last: the one whose shared registers are current. */
  get activeVtl(): GuestVtl {
    return this.last
  }

  enter(vtl: GuestVtl, maxInstructions: number): EnterResult {
    this.switchTo(vtl)
    return this.context(vtl).enter(maxInstructions)
  }

  /** Makes `vtl` the active VTL (copying the shared state into it) without running it. */
  switchTo(vtl: GuestVtl): void {
    const asked: number = vtl
    if (asked !== 0 && asked !== 1) {
      throw new VtlError('E_FIELD_RANGE', `VTL ${asked} has no execution context`, {
        field: 'vtl',
      })
    }
    if (vtl === this.last) return
    const from = this.context(this.last)
    const to = this.context(vtl)
    from.copySharedGprsTo(to)
    from.copySharedSseTo(to)
    this.last = vtl
  }

  /** Instructions executed by every VTL of this VP. */
  get retired(): number {
    return (this.contexts[0]?.retired ?? 0) + (this.contexts[1]?.retired ?? 0)
  }

  close(): void {
    for (const c of this.contexts) c?.close()
  }

  private permissionsOption(): { permissions?: PagePermissionSource } {
    return this.options.permissions === undefined ? {} : { permissions: this.options.permissions }
  }
}
