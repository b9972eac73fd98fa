import type { BuiltinScenario } from './types.js';
import type { Task } from '../src/shm/task.js';
import { userAccess } from '../src/mm/access.js';
import { doMadviseDontneed } from '../src/mm/madvise.js';
import { running } from './common.js';
import { mmCtx } from './mm-common.js';
import { pageFault } from './page-fault.js';

/*
 * crash-selftest: the harness's own check that a crashing worker never hangs
 * it. Every thread faults like page-fault; thread 0 crashes after --param
 * milliseconds (default 300): --param 0 0 throws (an actor bug), --param 1
 * exits its worker thread (process.exit in a worker, a dying CPU). The run
 * must end with exit code 3 and the crashed thread's last events.
 */
export const crashSelftest: BuiltinScenario = {
  ...pageFault,
  name: 'crash-selftest',
  description: 'harness self-test: thread 0 throws (--param 0) or exits its worker (--param 1) mid-run; the run must end with exit 3 and its last events',
  exposes: [],
  selftest: true,
  roles: (threads) => Array.from({ length: threads }, (_, i) => (i === 0 ? 'crasher' : 'faulter')),
  run(t: Task, role: string) {
    if (role !== 'crasher') return pageFault.run(t, role);
    const mode = t.arena.param(0);
    const after = t.arena.param(1) || 300;
    const c = mmCtx(t);
    const own = c.ownBase();
    const mm = c.i32[own];
    const pages = c.i32[own + 1];
    const until = t.now() + after;
    let seq = 0;
    while (running(t)) {
      for (let p = 0; p < pages; p++) userAccess(c, mm, p, true, ++seq);
      doMadviseDontneed(c, mm, 0, pages);
      if (t.now() >= until) {
        if (mode === 1) process.exit(7);
        throw new Error(`crash-selftest: deliberate crash after ${after} ms`);
      }
    }
  },
};
