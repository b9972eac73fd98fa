import { fileURLToPath } from 'node:url';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Piscina } from 'piscina';
import type { MemorySample, RunConfig } from './run-types.js';

/* The process around the runs: the worker pool, memory, exit codes, seeded orders. */

/** A worker pool for runs of `threads` actors (one long-running task per worker). */
export function createPool(threads: number): Piscina {
  return new Piscina({
    filename: workerFile(),
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
  });
}

/*
 * A full garbage collection on the main thread, before every run. The
 * previous runs' arenas and worker threads are garbage, but the main thread
 * allocates so little that V8 would not collect them for a long time: in a
 * process that runs many (soak, validate, bench, a test suite) RSS would
 * creep up by about 1 MiB a run. (v8's documented way to reach gc() without
 * starting node with --expose-gc.)
 */
let gc: (() => void) | null = null;
export function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}

export function memorySample(): MemorySample {
  const m = process.memoryUsage();
  const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;
  return { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), externalMiB: mib(m.external + m.arrayBuffers) };
}

/** The compiled worker entry point (tests running from src/ use the build in dist/). */
export function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return path.resolve(path.dirname(here), '../../dist/workers/worker.js');
  return path.resolve(path.dirname(here), '../../workers/worker.js');
}

/** Exit code of a run a signal ended early with nothing found: 128 + the signal number. */
export function signalExitCode(sig: string): number {
  return sig === 'SIGTERM' ? 143 : sig === 'SIGHUP' ? 129 : 130;
}

/** A seeded permutation of `xs` (Fisher-Yates over a xorshift32 stream). */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let x = (seed | 0) || 0x6d2b79f5;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The configuration as logged and put in the JSON: without progress/quiet, which are not configuration. */
export function loggedConfigOf(cfg: RunConfig): Omit<RunConfig, 'progress' | 'quiet'> {
  const { progress: _p, quiet: _q, ...rest } = cfg;
  return rest;
}
