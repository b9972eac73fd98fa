import type { Task } from '../shm/task.js';
import {
  H_RCU_GP_SEQ, H_RCU_GP_DONE, H_RCU_GP_LOCK, T_RCU_CTR, T_RCU_NEST,
  T_CB_HEAD, T_CB_TAIL, T_CB_RING, CB_CAP, CB_WORDS, LS_F64S, LS_ACQ,
} from '../shm/layout.js';
import { BUG_RCU_GP_NO_WAIT, BUG_RCU_NESTED_UNLOCK_ENDS_GP } from '../shm/bugbits.js';
import { Viol } from '../shm/kinds.js';
import { rawSpinLock, rawSpinUnlock } from './spinlock.js';
import { waitBegin, waitEnd } from './lockdep.js';
import { LC_RCU_GP, MODE_WRITE, WAIT_RCU_GP } from './lockclass.js';
import { checkAbort } from './sched.js';
import { ctlPoint, ctlWait, P_RCU_LOCK, P_RCU_UNLOCK, P_SYNC_RCU } from './ctl.js';

/*
 * RCU, userspace-RCU style (kernel/rcu/tree.c semantics, URCU "memb"
 * mechanism). Each thread publishes in T_RCU_CTR the grace-period number it
 * saw when it entered its outermost read-side section (0 when quiescent). A
 * grace period bumps H_RCU_GP_SEQ and waits until every thread is quiescent
 * or entered after the bump. Atomics are sequentially consistent, which gives
 * the Dekker-style ordering between a reader's store to its counter and the
 * updater's scan. Grace-period numbers are odd and advance by 2.
 */

/** rcu_read_lock(). */
export function rcuReadLock(t: Task): void {
  const i32 = t.i32;
  const b = t.base;
  if (t.ctl !== 0) ctlPoint(t, P_RCU_LOCK, 0);
  const n = i32[b + T_RCU_NEST];
  // A stale grace-period number only makes a GP wait longer for this reader;
  // the ordered store of the counter is what synchronize_rcu() relies on.
  if (n === 0) Atomics.store(i32, b + T_RCU_CTR, i32[H_RCU_GP_SEQ]);
  i32[b + T_RCU_NEST] = n + 1;
}

/** rcu_read_unlock(). */
export function rcuReadUnlock(t: Task): void {
  const i32 = t.i32;
  const b = t.base;
  const n = i32[b + T_RCU_NEST] - 1;
  i32[b + T_RCU_NEST] = n;
  // Bug: a nested unlock ends the whole read-side section.
  if (n === 0 || (t.bugs0 & BUG_RCU_NESTED_UNLOCK_ENDS_GP) !== 0) Atomics.store(i32, b + T_RCU_CTR, 0);
  if (t.ctl !== 0) ctlPoint(t, P_RCU_UNLOCK, 0);
}

/** rcu_read_lock_held() (for assertions). */
export function rcuReadLockHeld(t: Task): boolean {
  return t.i32[t.base + T_RCU_NEST] > 0;
}

/** Number of the last completed grace period. */
export function rcuGpDone(i32: Int32Array): number {
  return Atomics.load(i32, H_RCU_GP_DONE);
}

/** get_state_synchronize_rcu(): a cookie that poll_state_synchronize_rcu() accepts once a full GP passed. */
export function getStateSynchronizeRcu(i32: Int32Array): number {
  return Atomics.load(i32, H_RCU_GP_SEQ) + 2;
}

/** poll_state_synchronize_rcu(). */
export function pollStateSynchronizeRcu(i32: Int32Array, cookie: number): boolean {
  return ((Atomics.load(i32, H_RCU_GP_DONE) - cookie) | 0) >= 0;
}

/**
 * synchronize_rcu(): wait for a full grace period. Calling it from inside a
 * read-side critical section would wait for itself: reported and refused.
 */
