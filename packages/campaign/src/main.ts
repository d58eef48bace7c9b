// The `vtl-campaign` process (bin/vtl-campaign.mjs runs it through tsx on sources).
import { runCli } from './cli.js'

process.exitCode = await runCli(process.argv.slice(2))
