import type { Scenario } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { Viol } from '../src/shm/kinds.js';
import { initRwsem, downRead, downWriteKillable, upRead, upWrite, downgradeWrite } from '../src/sync/rwsem.js';
import { LC_TORTURE_RWSEM } from '../src/sync/lockclass.js';
import { running, spinDelay, tidsOf, tortureLine, ctr, fctr } from './common.js';

/*
 * rwsem-torture (kernel/locking/locktorture.c, torture_type=rwsem_lock):
 * writers and readers hammer one rwsem. A writer that finds another writer
 * or a reader inside, or a reader that finds a writer inside, counts a
 * failure. Writers also time their acquisitions: one that waits longer than
 * acq_writer_lim (param 0, ms) is writer starvation.
 */
const SEM = 0; // rwsem record (own line)
const WRITERS_IN = 16; // own line
const READERS_IN = 32; // own line
const SCRATCH = 48;
export const RWSEM_WORDS = 64;

// Per-thread counters.
const C_ACQ = 0;
const C_FAIL = 1;
const C_DOWNGRADE = 2;
const F_MAX_WAIT = 0;

export const ACQ_WRITER_LIM_DEFAULT_MS = 1000;

function writer(t: Task, base: number): void {
  const i32 = t.i32;
  const sem = base + SEM;
  const lim = i32[base + SCRATCH + 1] || ACQ_WRITER_LIM_DEFAULT_MS;
  while (running(t)) {
    const t0 = t.now();
    // down_write_killable() bounded by acq_writer_lim: a writer starved for
    // longer gives up and reports while the starvation is still going on.
    const ret = downWriteKillable(t, sem, lim);
    const waited = t.now() - t0;
    t.fmax(F_MAX_WAIT, waited);
    if (ret !== 0) {
      t.violation(Viol.WriterStarved, sem, Math.round(waited), lim, 0, 0);
      continue;
    }
    const w = Atomics.add(i32, base + WRITERS_IN, 1);
    const r = Atomics.load(i32, base + READERS_IN);
    if (w !== 0 || r !== 0) {
      t.count(C_FAIL);
      t.violation(Viol.TortureWriterOverlap, sem, w + 1, r, 0, 0);
    }
    t.count(C_ACQ);
    // Write delay: short, occasionally long (long_hold).
    spinDelay(i32, base + SCRATCH, (t.rand() & 1023) === 0 ? 20000 : 50 + (t.rand() & 127));
    Atomics.sub(i32, base + WRITERS_IN, 1);
    if ((t.rand() & 15) === 0) {
      // downgrade_write(): from here on we are a reader.
      Atomics.add(i32, base + READERS_IN, 1);
      downgradeWrite(t, sem);
      t.count(C_DOWNGRADE);
      spinDelay(i32, base + SCRATCH, 50);
      Atomics.sub(i32, base + READERS_IN, 1);
      upRead(t, sem);
    } else {
      upWrite(t, sem);
    }
    if ((t.rand() & 3) === 0) spinDelay(i32, base + SCRATCH, 200);
  }
}

function reader(t: Task, base: number): void {
  const i32 = t.i32;
  const sem = base + SEM;
  while (running(t)) {
    downRead(t, sem);
    Atomics.add(i32, base + READERS_IN, 1);
    const w = Atomics.load(i32, base + WRITERS_IN);
    if (w !== 0) {
      t.count(C_FAIL);
      t.violation(Viol.TortureReaderWithWriter, sem, w, 0, 0, 0);
    }
    t.count(C_ACQ);
    // Read delay: readers overlap, so a writer must rely on writer preference.
    spinDelay(i32, base + SCRATCH, (t.rand() & 255) === 0 ? 50000 : 4000 + (t.rand() & 8191));
    Atomics.sub(i32, base + READERS_IN, 1);
    upRead(t, sem);
  }
}

export const rwsemTorture: Scenario = {
  name: 'rwsem-torture',
  description: 'locktorture rwsem_lock: writers and readers on one rwsem; fails on writer/writer or writer/reader overlap and on writer starvation',
  exposes: ['rwsem-reader-ignores-writer', 'rwsem-no-writer-preference', 'rwsem-write-ignores-readers'],
  words: () => RWSEM_WORDS,
  setup(arena: Arena) {
    const base = arena.scenBase;
    initRwsem(arena.i32, base + SEM, LC_TORTURE_RWSEM);
    arena.i32[base + SCRATCH + 1] = arena.param(0) || ACQ_WRITER_LIM_DEFAULT_MS;
  },
  roles(threads: number) {
    // locktorture splits reader/writer types evenly; at least one writer.
    return Array.from({ length: threads }, (_, i) => (i % 2 === 0 ? 'writer' : 'reader'));
  },
  run(t: Task, role: string) {
    if (role === 'writer') writer(t, t.arena.scenBase);
    else reader(t, t.arena.scenBase);
  },
  stats(arena: Arena) {
    const roles = this.roles(arena.nthreads);
    const w = tortureLine('Writes:', arena, tidsOf(roles, 'writer'), C_ACQ, C_FAIL);
    const r = tortureLine('Reads:', arena, tidsOf(roles, 'reader'), C_ACQ, C_FAIL);
    let maxWait = 0;
    let downgrades = 0;
    for (const tid of tidsOf(roles, 'writer')) {
      maxWait = Math.max(maxWait, fctr(arena, tid, F_MAX_WAIT));
      downgrades += ctr(arena, tid, C_DOWNGRADE);
    }
    const lines = [w.line];
    if (tidsOf(roles, 'reader').length) lines.push(r.line);
    lines.push(`        max writer wait: ${maxWait.toFixed(2)} ms (acq_writer_lim ${arena.i32[arena.scenBase + SCRATCH + 1]} ms), downgrades: ${downgrades}`);
    return {
      lines,
      failures: w.fail + r.fail,
      warnings: (w.unfair ? 1 : 0) + (r.unfair ? 1 : 0),
      data: { writes: w.total, reads: r.total, writeFail: w.fail, readFail: r.fail, maxWriterWaitMs: maxWait, downgrades },
    };
  },
};

