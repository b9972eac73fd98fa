import type { Task } from '../shm/task.js';
import {
  RW_COUNT, RW_OWNER, RW_WAIT_LOCK, RW_HEAD, RW_CLASS, RW_WORDS, T_WAITER_TASK, T_WAITER_NEXT, T_WAITER_TYPE,
  T_WAITER_HANDOFF, T_F_WAITER_TIMEOUT, RW_LAST_RELEASE,
} from '../shm/layout.js';
import {
  BUG_RWSEM_READER_IGNORES_WRITER, BUG_RWSEM_NO_WRITER_PREFERENCE, BUG_RWSEM_WRITE_IGNORES_READERS,
} from '../shm/bugbits.js';
import { Viol } from '../shm/kinds.js';
import { rawSpinLock, rawSpinUnlock } from './spinlock.js';
import {
  AH_RWSEM_TRY_WRITE_LOCK, lockAcquired, lockReleased, lockDowngraded, waitBegin, waitEnd, lockFailed,
  lockdepAcquire,
} from './lockdep.js';
import { MODE_READ, MODE_WRITE, WAIT_LOCK } from './lockclass.js';
import { ctlPoint, P_DOWN_READ, P_UP_READ, P_DOWN_WRITE, P_UP_WRITE, P_TRYLOCK } from './ctl.js';
import { EINTR, UNINTERRUPTIBLE, fatalSignalPending, prepareToWait, scheduleTimeout, sleepBudget, lostWakeUpCheck } from './sched.js';
import {
  RWSEM_WRITER_LOCKED, RWSEM_FLAG_WAITERS, RWSEM_FLAG_HANDOFF, RWSEM_READER_BIAS, RWSEM_READER_MASK, RWSEM_LOCK_MASK,
  RWSEM_READ_FAILED_MASK, RWSEM_WAIT_TIMEOUT_MS, WAITING_FOR_READ, WAITING_FOR_WRITE, WAKE_READ_OWNED,
  RWSEM_READER_OWNED, ptOf, addWaiter, unlinkWaiter, rwsemMarkWake, rwsemCondWakeWaiter, rwsemDelWakeWaiter, rwsemWake,
  rwsemSetOwner, rwsemSetReaderOwned, rwsemSetLastRelease, rwsemClearOwner, RWSEM_READER_SHIFT, assertWaitLockHeld,
} from './rwsem_waitlist.js';

/*
 * Reader-writer semaphore modelled on kernel/locking/rwsem.c (non-RT, 6.x),
 * with the 32-bit count layout:
 *   bit 0 writer locked, bit 1 waiters present, bit 2 handoff,
 *   bits 8-30 reader count (each reader adds RWSEM_READER_BIAS), bit 31 guard.
 * The FIFO wait list lives in shared memory: each thread has one waiter node
 * in its region (a task sleeps on at most one rwsem at a time), linked by
 * tid + 1 and protected by the rwsem's wait_lock.
 */

export {
  RWSEM_WRITER_LOCKED, RWSEM_FLAG_WAITERS, RWSEM_FLAG_HANDOFF, RWSEM_READER_SHIFT, RWSEM_READER_BIAS, RWSEM_READER_MASK,
  RWSEM_GUARD, RWSEM_LOCK_MASK, RWSEM_READ_FAILED_MASK, RWSEM_READER_OWNED, RWSEM_WAIT_TIMEOUT_MS, MAX_READERS_WAKEUP,
  rwsemIsLocked, rwsemReaderCount, rwsemWriteOwner, rwsemWaiters,
} from './rwsem_waitlist.js';

/** Bounded optimistic spin before queueing (rwsem_optimistic_spin). */
const OPTIMISTIC_SPINS = 40;

export { RW_WORDS };

/** init_rwsem(). */
export function initRwsem(i32: Int32Array, sem: number, cls: number): void {
  for (let k = 0; k < RW_WORDS; k++) i32[sem + k] = 0;
  i32[sem + RW_CLASS] = cls;
}

// ---------------------------------------------------------------------------
// Read side.
// ---------------------------------------------------------------------------

