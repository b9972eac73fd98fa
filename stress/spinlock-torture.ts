import type { Task } from '../src/shm/task.js';
import { Viol } from '../src/shm/kinds.js';
import { spinLock, spinUnlock, spinLockInit } from '../src/sync/spinlock.js';
import { LC_TORTURE_SPIN } from '../src/sync/lockclass.js';
import { lockTorture, type LockTortureOps } from './lock-torture.js';

/*
 * spinlock-torture (locktorture torture_type=spin_lock): every thread is a
 * writer on one spinlock, the same owner-tracking lock the model uses for
 * split PTE locks. Two threads inside at once is a failure.
 */
export const spinLockOps: LockTortureOps = {
  name: 'spinlock-torture',
  description: 'locktorture spin_lock on the page-table spinlock: every thread a writer; fails if two threads are ever inside',
  exposes: ['spinlock-racy-acquire'],
  init: (i32: Int32Array, lock: number) => spinLockInit(i32, lock),
  writeLock(t: Task, lock: number): number {
    spinLock(t, lock, LC_TORTURE_SPIN);
    return 0;
  },
  writeUnlock: (t: Task, lock: number) => spinUnlock(t, lock, LC_TORTURE_SPIN),
  writeDelay: (t: Task) => 20 + (t.rand() & 63),
  writeRest: (t: Task) => t.rand() & 63,
  writerOverlap: Viol.SpinOverlap,
  timed: false,
};

export const spinlockTorture = lockTorture(spinLockOps);