export function synchronizeRcu(t: Task): void {
  const i32 = t.i32;
  const nest = i32[t.base + T_RCU_NEST];
  if (nest > 0) {
    t.violation(Viol.RcuSyncInReader, 0, nest, 0, 0, 0);
    return;
  }
  if (t.ctl !== 0) ctlPoint(t, P_SYNC_RCU, 0);
  const want = Atomics.load(i32, H_RCU_GP_SEQ) + 2;
  const since = waitBegin(t, H_RCU_GP_LOCK, LC_RCU_GP, MODE_WRITE, WAIT_RCU_GP);
  try {
    rawSpinLock(t, H_RCU_GP_LOCK);
    try {
      if (((Atomics.load(i32, H_RCU_GP_DONE) - want) | 0) >= 0) return; // someone else's GP covered us
      const seq = Atomics.add(i32, H_RCU_GP_SEQ, 2) + 2;
      if ((t.bugs0 & BUG_RCU_GP_NO_WAIT) === 0) {
        const a = t.arena;
        for (let k = 0; k < a.nthreads; k++) {
          if (k === t.tid) continue;
          const ctr = a.pt(k) + T_RCU_CTR;
          for (let spins = 0; ; spins++) {
            const c = Atomics.load(i32, ctr);
            if (c === 0 || ((c - seq) | 0) >= 0) break;
            if (t.ctl !== 0) ctlWait(t, ctr, c, Infinity);
            else if (spins > 64) {
              Atomics.wait(i32, ctr, c, 0.1);
              checkAbort(t);
            }
          }
        }
      }
      Atomics.store(i32, H_RCU_GP_DONE, seq);
      t.f64[t.lsBase + LC_RCU_GP * LS_F64S + LS_ACQ] += 1;
    } finally {
      rawSpinUnlock(t, H_RCU_GP_LOCK);
    }
  } finally {
    waitEnd(t, LC_RCU_GP, since, false);
  }
}

/** Handler that runs RCU callbacks: (task, kind, arg0, arg1). */
export type RcuCallbackFn = (t: Task, kind: number, a0: number, a1: number) => void;

/** Callbacks queued by this thread and not yet invoked. */
export function rcuPending(t: Task): number {
  return t.i32[t.base + T_CB_TAIL] - t.i32[t.base + T_CB_HEAD];
}

/**
 * call_rcu(): queue (kind, a0, a1) to be invoked by `fn` after a grace period
 * that starts after this call. If the ring is full, the caller drives a grace
 * period and invokes what is ready (like rcu_do_batch under pressure).
 */
export function callRcu(t: Task, kind: number, a0: number, a1: number, fn: RcuCallbackFn): void {
  const i32 = t.i32;
  const b = t.base;
  if (rcuPending(t) >= CB_CAP) {
    synchronizeRcu(t);
    rcuProcessCallbacks(t, fn);
  }
  const tail = i32[b + T_CB_TAIL];
  const e = b + T_CB_RING + (tail & (CB_CAP - 1)) * CB_WORDS;
  i32[e] = kind;
  i32[e + 1] = a0;
  i32[e + 2] = a1;
  i32[e + 3] = Atomics.load(i32, H_RCU_GP_SEQ) + 2;
  i32[b + T_CB_TAIL] = tail + 1;
}

/** rcu_do_batch(): invoke this thread's callbacks whose grace period has completed. */
export function rcuProcessCallbacks(t: Task, fn: RcuCallbackFn): number {
  const i32 = t.i32;
  const b = t.base;
  const done = Atomics.load(i32, H_RCU_GP_DONE);
  let head = i32[b + T_CB_HEAD];
  const tail = i32[b + T_CB_TAIL];
  let n = 0;
  while (head !== tail) {
    const e = b + T_CB_RING + (head & (CB_CAP - 1)) * CB_WORDS;
    if (((done - i32[e + 3]) | 0) < 0) break;
    head++;
    i32[b + T_CB_HEAD] = head;
    fn(t, i32[e], i32[e + 1], i32[e + 2]);
    n++;
  }
  return n;
}

/**
 * Run this thread's ready callbacks and, when more than `backlog` are still
 * waiting, drive a grace period (the RCU kthread's job, done by the caller).
 */
export function rcuReclaim(t: Task, fn: RcuCallbackFn, backlog = 64): void {
  rcuProcessCallbacks(t, fn);
  if (rcuPending(t) > backlog) {
    synchronizeRcu(t);
    rcuProcessCallbacks(t, fn);
  }
}

/** rcu_barrier() for this thread's callbacks: wait for a GP and invoke all of them. */
export function rcuBarrier(t: Task, fn: RcuCallbackFn): void {
  while (rcuPending(t) > 0) {
    synchronizeRcu(t);
    rcuProcessCallbacks(t, fn);
  }
}