/** RWSEM_READ_FAILED_MASK, with the bug switches that weaken it. */
function readFailedMask(bugs: number): number {
  let mask = RWSEM_READ_FAILED_MASK;
  if ((bugs & BUG_RWSEM_READER_IGNORES_WRITER) !== 0) mask &= ~RWSEM_WRITER_LOCKED;
  if ((bugs & BUG_RWSEM_NO_WRITER_PREFERENCE) !== 0) mask &= ~(RWSEM_FLAG_WAITERS | RWSEM_FLAG_HANDOFF);
  return mask;
}

/** __down_read_common(): fast path, else rwsem_down_read_slowpath(); 0 or -EINTR. */
function downReadCommon(t: Task, sem: number, deadline: number): number {
  const i32 = t.i32;
  if (t.ctl !== 0) ctlPoint(t, P_DOWN_READ, sem);
  lockdepAcquire(t, sem, i32[sem + RW_CLASS], MODE_READ);
  const old = Atomics.add(i32, sem + RW_COUNT, RWSEM_READER_BIAS);
  if ((old & readFailedMask(t.bugs0)) === 0) {
    rwsemSetReaderOwned(i32, sem, t.tid + 1);
    lockAcquired(t, sem, i32[sem + RW_CLASS], MODE_READ);
    return 0;
  }
  return rwsemDownReadSlowpath(t, sem, old + RWSEM_READER_BIAS, deadline);
}

/** rwsem_down_read_slowpath(); `count` includes our bias. */
function rwsemDownReadSlowpath(t: Task, sem: number, count: number, deadline: number): number {
  const i32 = t.i32;
  const cls = i32[sem + RW_CLASS];
  const me1 = t.tid + 1;
  const noPref = (t.bugs0 & BUG_RWSEM_NO_WRITER_PREFERENCE) !== 0;
  let adjustment = -RWSEM_READER_BIAS;
  const rcnt = (count & RWSEM_READER_MASK) >>> RWSEM_READER_SHIFT;
  const owner = Atomics.load(i32, sem + RW_OWNER);
  // Do not steal from a reader-owned lock with other readers inside: queue
  // behind the waiters instead (anti-writer-starvation, 2f06f702925b).
  const mustQueue = !noPref && (owner & RWSEM_READER_OWNED) !== 0 && rcnt > 1 && (count & RWSEM_WRITER_LOCKED) === 0;
  if (!mustQueue && (count & (RWSEM_WRITER_LOCKED | (noPref ? 0 : RWSEM_FLAG_HANDOFF))) === 0) {
    // Lock stealing: keep the bias.
    rwsemSetReaderOwned(i32, sem, me1);
    if (rcnt === 1 && (count & RWSEM_FLAG_WAITERS) !== 0) {
      rawSpinLock(t, sem + RW_WAIT_LOCK);
      if (i32[sem + RW_HEAD] !== 0) rwsemMarkWake(t, sem, WAKE_READ_OWNED);
      rawSpinUnlock(t, sem + RW_WAIT_LOCK);
    }
    lockAcquired(t, sem, cls, MODE_READ);
    return 0;
  }
  // queue:
  const b = t.base;
  i32[b + T_WAITER_TYPE] = WAITING_FOR_READ;
  i32[b + T_WAITER_HANDOFF] = 0;
  Atomics.store(i32, b + T_WAITER_TASK, 1);
  t.f64[(b + T_F_WAITER_TIMEOUT) >> 1] = t.now() + RWSEM_WAIT_TIMEOUT_MS;
  rawSpinLock(t, sem + RW_WAIT_LOCK);
  if (i32[sem + RW_HEAD] === 0) {
    // No one queued: if no writer holds the lock, it is ours after all.
    if ((Atomics.load(i32, sem + RW_COUNT) & RWSEM_WRITER_LOCKED) === 0) {
      rawSpinUnlock(t, sem + RW_WAIT_LOCK);
      Atomics.store(i32, b + T_WAITER_TASK, 0);
      rwsemSetReaderOwned(i32, sem, me1);
      lockAcquired(t, sem, cls, MODE_READ);
      return 0;
    }
    adjustment += RWSEM_FLAG_WAITERS;
  }
  addWaiter(t, sem);
  const c = Atomics.add(i32, sem + RW_COUNT, adjustment) + adjustment;
  rwsemCondWakeWaiter(t, sem, c);
  rawSpinUnlock(t, sem + RW_WAIT_LOCK);

  const since = waitBegin(t, sem, cls, MODE_READ, WAIT_LOCK);
  let ok = false;
  try {
    for (;;) {
      const snap = prepareToWait(t);
      if (Atomics.load(i32, b + T_WAITER_TASK) === 0) {
        ok = true;
        break;
      }
      if (fatalSignalPending(t, deadline)) {
        rawSpinLock(t, sem + RW_WAIT_LOCK);
        if (Atomics.load(i32, b + T_WAITER_TASK) !== 0) {
          rwsemDelWakeWaiter(t, sem, me1);
          rawSpinUnlock(t, sem + RW_WAIT_LOCK);
          break;
        }
        rawSpinUnlock(t, sem + RW_WAIT_LOCK);
        ok = true; // granted while we were giving up
        break;
      }
      if (scheduleTimeout(t, snap, sleepBudget(t, deadline))) continue;
      // Not woken: granted (waiter.task cleared) or first in line on a free
      // lock, nobody will wake us — a lost wake-up.
      if (Atomics.load(i32, b + T_WAITER_TASK) === 0 || freeWithFirst(i32, sem, me1)) {
        lostWakeUpCheck(t, snap, sem, cls, since, Atomics.load(i32, sem + RW_LAST_RELEASE) - 1);
      }
    }
  } finally {
    waitEnd(t, cls, since, !ok);
  }
  if (!ok) return EINTR;
  lockAcquired(t, sem, cls, MODE_READ);
  return 0;
}

