import { runCli } from './run.js'

// `vtl … | head` closes the pipe early: that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw error
})

// `pnpm vtl …` (the repository's root script) runs at the repository root; the paths the user
// typed are relative to the folder they typed them in, which pnpm and npm pass as INIT_CWD.
const initCwd = process.env.INIT_CWD
if (process.env.npm_lifecycle_event === 'vtl' && initCwd !== undefined && initCwd !== '') {
  process.chdir(initCwd)
}

process.exitCode = await runCli(process.argv)
