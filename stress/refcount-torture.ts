import type { BuiltinScenario } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { Viol } from '../src/shm/kinds.js';
import { rcuReadLock, rcuReadUnlock, callRcu, rcuProcessCallbacks, synchronizeRcu, rcuPending, type RcuCallbackFn } from '../src/sync/rcu.js';
import { refcountIncNotZero, refcountDecAndTest, refcountSet } from '../src/sync/refcount.js';
import { spinLock, spinUnlock, spinLockInit } from '../src/sync/spinlock.js';
import { LC_SLAB } from '../src/sync/lockclass.js';
import { running, spinDelay, tidsOf, sumCtr } from './common.js';

/*
 * refcount-torture: the kernel's lookup pattern. A table of slots holds
 * RCU-published objects with a refcount (the table owns one reference).
 * Lookups run under rcu_read_lock and take a reference with
 * refcount_inc_not_zero(); an updater replaces objects and drops the table's
 * reference. Whoever drops the last reference marks the object dead and
 * frees it after a grace period. A lookup that obtains a reference to a dead
 * object is a use-after-free.
 */
const SLOTS = 0;
const NSLOTS = 8;
const SLAB_LOCK = 16;
const FREE_TOP = 32;
const SCRATCH = 48;
const FREE_STACK = 64;
const NOBJ = 512;
const OBJ = FREE_STACK + NOBJ;
const OBJ_WORDS = 16;
const O_REF = 0;
const O_STATE = 1; // 1 live, 2 dead
const O_GEN = 2;
export const REFCOUNT_WORDS = OBJ + NOBJ * OBJ_WORDS;

const C_LOOKUPS = 0;
const C_HITS = 1;
const C_MISSES = 2;
const C_REPLACES = 3;
const C_UAF = 4;
const C_ALLOC_FAIL = 5;
const CB_FREE = 1;

const LIVE = 1;
const DEAD = 2;

function objAddr(base: number, o1: number): number {
  return base + OBJ + (o1 - 1) * OBJ_WORDS;
}

const freeCb: RcuCallbackFn = (t, kind, o1) => {
  if (kind !== CB_FREE) return;
  const base = t.arena.scenBase;
  const i32 = t.i32;
  spinLock(t, base + SLAB_LOCK, LC_SLAB);
  const top = i32[base + FREE_TOP];
  i32[base + FREE_STACK + top] = o1;
  i32[base + FREE_TOP] = top + 1;
  spinUnlock(t, base + SLAB_LOCK, LC_SLAB);
};

function allocObj(t: Task, base: number): number {
  const i32 = t.i32;
  spinLock(t, base + SLAB_LOCK, LC_SLAB);
  const top = i32[base + FREE_TOP];
  let o1 = 0;
  if (top > 0) {
    o1 = i32[base + FREE_STACK + top - 1];
    i32[base + FREE_TOP] = top - 1;
  }
  spinUnlock(t, base + SLAB_LOCK, LC_SLAB);
  return o1;
}

/** Drop a reference; the last one kills the object and frees it after a grace period. */
function put(t: Task, base: number, o1: number): void {
  const o = objAddr(base, o1);
  if (refcountDecAndTest(t, o + O_REF, o1)) {
    Atomics.store(t.i32, o + O_STATE, DEAD);
    callRcu(t, CB_FREE, o1, 0, freeCb);
  }
}

function updater(t: Task, base: number): void {
  const i32 = t.i32;
  while (running(t)) {
    rcuProcessCallbacks(t, freeCb);
    if (rcuPending(t) > 64) {
      synchronizeRcu(t);
      rcuProcessCallbacks(t, freeCb);
    }
    const o1 = allocObj(t, base);
    if (o1 === 0) {
      t.count(C_ALLOC_FAIL);
      synchronizeRcu(t);
      rcuProcessCallbacks(t, freeCb);
      continue;
    }
    const o = objAddr(base, o1);
    Atomics.add(i32, o + O_GEN, 1);
    Atomics.store(i32, o + O_STATE, LIVE);
    refcountSet(i32, o + O_REF, 1); // the table's reference
    const slot = base + SLOTS + t.randInt(NSLOTS);
    const old = Atomics.exchange(i32, slot, o1);
    t.count(C_REPLACES);
    if (old !== 0) put(t, base, old);
    spinDelay(i32, base + SCRATCH, t.rand() & 127);
  }
  // Leave the table populated; the callbacks still queued are harmless at exit.
}

function lookup(t: Task, base: number): void {
  const i32 = t.i32;
  while (running(t)) {
    rcuProcessCallbacks(t, freeCb);
    if (rcuPending(t) > 64) {
      synchronizeRcu(t);
      rcuProcessCallbacks(t, freeCb);
    }
    t.count(C_LOOKUPS);
    rcuReadLock(t);
    const o1 = Atomics.load(i32, base + SLOTS + t.randInt(NSLOTS));
    let got = false;
    if (o1 !== 0) {
      spinDelay(i32, base + SCRATCH, t.rand() & 31);
      got = refcountIncNotZero(t, objAddr(base, o1) + O_REF);
    }
    rcuReadUnlock(t);
    if (!got) {
      t.count(C_MISSES);
      continue;
    }
    t.count(C_HITS);
    const o = objAddr(base, o1);
    const state = Atomics.load(i32, o + O_STATE);
    if (state !== LIVE) {
      t.count(C_UAF);
      t.violation(Viol.RefcountUseAfterFree, o1, Atomics.load(i32, o + O_REF), Atomics.load(i32, o + O_GEN), state, 0);
    }
    spinDelay(i32, base + SCRATCH, t.rand() & 63);
    put(t, base, o1);
  }
}

export const refcountTorture: BuiltinScenario = {
  name: 'refcount-torture',
  description: 'RCU lookup + refcount_inc_not_zero against an updater that replaces and frees objects; a reference to a dead object is a use-after-free',
  exposes: ['refcount-inc-on-zero'],
  words: () => REFCOUNT_WORDS,
  setup(arena: Arena) {
    const i32 = arena.i32;
    const base = arena.scenBase;
    spinLockInit(i32, base + SLAB_LOCK);
    for (let k = 0; k < NOBJ; k++) i32[base + FREE_STACK + k] = NOBJ - k;
    i32[base + FREE_TOP] = NOBJ;
  },
  roles: (threads) => Array.from({ length: threads }, (_, i) => (i === 0 ? 'updater' : 'lookup')),
  run(t: Task, role: string) {
    if (role === 'updater') updater(t, t.arena.scenBase);
    else lookup(t, t.arena.scenBase);
  },
  stats(arena: Arena) {
    const roles = this.roles(arena.nthreads);
    const lookups = tidsOf(roles, 'lookup');
    const all = roles.map((_, i) => i);
    const n = sumCtr(arena, lookups, C_LOOKUPS);
    const hits = sumCtr(arena, lookups, C_HITS);
    const uaf = sumCtr(arena, lookups, C_UAF);
    const replaces = sumCtr(arena, all, C_REPLACES);
    return {
      lines: [`Lookups: ${n}  Hits: ${hits}  Misses: ${sumCtr(arena, lookups, C_MISSES)}  Replaces: ${replaces}  Alloc fail: ${sumCtr(arena, all, C_ALLOC_FAIL)}  UAF: ${uaf} ${uaf ? '!!!' : ''}`.trimEnd()],
      failures: uaf,
      warnings: 0,
      data: { lookups: n, hits, replaces, uaf },
    };
  },
};