/** Is the lock free (no writer, no reader) with `me1` first in its queue? What a sleeper may not be left in. */
function freeWithFirst(i32: Int32Array, sem: number, me1: number): boolean {
  return (Atomics.load(i32, sem + RW_COUNT) & RWSEM_LOCK_MASK) === 0 && Atomics.load(i32, sem + RW_HEAD) === me1;
}

/** down_read(): uninterruptible (only a run abort unwinds it). */
export function downRead(t: Task, sem: number): void {
  downReadCommon(t, sem, UNINTERRUPTIBLE);
}

/** down_read_killable(): returns 0, or -EINTR if killed / `timeoutMs` passed while queued. */
export function downReadKillable(t: Task, sem: number, timeoutMs: number = Infinity): number {
  return downReadCommon(t, sem, timeoutMs === Infinity ? Infinity : t.now() + timeoutMs);
}

/**
 * down_read_trylock(): fails if anyone holds it for write or is queued. The
 * first compare-and-swap assumes an idle lock (tmp = RWSEM_UNLOCKED_VALUE,
 * as __down_read_trylock() has had it), so an uncontended trylock is one
 * atomic; a failed one returns the count, which the loop re-tests.
 */
export function downReadTrylock(t: Task, sem: number): boolean {
  const i32 = t.i32;
  if (t.ctl !== 0) ctlPoint(t, P_TRYLOCK, sem);
  const mask = readFailedMask(t.bugs0);
  let c = 0;
  while ((c & mask) === 0) {
    const seen = Atomics.compareExchange(i32, sem + RW_COUNT, c, c + RWSEM_READER_BIAS);
    if (seen === c) {
      rwsemSetReaderOwned(i32, sem, t.tid + 1);
      lockAcquired(t, sem, i32[sem + RW_CLASS], MODE_READ);
      return true;
    }
    c = seen;
  }
  lockFailed(t, i32[sem + RW_CLASS]);
  return false;
}

/** up_read(). A release without a matching acquire is lockdep's bad unlock balance. */
export function upRead(t: Task, sem: number): void {
  const i32 = t.i32;
  lockReleased(t, sem, i32[sem + RW_CLASS], MODE_READ);
  rwsemSetLastRelease(i32, sem, t.tid + 1);
  const old = Atomics.sub(i32, sem + RW_COUNT, RWSEM_READER_BIAS);
  if ((old & RWSEM_READER_MASK) === 0) t.violation(Viol.RwsemCountCorrupt, sem, old, 0, 0, 0);
  const tmp = old - RWSEM_READER_BIAS;
  if ((tmp & (RWSEM_LOCK_MASK | RWSEM_FLAG_WAITERS)) === RWSEM_FLAG_WAITERS) rwsemWake(t, sem);
  if (t.ctl !== 0) ctlPoint(t, P_UP_READ, sem);
}

// ---------------------------------------------------------------------------
// Write side.
// ---------------------------------------------------------------------------

