// A helper thread for a model interleaving test: attaches to the arena as
// thread `tid`, holds the PT lock of the table that maps `addr` (so an
// mremap of that range stops in move_ptes() on it), and watches the mm's
// tree under RCU for a VMA at `watch` for at most `holdMs`: whether the
// copy is visible while its page tables are still being moved, and whether
// it is write-locked then (vm_lock_seq == mm_lock_seq).
import { parentPort, workerData } from 'node:worker_threads';
import { Arena } from '../../dist/src/shm/arena.js';
import { Task } from '../../dist/src/shm/task.js';
import { MmCtx } from '../../dist/src/mm/model.js';
import { pteTable, pteLock, pteUnlock } from '../../dist/src/mm/pgtable.js';
import { mtWalk } from '../../dist/src/mm/tree.js';
import { rcuReadLock, rcuReadUnlock } from '../../dist/src/sync/rcu.js';
import { VMA_LOCK_SEQ, MM_LOCK_SEQ } from '../../dist/src/mm/layout.js';

const { sab, tid, mm, addr, watch, flag, holdMs } = workerData;
const arena = Arena.attach(sab);
const c = new MmCtx(new Task(arena, tid), arena.scenBase);
const f = new Int32Array(flag);
const table = pteTable(c, mm, addr);
pteLock(c, table);
Atomics.store(f, 0, 1); // locked: the test thread may start its mremap
Atomics.notify(f, 0);
const deadline = Date.now() + holdMs;
let seen = false;
let writeLocked = false;
while (!seen && Date.now() < deadline) {
  rcuReadLock(c.t);
  const vma = mtWalk(c, mm, watch);
  if (vma !== 0) {
    seen = true;
    writeLocked = Atomics.load(c.i32, vma + VMA_LOCK_SEQ) === Atomics.load(c.i32, mm + MM_LOCK_SEQ);
  }
  rcuReadUnlock(c.t);
  if (!seen) Atomics.wait(f, 1, 0, 1);
}
pteUnlock(c, table);
parentPort.postMessage({ seen, writeLocked });
