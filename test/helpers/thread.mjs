// A helper thread for single-primitive tests: attaches to the arena as
// thread `tid` and runs one operation from the compiled build, then reports.
import { parentPort, workerData } from 'node:worker_threads';
import { Arena } from '../../dist/src/shm/arena.js';
import { Task } from '../../dist/src/shm/task.js';
import * as rw from '../../dist/src/sync/rwsem.js';

const { sab, tid, op, sem, timeoutMs, holdMs } = workerData;
const t = new Task(Arena.attach(sab), tid);
let ret;
if (op === 'downWriteKillable') ret = rw.downWriteKillable(t, sem, timeoutMs);
else if (op === 'downReadKillable') ret = rw.downReadKillable(t, sem, timeoutMs);
else throw new Error(`unknown op ${op}`);
if (ret === 0 && holdMs) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, holdMs);
if (ret === 0) {
  if (op === 'downWriteKillable') rw.upWrite(t, sem);
  else rw.upRead(t, sem);
}
parentPort.postMessage({ ret });