/** rwsem_try_write_lock(): called with wait_lock held (asserted) by a queued writer. */
function rwsemTryWriteLock(t: Task, sem: number): boolean {
  const i32 = t.i32;
  assertWaitLockHeld(t, sem, AH_RWSEM_TRY_WRITE_LOCK);
  const me1 = t.tid + 1;
  const b = t.base;
  const first = i32[sem + RW_HEAD];
  let c = Atomics.load(i32, sem + RW_COUNT);
  for (;;) {
    const hasHandoff = (c & RWSEM_FLAG_HANDOFF) !== 0;
    if (hasHandoff && first !== me1 && i32[ptOf(t, first) + T_WAITER_HANDOFF] !== 0) return false;
    let nc = c;
    if ((c & RWSEM_LOCK_MASK) !== 0) {
      if (hasHandoff || t.now() <= t.f64[(b + T_F_WAITER_TIMEOUT) >> 1]) return false;
      nc |= RWSEM_FLAG_HANDOFF;
    } else {
      nc |= RWSEM_WRITER_LOCKED;
      nc &= ~RWSEM_FLAG_HANDOFF;
      if (first === me1 && i32[b + T_WAITER_NEXT] === 0) nc &= ~RWSEM_FLAG_WAITERS;
    }
    const seen = Atomics.compareExchange(i32, sem + RW_COUNT, c, nc);
    if (seen === c) {
      if ((nc & RWSEM_FLAG_HANDOFF) !== 0) {
        i32[ptOf(t, first) + T_WAITER_HANDOFF] = 1;
        return false;
      }
      unlinkWaiter(t, sem, me1);
      rwsemSetOwner(t, sem);
      return true;
    }
    c = seen;
  }
}

/** rwsem_down_write_slowpath(). */
function rwsemDownWriteSlowpath(t: Task, sem: number, deadline: number): number {
  const i32 = t.i32;
  const cls = i32[sem + RW_CLASS];
  const me1 = t.tid + 1;
  const b = t.base;
  // Bounded optimistic spin (rwsem_try_write_lock_unqueued).
  for (let k = 0; k < OPTIMISTIC_SPINS; k++) {
    const c = Atomics.load(i32, sem + RW_COUNT);
    if ((c & (RWSEM_LOCK_MASK | RWSEM_FLAG_HANDOFF)) === 0 &&
        Atomics.compareExchange(i32, sem + RW_COUNT, c, c | RWSEM_WRITER_LOCKED) === c) {
      rwsemSetOwner(t, sem);
      lockAcquired(t, sem, cls, MODE_WRITE);
      return 0;
    }
  }
  i32[b + T_WAITER_TYPE] = WAITING_FOR_WRITE;
  i32[b + T_WAITER_HANDOFF] = 0;
  Atomics.store(i32, b + T_WAITER_TASK, 1);
  t.f64[(b + T_F_WAITER_TIMEOUT) >> 1] = t.now() + RWSEM_WAIT_TIMEOUT_MS;
  const since = waitBegin(t, sem, cls, MODE_WRITE, WAIT_LOCK);
  let ok = false;
  try {
    rawSpinLock(t, sem + RW_WAIT_LOCK);
    addWaiter(t, sem);
    if (i32[sem + RW_HEAD] !== me1) rwsemCondWakeWaiter(t, sem, Atomics.load(i32, sem + RW_COUNT));
    else Atomics.or(i32, sem + RW_COUNT, RWSEM_FLAG_WAITERS);
    for (;;) {
      if (rwsemTryWriteLock(t, sem)) {
        ok = true;
        break;
      }
      const snap = prepareToWait(t);
      rawSpinUnlock(t, sem + RW_WAIT_LOCK);
      if (fatalSignalPending(t, deadline)) {
        rawSpinLock(t, sem + RW_WAIT_LOCK);
        rwsemDelWakeWaiter(t, sem, me1);
        break;
      }
      // Sleep until an unlock wakes us (rwsem_mark_wake wakes a first writer);
      // not woken while first in line on a free lock is a lost wake-up.
      if (!scheduleTimeout(t, snap, sleepBudget(t, deadline)) && freeWithFirst(i32, sem, me1)) {
        lostWakeUpCheck(t, snap, sem, cls, since, Atomics.load(i32, sem + RW_LAST_RELEASE) - 1);
      }
      rawSpinLock(t, sem + RW_WAIT_LOCK);
    }
    rawSpinUnlock(t, sem + RW_WAIT_LOCK);
  } finally {
    Atomics.store(i32, b + T_WAITER_TASK, 0);
    waitEnd(t, cls, since, !ok);
  }
  if (!ok) return EINTR;
  lockAcquired(t, sem, cls, MODE_WRITE);
  return 0;
}

