import { Command } from 'commander'

/** Builds the `vtl` command tree (no side effects until parsed). */
export function createProgram(): Command {
  const program = new Command('vtl')
  program
    .description(
      'vtl: Hyper-V VSM (VTL0/VTL1) on Intel TDX — scenarios, simulator, probes, benches'
    )
    .version('0.0.0')
  return program
}
