import { createConcurrencyCampaign } from './concurrency.js'
import { createCrashCampaign } from './crash.js'
import { createFaultsCampaign } from './faults.js'
import { createFuzzCampaign } from './fuzz.js'
import { createIsolationCampaign } from './isolation.js'
import type { Campaign } from './runner.js'

/** Every campaign by its `pnpm campaign <name>` name, each built with its default options. */
export const CAMPAIGNS = {
  faults: () => createFaultsCampaign(),
  fuzz: () => createFuzzCampaign(),
  isolation: () => createIsolationCampaign(),
  concurrency: () => createConcurrencyCampaign(),
  crash: () => createCrashCampaign(),
} satisfies Record<string, () => Campaign>

export type CampaignName = keyof typeof CAMPAIGNS
