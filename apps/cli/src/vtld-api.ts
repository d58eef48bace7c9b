// Generated from vtld’s /openapi.json by apps/cli/test/vtld-api.test.ts; do not edit.
// Regenerate: VTL_WRITE_DOCS=1 npx vitest run apps/cli/test/vtld-api.test.ts

export type Td = {
  id: string
  name: string | null
  backend: "sim" | "hw"
  vps: number
  memory: string
  gpaWidth: 48 | 52
  mbec: boolean
  state: string
}

export type Problem = {
  type: string
  title: string
  status: number
  code: string
  detail: string
  hvStatus?: string
  issues?: unknown
}

export type CreateTd = {
  name?: string
  vps: number
  memory: number | string
  gpaWidth?: 48 | 52
  mbec?: boolean
  startedVps?: (number)[]
}

export type Restore = {
  name?: string
  snapshot: TdSnapshot
}

export type TdSnapshot = {
  version: 1
  options: {
    vps: number
    memory: string
    gpaWidth: 48 | 52
    mbecCapable: boolean
    seed: number
    [key: string]: unknown
  }
  platform: {
    module: {
      [key: string]: unknown
    }
    hypervisor: {
      [key: string]: unknown
    }
    trace: {
      [key: string]: unknown
    }
    clock?: unknown
    stats: {
      [key: string]: unknown
    }
    [key: string]: unknown
  }
  shared: string
  vps: (unknown)[]
  memory: {
    runs: ({
      [key: string]: unknown
    })[]
    defaults: {
      [key: string]: unknown
    }
    [key: string]: unknown
  }
  contents: {
    [key: string]: unknown
  }
  guest: {
    [key: string]: unknown
  }
  faults: ({
    [key: string]: unknown
  })[]
  [key: string]: unknown
}

export type TdList = {
  tds: (Td)[]
}

export type TdStatus = {
  id: string
  partition: {
    guestVsmState: string
    vsmPartitionStatus: string
  }
  vps: ({
    vp: number
    activeVtl: number
    vtl1Enabled: boolean
    vsmVpStatus: string
    readStatus: string
    blocked: boolean
    pendingInterrupts: {
      vtl0: (number)[]
      vtl1: (number)[]
    }
  })[]
}

export type HypercallResult = {
  status?: string
  code?: number | string
  repsCompleted?: number
  output?: string
  activeVtl?: number
  [key: string]: unknown
}

export type Hypercall = {
  vp: number
  vtl?: number | string
  code: number | string
  input?: string
  repStart?: number
  repCount?: number
  varHeaderSize?: number
  fast?: boolean
}

export type StepsResult = {
  results: ({
    index: number
    vp: number
    vtl: number
    action: string
    result: HypercallResult
  })[]
}

export type Steps = {
  steps: (Step)[]
}

export type Step = {
  vp: number
  vtl?: 0 | 1
  note?: string
  [key: string]: unknown
}

export type EnablePartitionVtl = {
  vp: number
  targetVtl?: number
  mbec?: boolean
}

export type EnableVpVtl = {
  vp: number
  targetVp: number
  targetVtl?: number
  context?: VpContext
}

export type VpContext = {
  [key: string]: unknown
}

export type StartVirtualProcessor = {
  vp: number
  targetVp: number
  targetVtl?: number
  context?: VpContext
}

export type PartitionConfig = {
  vp: number
  vtl: number
  value: string
  status: string
}

export type SetPartitionConfig = {
  vp: number
  value: number | string
}

export type RangeResult = HypercallResult & {
  processed: number
  [key: string]: unknown
}

export type Protect = {
  vp: number
  targetVtl?: number
  start: number | string
  size: number | string
  flags: ("Readable" | "Writable" | "KernelExecutable" | "UserExecutable" | "SupervisorShadowStack" | "PagingWritability" | "VerifyPagingWritability" | "Adjustable" | "R" | "W" | "KX" | "UX" | "SSS" | "PW" | "VPW" | "ADJ")[] | number | string
}

export type HostVisibility = {
  vp: number
  start: number | string
  size: number | string
}

export type AcceptResult = {
  accepted: string
  status: string
}

export type Accept = {
  start: number | string
  size: number | string
}

