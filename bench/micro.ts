/**
 * Single-thread micro-benchmarks of the primitives (tinybench), reported as
 * ns per operation and as a ratio to one raw Atomics.add measured in the same
 * run. Each benchmark body runs INNER operations so that tinybench's per-call
 * overhead is amortised; the page-fault rows run 64 faults and one
 * MADV_DONTNEED zap per sample (the zap's cost is included, 1/64 per fault),
 * each configuration in a fresh worker.
 *
 *   npm run bench            # table on stdout, JSON to bench/results/micro.json
 *   node dist/bench/micro.js --json FILE --time 500
 */
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { Arena } from '../src/shm/arena.js';
import { F_NO_CHECK, F_TRACE } from '../src/shm/layout.js';
import { Task } from '../src/shm/task.js';
import { initRwsem, downRead, upRead, downWrite, upWrite } from '../src/sync/rwsem.js';
import { spinLock, spinUnlock, spinLockInit } from '../src/sync/spinlock.js';
import { seqcountInit, readSeqcountBegin, readSeqcountRetry } from '../src/sync/seqcount.js';
import { rcuReadLock, rcuReadUnlock } from '../src/sync/rcu.js';
import { refcountIncNotZero, refcountDecAndTest, refcountSet } from '../src/sync/refcount.js';
import { LC_TORTURE_RWSEM, LC_TORTURE_SPIN } from '../src/sync/lockclass.js';
import { doMadviseDontneed } from '../src/mm/madvise.js';
import { doUserAddrFault } from '../src/mm/fault.js';
import { arg, faultSetup, FAULT_PAGES } from './common.js';

const INNER = 1000;

export interface MicroRow {
  name: string;
  nsPerOp: number;
  ratioToAtomicsAdd: number;
  rme: number;
  samples: number;
}

export async function runMicro(timeMs: number): Promise<MicroRow[]> {
  const arena = Arena.create({ threads: 1, scenarioWords: 256 });
  const t = new Task(arena, 0);
  const i32 = arena.i32;
  const base = arena.scenBase;
  const RAW = base;
  const SPIN = base + 16;
  const SEM = base + 32;
  const SEQ = base + 48;
  const REF = base + 64;
  spinLockInit(i32, SPIN);
  initRwsem(i32, SEM, LC_TORTURE_RWSEM);
  seqcountInit(i32, SEQ);
  refcountSet(i32, REF, 1);
  // The same pairs with --no-check: lockdep's held-lock stack only (the
  // wait-for graph reads it), no lock_stat accounting, no validation.
  const arenaN = Arena.create({ threads: 1, scenarioWords: 256, flags: F_NO_CHECK });
  const tn = new Task(arenaN, 0);
  spinLockInit(arenaN.i32, arenaN.scenBase + 16);
  initRwsem(arenaN.i32, arenaN.scenBase + 32, LC_TORTURE_RWSEM);
  const SPIN_N = arenaN.scenBase + 16;
  const SEM_N = arenaN.scenBase + 32;
  let sink = 0;

  const bench = new Bench({ time: timeMs, warmupTime: 100 });
  /** The spinlock and read-lock pairs on `task`'s arena (`suffix` names its flags). */
  const lockPairs = (task: Task, spin: number, sem: number, suffix: string): void => {
    bench
      .add(`spin_lock + spin_unlock${suffix}`, () => {
        for (let k = 0; k < INNER; k++) {
          spinLock(task, spin, LC_TORTURE_SPIN);
          spinUnlock(task, spin, LC_TORTURE_SPIN);
        }
      })
      .add(`down_read + up_read${suffix}`, () => {
        for (let k = 0; k < INNER; k++) {
          downRead(task, sem);
          upRead(task, sem);
        }
      });
  };
  bench.add('Atomics.add (baseline)', () => {
    for (let k = 0; k < INNER; k++) Atomics.add(i32, RAW, 1);
  });
  lockPairs(t, SPIN, SEM, '');
  bench
    .add('down_write + up_write', () => {
      for (let k = 0; k < INNER; k++) {
        downWrite(t, SEM);
        upWrite(t, SEM);
      }
    });
  lockPairs(tn, SPIN_N, SEM_N, ', --no-check');
  bench
    .add('compareExchange + exchange (a lock pair\'s two atomics)', () => {
      for (let k = 0; k < INNER; k++) {
        Atomics.compareExchange(i32, RAW + 1, 0, 1);
        Atomics.exchange(i32, RAW + 1, 0);
      }
    })
    .add('Atomics.load', () => {
      for (let k = 0; k < INNER; k++) sink += Atomics.load(i32, RAW + 2 + (k & 7));
    })
    .add('plain Int32Array load', () => {
      for (let k = 0; k < INNER; k++) sink += i32[RAW + 2 + (k & 7)];
    })
    .add('read_seqcount_begin + retry', () => {
      for (let k = 0; k < INNER; k++) {
        const s = readSeqcountBegin(t, SEQ);
        if (readSeqcountRetry(t, SEQ, s)) sink++;
      }
    })
    .add('rcu_read_lock + rcu_read_unlock', () => {
      for (let k = 0; k < INNER; k++) {
        rcuReadLock(t);
        rcuReadUnlock(t);
      }
    })
    .add('refcount_inc_not_zero + dec_and_test', () => {
      for (let k = 0; k < INNER; k++) {
        if (refcountIncNotZero(t, REF)) refcountDecAndTest(t, REF, 0);
      }
    });
  await bench.run();
  if (sink < 0) console.log(sink);
  const rows: MicroRow[] = [];
  let baseline = 0;
  for (const task of bench.tasks) {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`${task.name}: ${r.state}`);
    const ns = (r.latency.mean * 1e6) / INNER;
    if (rows.length === 0) baseline = ns;
    rows.push({ name: task.name, nsPerOp: ns, ratioToAtomicsAdd: ns / baseline, rme: r.latency.rme, samples: r.latency.samples?.length ?? 0 });
  }
  // One anonymous write fault on each path (E1), 64 faults + one zap per
  // sample, at three instrumentation levels: oracles on (run's default),
  // --no-check --no-trace, and oracles with the flight recorder (--trace).
  // Each configuration runs in a fresh worker, as each of a run's workers
  // runs one configuration: six configurations through the same functions of
  // one isolate would measure code compiled for all of them at once
  // (2026-12-07: per-VMA --no-check 499 ns in one isolate, ~405 ns alone).
  const levels: [string, number][] = [['', 0], [', --no-check --no-trace', F_NO_CHECK], [', oracles + trace', F_TRACE]];
  for (const [label, flags] of levels) {
    for (const perVma of [true, false]) {
      const r = await faultInWorker(1, perVma, flags, timeMs);
      const ns = (r.mean * 1e6) / FAULT_PAGES;
      rows.push({ name: `page fault, ${perVma ? 'per-VMA lock' : 'mmap_lock'} path (E1)${label}`, nsPerOp: ns, ratioToAtomicsAdd: ns / baseline, rme: r.rme, samples: r.samples });
    }
  }
  return rows;
}

