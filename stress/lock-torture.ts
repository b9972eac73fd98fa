import { availableParallelism } from 'node:os';
import type { BuiltinScenario } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { Viol } from '../src/shm/kinds.js';
import { T_CTR } from '../src/shm/layout.js';
import { running, spinDelay, tidsOf, tortureLine, ctr, fctr } from './common.js';

/*
 * One lock torture over a per-lock ops table, as kernel/locking/locktorture.c
 * has one lock_torture_writer()/lock_torture_reader() over struct
 * lock_torture_ops. The body counts who is inside; the oracle is locktorture's
 * WARN_ON_ONCE(lock_is_write_held / lock_is_read_held): a writer that finds
 * anyone else inside, or a reader that finds a writer. A lock whose
 * writeLock() takes a time limit is also checked for writer starvation
 * (acq_writer_lim, param 0, ms). Adding a lock type is one ops object.
 */

/** struct lock_torture_ops: a lock type under torture. */
export interface LockTortureOps {
  readonly name: string;
  readonly description: string;
  readonly exposes: readonly string[];
  /** Initialise the lock record at `lock` (setup, main thread). */
  init(i32: Int32Array, lock: number): void;
  /** Take the lock for write; `limMs` > 0 bounds the wait (0 acquired, else timed out). */
  writeLock(t: Task, lock: number, limMs: number): number;
  writeUnlock(t: Task, lock: number): void;
  /** Readers, if the lock has a shared side. */
  readLock?(t: Task, lock: number): void;
  readUnlock?(t: Task, lock: number): void;
  /** downgrade_write(), if the lock has one (one write section in 16 ends with it). */
  downgrade?(t: Task, lock: number): void;
  /** Spin iterations inside a write section, and after it. */
  writeDelay(t: Task): number;
  writeRest(t: Task): number;
  /** Spin iterations inside a read section. */
  readDelay?(t: Task): number;
  /** The violation a writer that finds someone inside reports. */
  readonly writerOverlap: Viol;
  /** Writers are timed against acq_writer_lim (locktorture's starvation check). */
  readonly timed: boolean;
}

// Layout: each word others race on on its own line.
const LOCK = 0; // the lock record (one line)
const WRITERS_IN = 16;
const READERS_IN = 32;
const SCRATCH = 48;
const LIMIT = SCRATCH + 1; // acq_writer_lim (ms), set at setup
export const LOCK_TORTURE_WORDS = 64;
export const ACQ_WRITER_LIM_DEFAULT_MS = 1000;
/*
 * Starvation is others making progress while a writer does not. A writer that
 * waited past the limit while the lock served fewer than this many other
 * acquisitions was stalled with everyone else by the host (holders preempted
 * on an overloaded machine), not starved; it counts a host-slowed wait and
 * retries. Readers bypassing a queued writer serve ~15 k a second here.
 */
export const STARVE_MIN_OTHERS = 1000;
/**
 * acq_writer_lim in a controlled run, where time is virtual (1 us a step) and
 * no host preempts a holder: 50 ms (some 10–20 k steps and the readers' delays), which a bounded run
 * reaches; a fair rwsem serves no 1000 others to anyone queued that long.
 */
export const CTL_WRITER_LIM_MS = 50;

/**
 * The default acq_writer_lim for `threads` threads: a fair rwsem bounds a
 * writer's wait by the holders queued ahead of it, and on an oversubscribed
 * machine each of them can be preempted for a timeslice, so the bound grows
 * with threads per CPU. An explicit --param keeps its value.
 */
export function defaultWriterLimMs(threads: number, cpus: number = availableParallelism()): number {
  return ACQ_WRITER_LIM_DEFAULT_MS * Math.max(1, Math.ceil(threads / Math.max(1, cpus)));
}

// Per-thread counters.
const C_ACQ = 0;
const C_FAIL = 1;
const C_DOWNGRADE = 2;
const C_SLOWED = 3; // timed out with the lock barely serving others: host-slowed, not starved
const F_MAX_WAIT = 0;
const F_MAX_SLOWED_SERVED = 1; // most acquisitions others made during a host-slowed wait

/** Acquisitions by every thread but `me` so far (plain loads of per-thread counters: approximate, monotonic). */
function othersAcquired(t: Task): number {
  const i32 = t.i32;
  const arena = t.arena;
  let n = 0;
  for (let tid = 0; tid < arena.nthreads; tid++) if (tid !== t.tid) n += i32[arena.pt(tid) + T_CTR + C_ACQ];
  return n;
}