function downWriteCommon(t: Task, sem: number, deadline: number): number {
  const i32 = t.i32;
  if (t.ctl !== 0) ctlPoint(t, P_DOWN_WRITE, sem);
  lockdepAcquire(t, sem, i32[sem + RW_CLASS], MODE_WRITE);
  if ((t.bugs0 & BUG_RWSEM_WRITE_IGNORES_READERS) !== 0) {
    // Bug: the fast path only checks the writer bit, not the readers.
    const old = Atomics.or(i32, sem + RW_COUNT, RWSEM_WRITER_LOCKED);
    if ((old & RWSEM_WRITER_LOCKED) === 0) {
      rwsemSetOwner(t, sem);
      lockAcquired(t, sem, i32[sem + RW_CLASS], MODE_WRITE);
      return 0;
    }
  } else if (Atomics.compareExchange(i32, sem + RW_COUNT, 0, RWSEM_WRITER_LOCKED) === 0) {
    rwsemSetOwner(t, sem);
    lockAcquired(t, sem, i32[sem + RW_CLASS], MODE_WRITE);
    return 0;
  }
  return rwsemDownWriteSlowpath(t, sem, deadline);
}

/** down_write(): uninterruptible. */
export function downWrite(t: Task, sem: number): void {
  downWriteCommon(t, sem, UNINTERRUPTIBLE);
}

/** down_write_nested(): a second rwsem of a held class, annotated with lockdep subclass `sub`. */
export function downWriteNested(t: Task, sem: number, sub: number): void {
  t.lockSubclass = sub;
  downWriteCommon(t, sem, UNINTERRUPTIBLE);
}

/** down_write_killable(): returns 0 or -EINTR. */
export function downWriteKillable(t: Task, sem: number, timeoutMs: number = Infinity): number {
  return downWriteCommon(t, sem, timeoutMs === Infinity ? Infinity : t.now() + timeoutMs);
}

/** down_write_trylock(): needs count == 0. */
export function downWriteTrylock(t: Task, sem: number): boolean {
  const i32 = t.i32;
  if (t.ctl !== 0) ctlPoint(t, P_TRYLOCK, sem);
  if (Atomics.compareExchange(i32, sem + RW_COUNT, 0, RWSEM_WRITER_LOCKED) === 0) {
    rwsemSetOwner(t, sem);
    lockAcquired(t, sem, i32[sem + RW_CLASS], MODE_WRITE);
    return true;
  }
  lockFailed(t, i32[sem + RW_CLASS]);
  return false;
}

/** up_write(). */
export function upWrite(t: Task, sem: number): void {
  const i32 = t.i32;
  lockReleased(t, sem, i32[sem + RW_CLASS], MODE_WRITE);
  rwsemClearOwner(i32, sem);
  rwsemSetLastRelease(i32, sem, t.tid + 1);
  const old = Atomics.sub(i32, sem + RW_COUNT, RWSEM_WRITER_LOCKED);
  if ((old & RWSEM_FLAG_WAITERS) !== 0) rwsemWake(t, sem);
  if (t.ctl !== 0) ctlPoint(t, P_UP_WRITE, sem);
}

/** downgrade_write(): writer bit → one reader bias; wake queued readers only. */
export function downgradeWrite(t: Task, sem: number): void {
  const i32 = t.i32;
  lockDowngraded(t, sem, i32[sem + RW_CLASS]);
  rwsemSetReaderOwned(i32, sem, t.tid + 1);
  const old = Atomics.add(i32, sem + RW_COUNT, RWSEM_READER_BIAS - RWSEM_WRITER_LOCKED);
  if ((old & RWSEM_FLAG_WAITERS) !== 0) {
    rawSpinLock(t, sem + RW_WAIT_LOCK);
    if (i32[sem + RW_HEAD] !== 0) rwsemMarkWake(t, sem, WAKE_READ_OWNED);
    rawSpinUnlock(t, sem + RW_WAIT_LOCK);
  }
}