export type Runs = {
  runs: ({
    start: string
    size: string
    kind: "ram" | "mmio" | "none"
    visibility: "private" | "shared"
    accepted: boolean
    locked: boolean
    vtl0: string
    vtl1: string
    overlay: {
      vtl0: boolean
      vtl1: boolean
    }
  })[]
  next: string | null
}

export type ChromeTrace = {
  traceEvents: ({
    [key: string]: unknown
  })[]
  displayTimeUnit: string
  [key: string]: unknown
}

export type ScenarioReport = {
  version: 1
  scenario: string
  seed: number
  passed: number
  failed: number
  steps: ({
    [key: string]: unknown
  })[]
  [key: string]: unknown
}

/** Every route: `METHOD /path/{param}` → its parameters, body and 2xx answer. */
export interface VtldRoutes {
  "POST /v1/tds": {
    params: Record<string, never>
    query: Record<string, never>
    body: CreateTd
    answer: Td
  }
  "GET /v1/tds": {
    params: Record<string, never>
    query: Record<string, never>
    body: undefined
    answer: TdList
  }
  "POST /v1/tds/restore": {
    params: Record<string, never>
    query: Record<string, never>
    body: Restore
    answer: Td
  }
  "GET /v1/tds/{id}": {
    params: { id: string }
    query: Record<string, never>
    body: undefined
    answer: Td
  }
  "DELETE /v1/tds/{id}": {
    params: { id: string }
    query: { force?: "true" | "false" }
    body: undefined
    answer: unknown
  }
  "GET /v1/tds/{id}/status": {
    params: { id: string }
    query: Record<string, never>
    body: undefined
    answer: TdStatus
  }
  "POST /v1/tds/{id}/hypercall": {
    params: { id: string }
    query: Record<string, never>
    body: Hypercall
    answer: HypercallResult
  }
  "POST /v1/tds/{id}/steps": {
    params: { id: string }
    query: Record<string, never>
    body: Steps
    answer: StepsResult
  }
  "POST /v1/tds/{id}/vsm/enable-partition-vtl": {
    params: { id: string }
    query: Record<string, never>
    body: EnablePartitionVtl
    answer: HypercallResult
  }
  "POST /v1/tds/{id}/vsm/enable-vp-vtl": {
    params: { id: string }
    query: Record<string, never>
    body: EnableVpVtl
    answer: HypercallResult
  }
  "POST /v1/tds/{id}/vsm/start-vp": {
    params: { id: string }
    query: Record<string, never>
    body: StartVirtualProcessor
    answer: HypercallResult
  }
  "GET /v1/tds/{id}/vsm/partition-config": {
    params: { id: string }
    query: { vp: number | string }
    body: undefined
    answer: PartitionConfig
  }
  "PUT /v1/tds/{id}/vsm/partition-config": {
    params: { id: string }
    query: Record<string, never>
    body: SetPartitionConfig
    answer: HypercallResult
  }
  "POST /v1/tds/{id}/memory/protect": {
    params: { id: string }
    query: Record<string, never>
    body: Protect
    answer: RangeResult
  }
  "POST /v1/tds/{id}/memory/share": {
    params: { id: string }
    query: Record<string, never>
    body: HostVisibility
    answer: RangeResult
  }
  "POST /v1/tds/{id}/memory/unshare": {
    params: { id: string }
    query: Record<string, never>
    body: HostVisibility
    answer: RangeResult
  }
  "POST /v1/tds/{id}/memory/accept": {
    params: { id: string }
    query: Record<string, never>
    body: Accept
    answer: AcceptResult
  }
  "GET /v1/tds/{id}/memory/runs": {
    params: { id: string }
    query: { start?: number | string; size?: number | string; cursor?: number | string; limit?: number | string }
    body: undefined
    answer: Runs
  }
  "GET /v1/tds/{id}/trace": {
    params: { id: string }
    query: { limit?: number | string }
    body: undefined
    answer: ChromeTrace
  }
  "GET /v1/tds/{id}/trace/events": {
    params: { id: string }
    query: { from?: "now" }
    body: undefined
    answer: unknown
  }
  "GET /v1/tds/{id}/snapshot": {
    params: { id: string }
    query: Record<string, never>
    body: undefined
    answer: TdSnapshot
  }
  "POST /v1/scenarios/run": {
    params: Record<string, never>
    query: Record<string, never>
    body: {
      [key: string]: unknown
    }
    answer: ScenarioReport
  }
}
