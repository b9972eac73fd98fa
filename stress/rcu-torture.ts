import type { BuiltinScenario } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { Viol } from '../src/shm/kinds.js';
import { rcuReadLock, rcuReadUnlock, synchronizeRcu, callRcu, rcuProcessCallbacks, rcuPending, rcuGpDone, type RcuCallbackFn } from '../src/sync/rcu.js';
import { running, spinDelay, tidsOf, sumCtr } from './common.js';

/*
 * rcu-torture (kernel/rcu/rcutorture.c): a writer publishes a fresh object
 * and retires the old one. A retired object's pipe count goes up by one per
 * grace period (synchronously for the whole removed list, or by a call_rcu
 * callback that re-queues itself) and is freed at RCU_TORTURE_PIPE_LEN.
 * Readers record the pipe count they see at the end of their read-side
 * section: anything >= 2 means a grace period ended while they still held
 * the object (too-short grace period).
 */
export const RCU_TORTURE_PIPE_LEN = 10;
const CUR = 0; // current object (index + 1), own line
const SCRATCH = 16;
const FREE_TOP = 32; // writer-private free stack depth
const REMOVED_N = 33; // writer-private removed list length
const FREE_STACK = 64;
const NOBJ = 256;
const REMOVED = FREE_STACK + NOBJ;
const OBJ = REMOVED + NOBJ; // objects, one cache line each
const OBJ_WORDS = 16;
const O_PIPE = 0;
const O_MBTEST = 1;
export const RCU_TORTURE_WORDS = OBJ + NOBJ * OBJ_WORDS;

// Reader counters 0..10: the Reader Pipe histogram.
const C_HIST = 0;
const C_READS = 11;
// Writer counters.
const C_ALLOC = 0;
const C_ALLOC_FAIL = 1;
const C_FREE = 2;
const C_GP = 3;
const C_MBTEST_ERR = 12;

const CB_PIPE = 1;

function objAddr(base: number, o1: number): number {
  return base + OBJ + (o1 - 1) * OBJ_WORDS;
}

function freeObj(t: Task, base: number, o1: number): void {
  const i32 = t.i32;
  Atomics.store(i32, objAddr(base, o1) + O_MBTEST, 0);
  const top = i32[base + FREE_TOP];
  i32[base + FREE_STACK + top] = o1;
  i32[base + FREE_TOP] = top + 1;
  t.count(C_FREE);
}

/** rcu_torture_cb(): one more grace period has passed for this object. */
const rcuTortureCb: RcuCallbackFn = (t, kind, o1) => {
  if (kind !== CB_PIPE) return;
  const base = t.arena.scenBase;
  const p = objAddr(base, o1) + O_PIPE;
  const n = Atomics.load(t.i32, p) + 1;
  Atomics.store(t.i32, p, n);
  if (n >= RCU_TORTURE_PIPE_LEN) freeObj(t, base, o1);
  else callRcu(t, CB_PIPE, o1, 0, rcuTortureCb);
};

/** rcu_torture_pipe_update(): a grace period passed for every object on the removed list. */
function pipeUpdate(t: Task, base: number): void {
  const i32 = t.i32;
  let n = i32[base + REMOVED_N];
  for (let k = 0; k < n; ) {
    const o1 = i32[base + REMOVED + k];
    const p = objAddr(base, o1) + O_PIPE;
    const v = Atomics.load(i32, p) + 1;
    Atomics.store(i32, p, v);
    if (v >= RCU_TORTURE_PIPE_LEN) {
      freeObj(t, base, o1);
      i32[base + REMOVED + k] = i32[base + REMOVED + n - 1];
      n--;
    } else {
      k++;
    }
  }
  i32[base + REMOVED_N] = n;
}

function writer(t: Task, base: number): void {
  const i32 = t.i32;
  while (running(t)) {
    rcuProcessCallbacks(t, rcuTortureCb);
    let top = i32[base + FREE_TOP];
    if (top === 0) {
      t.count(C_ALLOC_FAIL);
      synchronizeRcu(t);
      t.count(C_GP);
      pipeUpdate(t, base);
      rcuProcessCallbacks(t, rcuTortureCb);
      continue;
    }
    top--;
    i32[base + FREE_TOP] = top;
    const o1 = i32[base + FREE_STACK + top];
    const o = objAddr(base, o1);
    Atomics.store(i32, o + O_PIPE, 0);
    Atomics.store(i32, o + O_MBTEST, 1);
    t.count(C_ALLOC);
    const old = Atomics.exchange(i32, base + CUR, o1); // rcu_assign_pointer()
    if (old !== 0) {
      const op = objAddr(base, old) + O_PIPE;
      Atomics.store(i32, op, Atomics.load(i32, op) + 1);
      if ((t.rand() & 1) === 0) {
        // Synchronous: the whole removed list ages by one grace period.
        const n = i32[base + REMOVED_N];
        i32[base + REMOVED + n] = old;
        i32[base + REMOVED_N] = n + 1;
        synchronizeRcu(t);
        t.count(C_GP);
        pipeUpdate(t, base);
      } else {
        // Asynchronous: a self-requeueing call_rcu chain.
        callRcu(t, CB_PIPE, old, 0, rcuTortureCb);
        if (rcuPending(t) > 32) {
          synchronizeRcu(t);
          t.count(C_GP);
          pipeUpdate(t, base);
        }
      }
    }
    spinDelay(i32, base + SCRATCH, t.rand() & 255);
  }
}

