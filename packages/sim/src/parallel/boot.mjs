// Worker bootstrap: the worker entry is TypeScript, so register tsx's ESM loader in this thread
// first (the parent passes --conditions=@vtl/source so that @vtl/* resolve to sources), then
// import the entry named in workerData.
import { workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
await import(workerData.entry)
