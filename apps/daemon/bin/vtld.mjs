#!/usr/bin/env node
try {
  await import('../dist/main.js')
} catch (error) {
  // A checkout that has not been built yet: say how to build instead of a module stack trace.
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('/dist/')) {
    process.stderr.write(
      `vtld: not built yet (${error.message.split('\n')[0]})\n` +
        '      run: npx turbo run build --filter=@vtl/daemon...\n'
    )
    process.exit(1)
  }
  throw error
}