function fakeWriter(t: Task, base: number): void {
  while (running(t)) {
    synchronizeRcu(t);
    t.count(C_GP);
    spinDelay(t.i32, base + SCRATCH, 500 + (t.rand() & 1023));
  }
}

function reader(t: Task, base: number): void {
  const i32 = t.i32;
  while (running(t)) {
    rcuReadLock(t);
    const o1 = Atomics.load(i32, base + CUR); // rcu_dereference()
    if (o1 === 0) {
      rcuReadUnlock(t);
      continue;
    }
    const o = objAddr(base, o1);
    if (Atomics.load(i32, o + O_MBTEST) === 0) {
      t.count(C_MBTEST_ERR);
      t.violation(Viol.RcuTooShortGp, o1, RCU_TORTURE_PIPE_LEN, o1, rcuGpDone(i32), 1);
    }
    if ((t.rand() & 1) === 0) {
      // A nested read-side section inside the outer one.
      rcuReadLock(t);
      spinDelay(i32, base + SCRATCH, 8);
      rcuReadUnlock(t);
    }
    spinDelay(i32, base + SCRATCH, (t.rand() & 7) === 0 ? 3000 : 30);
    const pipe = Atomics.load(i32, o + O_PIPE);
    rcuReadUnlock(t);
    t.count(C_HIST + (pipe > RCU_TORTURE_PIPE_LEN ? RCU_TORTURE_PIPE_LEN : pipe));
    t.count(C_READS);
    if (pipe >= 2) t.violation(Viol.RcuTooShortGp, o1, pipe, o1, rcuGpDone(i32), 0);
  }
}

export const rcuTorture: BuiltinScenario = {
  name: 'rcu-torture',
  description: 'rcutorture: a writer publishes and retires objects that age one step per grace period; readers must never see an object aged >= 2',
  exposes: ['rcu-nested-unlock-ends-gp', 'rcu-gp-no-wait'],
  words: () => RCU_TORTURE_WORDS,
  setup(arena: Arena) {
    const i32 = arena.i32;
    const base = arena.scenBase;
    for (let k = 0; k < NOBJ; k++) i32[base + FREE_STACK + k] = NOBJ - k;
    i32[base + FREE_TOP] = NOBJ;
  },
  roles(threads: number) {
    return Array.from({ length: threads }, (_, i) => (i === 0 ? 'writer' : threads >= 4 && i === 1 ? 'fakewriter' : 'reader'));
  },
  run(t: Task, role: string) {
    const base = t.arena.scenBase;
    if (role === 'writer') writer(t, base);
    else if (role === 'fakewriter') fakeWriter(t, base);
    else reader(t, base);
  },
  stats(arena: Arena) {
    const roles = this.roles(arena.nthreads);
    const readers = tidsOf(roles, 'reader');
    const writers = tidsOf(roles, 'writer');
    const gps = sumCtr(arena, [...writers, ...tidsOf(roles, 'fakewriter')], C_GP);
    const hist: number[] = [];
    for (let k = 0; k <= RCU_TORTURE_PIPE_LEN; k++) hist.push(sumCtr(arena, readers, C_HIST + k));
    const bad = hist.slice(2).reduce((a, b) => a + b, 0);
    const mbtest = sumCtr(arena, readers, C_MBTEST_ERR);
    const rta = sumCtr(arena, writers, C_ALLOC);
    const rtaf = sumCtr(arena, writers, C_ALLOC_FAIL);
    const rtf = sumCtr(arena, writers, C_FREE);
    const i32 = arena.i32;
    const lines = [
      `rtc: ${i32[arena.scenBase + CUR]} rta: ${rta} rtaf: ${rtaf} rtf: ${rtf} rtmbe: ${mbtest} gp: ${gps} gp_seq: ${rcuGpDone(i32)}`,
      `${bad ? '!!! ' : ''}Reader Pipe: ${hist.join(' ')}`,
    ];
    return { lines, failures: bad + mbtest, warnings: 0, data: { readerPipe: hist, gps, rta, rtaf, rtf, rtmbe: mbtest } };
  },
};
