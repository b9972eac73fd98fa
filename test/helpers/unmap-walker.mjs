// A helper thread for a model interleaving test: attaches to the arena as
// thread `tid` and plays try_to_unmap_one()'s pinned-folio path on one PTE
// (mm/rmap.c: ptep_clear_flush(), folio_try_share_anon_rmap_pte() fails, the
// PTE is restored), holding the PT lock with the PTE cleared until the test
// thread sets `done` or `holdMs` passes.
import { parentPort, workerData } from 'node:worker_threads';
import { Arena } from '../../dist/src/shm/arena.js';
import { Task } from '../../dist/src/shm/task.js';
import { MmCtx } from '../../dist/src/mm/model.js';
import { pteTable, ptep, pteLock, pteUnlock, ptepGetAndClear, setPte } from '../../dist/src/mm/pgtable.js';

const { sab, tid, mm, addr, flag, holdMs } = workerData;
const arena = Arena.attach(sab);
const c = new MmCtx(new Task(arena, tid), arena.scenBase);
const f = new Int32Array(flag);
const table = pteTable(c, mm, addr);
pteLock(c, table);
const p = ptep(table, addr);
const pte = ptepGetAndClear(c, table, p);
Atomics.store(f, 0, 1); // cleared: the test thread may start
Atomics.notify(f, 0);
Atomics.wait(f, 1, 0, holdMs); // until done, or the hold time
setPte(c, table, p, pte);
pteUnlock(c, table);
parentPort.postMessage({ pte });
