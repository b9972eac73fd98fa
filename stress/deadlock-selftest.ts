import type { BuiltinScenario } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { initRwsem, downWrite, downWriteNested, upWrite } from '../src/sync/rwsem.js';
import { LC_TORTURE_RWSEM, SINGLE_DEPTH_NESTING } from '../src/sync/lockclass.js';
import { running, spinDelay, sumCtr } from './common.js';

/*
 * deadlock-selftest: the harness's own check that a model deadlock never
 * hangs it. Even threads take A then B, odd threads B then A (ABBA), with a
 * hold long enough that they deadlock within milliseconds. The watchdog must
 * report the cycle and end the run with exit code 3.
 */
const A = 0;
const B = 16;
const SCRATCH = 32;
const C_OPS = 0;

export const deadlockSelftest: BuiltinScenario = {
  name: 'deadlock-selftest',
  description: 'harness self-test: ABBA on two rwsems; the watchdog must report the wait-for cycle and exit 3',
  exposes: [],
  selftest: true,
  words: () => 48,
  setup(arena: Arena) {
    initRwsem(arena.i32, arena.scenBase + A, LC_TORTURE_RWSEM);
    // Both locks in one class, the second taken with a nesting annotation
    // (down_write_nested): lockdep orders subclasses, not instances, so only
    // the watchdog can see this deadlock.
    initRwsem(arena.i32, arena.scenBase + B, LC_TORTURE_RWSEM);
  },
  roles: (threads) => Array.from({ length: threads }, (_, i) => (i % 2 === 0 ? 'ab' : 'ba')),
  run(t: Task, role: string) {
    const base = t.arena.scenBase;
    const first = role === 'ab' ? base + A : base + B;
    const second = role === 'ab' ? base + B : base + A;
    while (running(t)) {
      downWrite(t, first);
      spinDelay(t.i32, base + SCRATCH, 20000);
      downWriteNested(t, second, SINGLE_DEPTH_NESTING);
      t.count(C_OPS);
      upWrite(t, second);
      upWrite(t, first);
    }
  },
  stats(arena: Arena) {
    const ops = sumCtr(arena, Array.from({ length: arena.nthreads }, (_, i) => i), C_OPS);
    return { lines: [`ABBA rounds: ${ops}`], failures: 0, warnings: 0, data: { rounds: ops } };
  },
};