interface FaultJob { era: 1 | 3; perVma: boolean; flags: number; timeMs: number }
/** One configuration's tinybench result: mean ms per sample (64 faults and a zap). */
export interface FaultResult { mean: number; rme: number; samples: number }

/** Run one fault configuration's tinybench task in a fresh worker (its own JIT feedback). */
export function faultInWorker(era: 1 | 3, perVma: boolean, flags: number, timeMs: number): Promise<FaultResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { era, perVma, flags, timeMs } satisfies FaultJob });
    w.once('message', (m: FaultResult) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => { if (code !== 0) reject(new Error(`fault benchmark worker exited with ${code}`)); });
  });
}

/** The worker's side: one configuration, 64 faults and a zap per sample. */
async function faultWorker(job: FaultJob): Promise<void> {
  const m = faultSetup(job.era, job.perVma, job.flags);
  const bench = new Bench({ time: job.timeMs, warmupTime: 500, warmupIterations: 200 }); // long enough for the optimising tier
  bench.add('fault', () => {
    for (let p = 0; p < FAULT_PAGES; p++) doUserAddrFault(m.c, m.mm, p, true);
    doMadviseDontneed(m.c, m.mm, 0, FAULT_PAGES);
  });
  await bench.run();
  const r = bench.tasks[0].result;
  if (r.state !== 'completed') throw new Error(`fault benchmark: ${r.state}`);
  parentPort!.postMessage({ mean: r.latency.mean, rme: r.latency.rme, samples: r.latency.samples?.length ?? 0 } satisfies FaultResult);
}

function machine() {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version, platform: `${os.platform()} ${os.arch()}` };
}

async function main() {
  const timeMs = Number(arg('--time', '500'));
  const out = arg('--json', path.join('bench', 'results', 'micro.json'));
  const rows = await runMicro(timeMs);
  const w = Math.max(...rows.map((r) => r.name.length));
  console.log(`${'operation'.padEnd(w)}  ${'ns/op'.padStart(8)}  ${'x Atomics.add'.padStart(13)}  ${'rme%'.padStart(6)}`);
  for (const r of rows) {
    console.log(`${r.name.padEnd(w)}  ${r.nsPerOp.toFixed(2).padStart(8)}  ${r.ratioToAtomicsAdd.toFixed(2).padStart(13)}  ${r.rme.toFixed(2).padStart(6)}`);
  }
  const doc = { date: new Date().toISOString(), machine: machine(), innerOpsPerSample: INNER, rows };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
  console.log(`\nJSON: ${out}`);
}

if (!isMainThread) await faultWorker(workerData as FaultJob);
else if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) await main();
