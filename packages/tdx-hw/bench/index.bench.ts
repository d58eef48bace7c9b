import { spawnSync } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineSuite, type BenchCase } from '@vtl/bench-kit'
import { KvmCap, KvmDevice, KvmRequest, createLibcSyscalls } from '../src/index.js'

// One KVM_CHECK_EXTENSION on /dev/kvm through koffi, against the same loop in C compiled here
// with the system compiler, in the same run. Both report ns per ioctl.
const ITERATIONS = 200_000
const CAP = KvmCap.USER_MEMORY2

const C_SOURCE = `
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : ${ITERATIONS};
  int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (fd < 0) { perror("open /dev/kvm"); return 1; }
  long sink = 0;
  for (long i = 0; i < 1000; i++) sink += ioctl(fd, 0x${KvmRequest.KVM_CHECK_EXTENSION.toString(16)}, ${CAP});
  struct timespec a, b;
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) sink += ioctl(fd, 0x${KvmRequest.KVM_CHECK_EXTENSION.toString(16)}, ${CAP});
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("%.3f %ld\\n", ns / (double)n, sink);
  close(fd);
  return 0;
}
`

function kvmMissing(): string | undefined {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK)
    return undefined
  } catch (error) {
    const code = (error as { code?: unknown }).code
    return `/dev/kvm is not usable (${typeof code === 'string' ? code : 'unknown'})`
  }
}

/** Compiles the C loop into a temp dir; the binary's path, or why there is none. */
function compileBaseline(): { binary: string } | { reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vtl-hw-bench-'))
  process.once('exit', () => {
    rmSync(dir, { recursive: true, force: true })
  })
  const source = join(dir, 'ioctl-loop.c')
  const binary = join(dir, 'ioctl-loop')
  writeFileSync(source, C_SOURCE)
  const cc = spawnSync('cc', ['-O2', '-o', binary, source], { encoding: 'utf8' })
  if (cc.error !== undefined) return { reason: `no C compiler (cc): ${cc.error.message}` }
  if (cc.status !== 0) return { reason: `cc failed: ${cc.stderr.trim()}` }
  return { binary }
}

function cases(): BenchCase[] {
  const missing = kvmMissing()
  if (missing !== undefined) {
    process.stderr.write(`hw bench: ${missing}; hw.ioctl-round-trip is not measured\n`)
    return []
  }
  const baseline = compileBaseline()
  if ('reason' in baseline) {
    process.stderr.write(`hw bench: ${baseline.reason}; hw.ioctl-round-trip is not measured\n`)
    return []
  }
  const kvm = KvmDevice.open(createLibcSyscalls())
  process.once('exit', () => {
    kvm.close()
  })
  return [
    {
      kind: 'value',
      id: 'hw.ioctl-round-trip',
      unit: 'ns',
      better: 'lower',
      baseline: 'hw.ioctl-round-trip-c',
      target: { value: 1.3, unit: 'x baseline' },
      note: `one KVM_CHECK_EXTENSION(${CAP}) on /dev/kvm through KvmDevice → koffi → libc ioctl, mean of ${ITERATIONS} calls`,
      sample() {
        let sink = 0
        const start = process.hrtime.bigint()
        for (let i = 0; i < ITERATIONS; i++) sink += kvm.checkExtension(CAP)
        const elapsed = Number(process.hrtime.bigint() - start)
        if (sink < 0) throw new Error('unreachable')
        return elapsed / ITERATIONS
      },
    },
    {
      kind: 'value',
      id: 'hw.ioctl-round-trip-c',
      unit: 'ns',
      better: 'lower',
      sample() {
        const run = spawnSync(baseline.binary, [String(ITERATIONS)], { encoding: 'utf8' })
        const ns = Number.parseFloat(run.stdout.split(' ')[0] ?? '')
        if (run.status !== 0 || !Number.isFinite(ns)) {
          throw new Error(`C baseline failed: ${run.stderr.trim()}`)
        }
        return ns
      },
    },
  ]
}

export default defineSuite({ name: 'hw', cases: cases(), samples: 20 })
