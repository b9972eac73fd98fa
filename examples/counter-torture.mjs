// A complete library example: a torture of your own, in plain JavaScript.
// Every thread adds to a shared counter inside a kernel-style spinlock; the
// final check compares the counter with what the threads say they added.
// With --param 1 (params: [1]) the "racer" actors skip the lock, and the
// oracles catch it.
import {
  defineScenario, running, spinLock, spinUnlock, spinLockInit, LC_TORTURE_SPIN, ORACLE_FAILED, sumCtr,
} from 'mmtorture';

const LOCK = 0; // words of shared state, at arena.scenBase
const COUNTER = 16;
const INSIDE = 17;
const C_ADDED = 0; // per-thread counter: how much this thread added

function add(t, locked) {
  const i32 = t.i32;
  const base = t.arena.scenBase;
  while (running(t)) {
    if (locked) spinLock(t, base + LOCK, LC_TORTURE_SPIN);
    if (Atomics.add(i32, base + INSIDE, 1) !== 0) t.violation(ORACLE_FAILED, base + LOCK, 2, 0, 0, 0);
    const v = Atomics.load(i32, base + COUNTER); // a read-modify-write the lock must protect
    Atomics.store(i32, base + COUNTER, v + 1);
    Atomics.sub(i32, base + INSIDE, 1);
    if (locked) spinUnlock(t, base + LOCK, LC_TORTURE_SPIN);
    t.count(C_ADDED);
  }
}

export default defineScenario({
  name: 'counter-torture',
  description: 'threads add to a counter under a spinlock; the total must match',
  words: () => 32,
  setup: (arena) => spinLockInit(arena.i32, arena.scenBase + LOCK),
  roles: (threads) => Array.from({ length: threads }, (_, i) => (i === 0 ? 'adder' : 'racer')),
  actors: {
    adder: (t) => add(t, true),
    racer: (t) => add(t, t.arena.param(0) !== 1),
  },
  finalCheck(arena) {
    const added = sumCtr(arena, Array.from({ length: arena.nthreads }, (_, i) => i), C_ADDED);
    const counter = arena.i32[arena.scenBase + COUNTER];
    return counter === added ? [] : [`counter ${counter} != ${added} increments (lost updates)`];
  },
});
