import type { Task } from '../src/shm/task.js';
import { Viol } from '../src/shm/kinds.js';
import { initRwsem, downRead, downWriteKillable, upRead, upWrite, downgradeWrite } from '../src/sync/rwsem.js';
import { LC_TORTURE_RWSEM } from '../src/sync/lockclass.js';
import { lockTorture, type LockTortureOps } from './lock-torture.js';

/*
 * rwsem-torture (locktorture torture_type=rwsem_lock): writers and readers
 * hammer one rwsem. Writers hold it briefly, now and then long (long_hold),
 * and one write section in 16 ends in downgrade_write(); readers hold it
 * long and overlap, so a writer relies on writer preference — one that
 * waits longer than acq_writer_lim (param 0, ms) is writer starvation.
 */
export const rwsemOps: LockTortureOps = {
  name: 'rwsem-torture',
  description: 'locktorture rwsem_lock: writers and readers on one rwsem; fails on writer/writer or writer/reader overlap and on writer starvation',
  exposes: ['rwsem-reader-ignores-writer', 'rwsem-no-writer-preference', 'rwsem-write-ignores-readers'],
  init: (i32: Int32Array, lock: number) => initRwsem(i32, lock, LC_TORTURE_RWSEM),
  writeLock: (t: Task, lock: number, limMs: number) => downWriteKillable(t, lock, limMs),
  writeUnlock: (t: Task, lock: number) => upWrite(t, lock),
  readLock: (t: Task, lock: number) => downRead(t, lock),
  readUnlock: (t: Task, lock: number) => upRead(t, lock),
  downgrade: (t: Task, lock: number) => downgradeWrite(t, lock),
  writeDelay: (t: Task) => ((t.rand() & 1023) === 0 ? 20000 : 50 + (t.rand() & 127)),
  writeRest: (t: Task) => ((t.rand() & 3) === 0 ? 200 : 0),
  readDelay: (t: Task) => ((t.rand() & 255) === 0 ? 50000 : 4000 + (t.rand() & 8191)),
  writerOverlap: Viol.TortureWriterOverlap,
  timed: true,
};

export const rwsemTorture = lockTorture(rwsemOps);
