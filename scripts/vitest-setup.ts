// Shared vitest setup. FC_SEED pins fast-check's seed (CI sets it so that a run is reproducible;
// leave it unset locally to explore new cases — a failure prints the seed to pin as a regression).
import fc from 'fast-check'

const seed = process.env.FC_SEED
if (seed !== undefined && seed !== '') fc.configureGlobal({ seed: Number(seed) })
