import { spawnSync } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineSuite, type BenchCase } from '@vtl/bench-kit'
import { KvmCap, KvmDevice, KvmRequest, createLibcSyscalls } from '../src/index.js'

// One KVM_CHECK_EXTENSION on /dev/kvm through koffi, against the same loop in C compiled here
// with the system compiler, in the same run. Both report ns per ioctl. The C loop also runs with
// one idle thread beside it: a process with threads shares its file table, so the kernel takes a
// reference on the file per ioctl that a single-threaded process skips. Node always has threads,
// so that second baseline separates the kernel's share from the JS → native call's.
const ITERATIONS = 200_000
const CAP = KvmCap.USER_MEMORY2

const C_SOURCE = `
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

static void *idle(void *unused) { (void)unused; for (;;) pause(); return NULL; }

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : ${ITERATIONS};
  pthread_t thread;
  if (argc > 2 && pthread_create(&thread, NULL, idle, NULL) != 0) { perror("pthread_create"); return 1; }
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
  const cc = spawnSync('cc', ['-O2', '-pthread', '-o', binary, source], { encoding: 'utf8' })
  if (cc.error !== undefined) return { reason: `no C compiler (cc): ${cc.error.message}` }
  if (cc.status !== 0) return { reason: `cc failed: ${cc.stderr.trim()}` }
  return { binary }
}

function koffiLoop(kvm: KvmDevice): number {
  let sink = 0
  const start = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) sink += kvm.checkExtension(CAP)
  const elapsed = Number(process.hrtime.bigint() - start)
  if (sink < 0) throw new Error('unreachable')
  return elapsed / ITERATIONS
}

function runBaseline(binary: string, threaded: boolean): number {
  const args = threaded ? [String(ITERATIONS), 'threaded'] : [String(ITERATIONS)]
  const run = spawnSync(binary, args, { encoding: 'utf8' })
  const ns = Number.parseFloat(run.stdout.split(' ')[0] ?? '')
  if (run.status !== 0 || !Number.isFinite(ns)) {
    throw new Error(`C baseline failed: ${run.stderr.trim()}`)
  }
  return ns
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
      sample: () => koffiLoop(kvm),
    },
    {
      kind: 'value',
      id: 'hw.ioctl-round-trip-c',
      unit: 'ns',
      better: 'lower',
      sample: () => runBaseline(baseline.binary, false),
    },
    {
      kind: 'value',
      id: 'hw.ioctl-round-trip-c-threaded',
      unit: 'ns',
      better: 'lower',
      note: 'the C loop with one idle thread in the process, as every Node process has',
      sample: () => runBaseline(baseline.binary, true),
    },
    {
      kind: 'value',
      id: 'hw.ioctl-round-trip-vs-threaded-c',
      unit: 'ns',
      better: 'lower',
      baseline: 'hw.ioctl-round-trip-c-threaded',
      note: "hw.ioctl-round-trip's loop again, against the threaded C loop: what the JS → koffi → libc call adds, without the kernel's per-ioctl file reference that any multi-threaded process pays",
      sample: () => koffiLoop(kvm),
    },
  ]
}

export default defineSuite({ name: 'hw', cases: cases(), samples: 20 })