/** lock_torture_writer(). */
function lockTortureWriter(t: Task, ops: LockTortureOps, base: number): void {
  const i32 = t.i32;
  const lock = base + LOCK;
  const lim = ops.timed ? i32[base + LIMIT] || ACQ_WRITER_LIM_DEFAULT_MS : 0;
  while (running(t)) {
    const t0 = ops.timed ? t.now() : 0;
    const others0 = ops.timed ? othersAcquired(t) : 0;
    // A timed writer starved for longer than the limit gives up and reports
    // while the starvation is still going on.
    const ret = ops.writeLock(t, lock, lim);
    if (ops.timed) {
      const waited = t.now() - t0;
      t.fmax(F_MAX_WAIT, waited);
      if (ret !== 0) {
        const served = othersAcquired(t) - others0;
        if (served >= STARVE_MIN_OTHERS) t.violation(Viol.WriterStarved, lock, Math.round(waited), lim, served, 0);
        else {
          t.count(C_SLOWED);
          t.fmax(F_MAX_SLOWED_SERVED, served);
        }
        continue;
      }
    }
    const w = Atomics.add(i32, base + WRITERS_IN, 1);
    const r = Atomics.load(i32, base + READERS_IN);
    if (w !== 0 || r !== 0) {
      t.count(C_FAIL);
      t.violation(ops.writerOverlap, lock, w + 1, r, 0, 0);
    }
    t.count(C_ACQ);
    spinDelay(i32, base + SCRATCH, ops.writeDelay(t));
    Atomics.sub(i32, base + WRITERS_IN, 1);
    if (ops.downgrade && (t.rand() & 15) === 0) {
      // downgrade_write(): from here on we are a reader.
      Atomics.add(i32, base + READERS_IN, 1);
      ops.downgrade(t, lock);
      t.count(C_DOWNGRADE);
      spinDelay(i32, base + SCRATCH, 50);
      Atomics.sub(i32, base + READERS_IN, 1);
      ops.readUnlock!(t, lock);
    } else {
      ops.writeUnlock(t, lock);
    }
    spinDelay(i32, base + SCRATCH, ops.writeRest(t));
  }
}

/** lock_torture_reader(). */
function lockTortureReader(t: Task, ops: LockTortureOps, base: number): void {
  const i32 = t.i32;
  const lock = base + LOCK;
  while (running(t)) {
    ops.readLock!(t, lock);
    Atomics.add(i32, base + READERS_IN, 1);
    const w = Atomics.load(i32, base + WRITERS_IN);
    if (w !== 0) {
      t.count(C_FAIL);
      t.violation(Viol.TortureReaderWithWriter, lock, w, 0, 0, 0);
    }
    t.count(C_ACQ);
    spinDelay(i32, base + SCRATCH, ops.readDelay!(t));
    Atomics.sub(i32, base + READERS_IN, 1);
    ops.readUnlock!(t, lock);
  }
}

/** The scenario for one lock type: locktorture's nwriters/nreaders split evenly (at least one writer). */
export function lockTorture(ops: LockTortureOps): BuiltinScenario {
  const hasReaders = ops.readLock !== undefined;
  const roles = (threads: number): string[] => Array.from({ length: threads }, (_, i) => (!hasReaders || i % 2 === 0 ? 'writer' : 'reader'));
  return {
    name: ops.name,
    description: ops.description,
    exposes: [...ops.exposes],
    words: () => LOCK_TORTURE_WORDS,
    setup(arena: Arena) {
      const base = arena.scenBase;
      ops.init(arena.i32, base + LOCK);
      arena.i32[base + LIMIT] = arena.param(0) || (arena.ctlBase !== 0 ? CTL_WRITER_LIM_MS : defaultWriterLimMs(arena.nthreads));
    },
    roles,
    run(t: Task, role: string) {
      if (role === 'writer') lockTortureWriter(t, ops, t.arena.scenBase);
      else lockTortureReader(t, ops, t.arena.scenBase);
    },
    stats(arena: Arena) {
      const rs = roles(arena.nthreads);
      const writers = tidsOf(rs, 'writer');
      const readers = tidsOf(rs, 'reader');
      const w = tortureLine('Writes:', arena, writers, C_ACQ, C_FAIL);
      const lines = [w.line];
      if (!hasReaders && !ops.timed) {
        return { lines, failures: w.fail, warnings: w.unfair ? 1 : 0, data: { writes: w.total, fail: w.fail } };
      }
      const r = tortureLine('Reads:', arena, readers, C_ACQ, C_FAIL);
      let maxWait = 0;
      let downgrades = 0;
      let slowed = 0;
      let slowedServed = 0;
      for (const tid of writers) {
        slowed += ctr(arena, tid, C_SLOWED);
        slowedServed = Math.max(slowedServed, fctr(arena, tid, F_MAX_SLOWED_SERVED));
        maxWait = Math.max(maxWait, fctr(arena, tid, F_MAX_WAIT));
        downgrades += ctr(arena, tid, C_DOWNGRADE);
      }
      if (readers.length) lines.push(r.line);
      lines.push(`        max writer wait: ${maxWait.toFixed(2)} ms (acq_writer_lim ${arena.i32[arena.scenBase + LIMIT]} ms), downgrades: ${downgrades}${slowed ? `, host-slowed waits: ${slowed} (others served at most ${slowedServed} during one)` : ''}`);
      return {
        lines,
        failures: w.fail + r.fail,
        warnings: (w.unfair ? 1 : 0) + (r.unfair ? 1 : 0),
        data: { writes: w.total, reads: r.total, writeFail: w.fail, readFail: r.fail, maxWriterWaitMs: maxWait, downgrades, hostSlowedWaits: slowed },
      };
    },
  };
}
