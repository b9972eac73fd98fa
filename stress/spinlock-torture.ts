import type { Scenario } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { Viol } from '../src/shm/kinds.js';
import { spinLock, spinUnlock, spinLockInit } from '../src/sync/spinlock.js';
import { LC_TORTURE_SPIN } from '../src/sync/lockclass.js';
import { running, spinDelay, tidsOf, tortureLine } from './common.js';

/*
 * spinlock-torture (locktorture spin_lock): every thread is a writer on one
 * spinlock, the same owner-tracking lock the model uses for split PTE locks.
 * Two threads inside at once is a failure.
 */
const LOCK = 0;
const INSIDE = 16;
const SCRATCH = 32;
const C_ACQ = 0;
const C_FAIL = 1;

export const spinlockTorture: Scenario = {
  name: 'spinlock-torture',
  description: 'locktorture spin_lock on the page-table spinlock: every thread a writer; fails if two threads are ever inside',
  exposes: ['spinlock-racy-acquire'],
  words: () => 48,
  setup(arena: Arena) {
    spinLockInit(arena.i32, arena.scenBase + LOCK);
  },
  roles: (threads) => Array.from({ length: threads }, () => 'writer'),
  run(t: Task) {
    const i32 = t.i32;
    const base = t.arena.scenBase;
    while (running(t)) {
      spinLock(t, base + LOCK, LC_TORTURE_SPIN);
      const n = Atomics.add(i32, base + INSIDE, 1);
      if (n !== 0) {
        t.count(C_FAIL);
        t.violation(Viol.SpinOverlap, base + LOCK, n + 1, 0, 0, 0);
      }
      t.count(C_ACQ);
      spinDelay(i32, base + SCRATCH, 20 + (t.rand() & 63));
      Atomics.sub(i32, base + INSIDE, 1);
      spinUnlock(t, base + LOCK, LC_TORTURE_SPIN);
      spinDelay(i32, base + SCRATCH, t.rand() & 63);
    }
  },
  stats(arena: Arena) {
    const w = tortureLine('Writes:', arena, tidsOf(this.roles(arena.nthreads), 'writer'), C_ACQ, C_FAIL);
    return { lines: [w.line], failures: w.fail, warnings: w.unfair ? 1 : 0, data: { writes: w.total, fail: w.fail } };
  },
};
