import type { Task } from '../shm/task.js';
import { RUN_ABORTED } from '../shm/task.js';
import { H_ABORT } from '../shm/layout.js';
import { BUG_SPIN_RACY_ACQUIRE } from '../shm/bugbits.js';
import { Viol } from '../shm/kinds.js';
import { lockAcquired, lockReleased, waitBegin, waitEnd, lockFailed, lockdepAcquire } from './lockdep.js';
import { MODE_WRITE, WAIT_LOCK } from './lockclass.js';
import { ctlPoint, ctlWait, P_SPIN_LOCK, P_SPIN_UNLOCK, P_TRYLOCK, P_WINDOW } from './ctl.js';

/**
 * Spinlock with owner, one Int32 word: 0 = unlocked, else the owner's
 * tid + 1, with SPIN_CONTENDED set while a waiter sleeps. Userspace threads
 * can be preempted while holding it, so after a bounded spin the waiter parks
 * on the word (futex style) instead of burning the other core; the unlock
 * notifies only when the contended bit was set.
 */
export const SPIN_CONTENDED = 0x40000000;
const OWNER_MASK = SPIN_CONTENDED - 1;
const SPINS = 64;

/** spin_lock_init(). */
export function spinLockInit(i32: Int32Array, lock: number): void {
  Atomics.store(i32, lock, 0);
}

/** spin_lock_nested(): a second lock of a held class, annotated with lockdep subclass `sub` (> the held one's). */
export function spinLockNested(t: Task, lock: number, cls: number, sub: number): void {
  t.lockSubclass = sub;
  spinLock(t, lock, cls);
}

/** raw_spin_lock(): no lockdep, no lock_stat (e.g. rwsem's wait_lock). */
export function rawSpinLock(t: Task, lock: number): void {
  const me = t.tid + 1;
  if (t.ctl !== 0) ctlPoint(t, P_SPIN_LOCK, lock);
  if (Atomics.compareExchange(t.i32, lock, 0, me) === 0) return;
  spinLockSlow(t, lock, me);
}

/** raw_spin_is_locked() by this thread: what lockdep_assert_held() checks of a raw lock. */
export function rawSpinIsHeld(t: Task, lock: number): boolean {
  return (Atomics.load(t.i32, lock) & OWNER_MASK) === t.tid + 1;
}

/** raw_spin_unlock(). */
export function rawSpinUnlock(t: Task, lock: number): void {
  const old = Atomics.exchange(t.i32, lock, 0);
  if ((old & SPIN_CONTENDED) !== 0) Atomics.notify(t.i32, lock, 1);
  if (t.ctl !== 0) ctlPoint(t, P_SPIN_UNLOCK, lock);
}

function spinLockSlow(t: Task, lock: number, me: number): void {
  const i32 = t.i32;
  let slept = false;
  for (let spins = 0; ; spins++) {
    let v = Atomics.load(i32, lock);
    if (v === 0) {
      // After sleeping we take the lock marked contended: other sleepers may exist.
      if (Atomics.compareExchange(i32, lock, 0, slept ? me | SPIN_CONTENDED : me) === 0) return;
      continue;
    }
    // Controlled schedule: a spinner is not runnable until the lock word changes.
    if (t.ctl !== 0) {
      ctlWait(t, lock, v, Infinity);
      continue;
    }
    if (spins < SPINS) continue;
    if ((v & SPIN_CONTENDED) === 0) {
      if (Atomics.compareExchange(i32, lock, v, v | SPIN_CONTENDED) !== v) continue;
      v |= SPIN_CONTENDED;
    }
    Atomics.wait(i32, lock, v, 5);
    slept = true;
    if (Atomics.load(i32, H_ABORT) !== 0) throw RUN_ABORTED;
  }
}

/** spin_lock() (include/linux/spinlock.h), with lockdep and lock_stat. */
export function spinLock(t: Task, lock: number, cls: number): void {
  const i32 = t.i32;
  const me = t.tid + 1;
  if (t.ctl !== 0) ctlPoint(t, P_SPIN_LOCK, lock);
  lockdepAcquire(t, lock, cls, MODE_WRITE);
  if ((t.bugs0 & BUG_SPIN_RACY_ACQUIRE) !== 0) {
    // Bug: test-then-set instead of an atomic exchange.
    for (;;) {
      const v = Atomics.load(i32, lock);
      if (v === 0) {
        for (let k = 0; k < 32; k++); // the window between test and set
        if (t.ctl !== 0) ctlPoint(t, P_WINDOW, -1);
        Atomics.store(i32, lock, me);
        break;
      }
      if (t.ctl !== 0) ctlWait(t, lock, v, Infinity);
      if (Atomics.load(i32, H_ABORT) !== 0) throw RUN_ABORTED;
    }
  } else if (Atomics.compareExchange(i32, lock, 0, me) !== 0) {
    const since = waitBegin(t, lock, cls, MODE_WRITE, WAIT_LOCK);
    try {
      spinLockSlow(t, lock, me);
    } finally {
      waitEnd(t, cls, since, false);
    }
  }
  lockAcquired(t, lock, cls, MODE_WRITE);
}

/** spin_trylock(). */
export function spinTrylock(t: Task, lock: number, cls: number): boolean {
  if (t.ctl !== 0) ctlPoint(t, P_TRYLOCK, lock);
  if (Atomics.compareExchange(t.i32, lock, 0, t.tid + 1) === 0) {
    lockAcquired(t, lock, cls, MODE_WRITE);
    return true;
  }
  lockFailed(t, cls);
  return false;
}

/** spin_unlock(): releasing a lock owned by another thread is a spinlock-debug BUG. */
export function spinUnlock(t: Task, lock: number, cls: number): void {
  lockReleased(t, lock, cls, MODE_WRITE);
  const old = Atomics.exchange(t.i32, lock, 0);
  if ((old & OWNER_MASK) !== t.tid + 1) {
    t.violation(Viol.SpinBadUnlock, lock, old & OWNER_MASK, 0, 0, 0);
  }
  if ((old & SPIN_CONTENDED) !== 0) Atomics.notify(t.i32, lock, 1);
  if (t.ctl !== 0) ctlPoint(t, P_SPIN_UNLOCK, lock);
}

/** spin_is_locked(). */
export function spinIsLocked(i32: Int32Array, lock: number): boolean {
  return Atomics.load(i32, lock) !== 0;
}

/** Owner thread of a spinlock, or -1. */
export function spinOwner(i32: Int32Array, lock: number): number {
  return (Atomics.load(i32, lock) & OWNER_MASK) - 1;
}
