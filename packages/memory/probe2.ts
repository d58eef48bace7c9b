import { GpaSpace } from './src/index.js'
const GIB = 1n << 30n
const space = new GpaSpace({ ram: [{ start: 0n, end: 64n * GIB }] })
space.mark({ start: 0n, end: 64n * GIB }, { accepted: true, vtl0: 0xf })
const pages = 64 * 262144
let seed = 1
const rnd = () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return (t ^ (t >>> 14)) >>> 0
}
const pool = Array.from({ length: 50000 }, () => BigInt(rnd() % pages))
const seq = new Int32Array(1 << 20)
for (let i = 0; i < seq.length; i++) seq[i] = rnd() % pool.length
const N = 1500000
const t = process.hrtime.bigint()
for (let i = 0; i < N; i++)
  space.protectPages(0, [pool[seq[i & (seq.length - 1)]!]!], rnd() & 1 ? 1 : 0xf)
console.log('ops/s', ((N * 1e9) / Number(process.hrtime.bigint() - t)).toFixed(0))
