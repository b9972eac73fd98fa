import type { Task } from '../shm/task.js';
import {
  RW_COUNT, RW_OWNER, RW_WAIT_LOCK, RW_HEAD, RW_TAIL, RW_CLASS, RW_WORDS,
  T_WAITER_TASK, T_WAITER_NEXT, T_WAITER_TYPE, T_WAITER_HANDOFF, T_F_WAITER_TIMEOUT,
} from '../shm/layout.js';
import {
  BUG_RWSEM_READER_IGNORES_WRITER, BUG_RWSEM_NO_WRITER_PREFERENCE, BUG_RWSEM_WRITE_IGNORES_READERS,
} from '../shm/bugbits.js';
import { Viol } from '../shm/kinds.js';
import { rawSpinLock, rawSpinUnlock } from './spinlock.js';
import { lockAcquired, lockReleased, lockDowngraded, waitBegin, waitEnd, lockFailed, lockdepAcquire } from './lockdep.js';
import { MODE_READ, MODE_WRITE, WAIT_LOCK } from './lockclass.js';
import { EINTR, UNINTERRUPTIBLE, fatalSignalPending, prepareToWait, schedule, wakeUpProcess } from './sched.js';

/*
 * Reader-writer semaphore modelled on kernel/locking/rwsem.c (non-RT, 6.x),
 * with the 32-bit count layout:
 *   bit 0 writer locked, bit 1 waiters present, bit 2 handoff,
 *   bits 8-30 reader count (each reader adds RWSEM_READER_BIAS), bit 31 guard.
 * The FIFO wait list lives in shared memory: each thread has one waiter node
 * in its region (a task sleeps on at most one rwsem at a time), linked by
 * tid + 1 and protected by the rwsem's wait_lock.
 */
export const RWSEM_WRITER_LOCKED = 1 << 0;
export const RWSEM_FLAG_WAITERS = 1 << 1;
export const RWSEM_FLAG_HANDOFF = 1 << 2;
export const RWSEM_READER_SHIFT = 8;
export const RWSEM_READER_BIAS = 1 << RWSEM_READER_SHIFT;
export const RWSEM_READER_MASK = 0x7fffff00;
export const RWSEM_GUARD = 0x80000000 | 0;
export const RWSEM_LOCK_MASK = RWSEM_WRITER_LOCKED | RWSEM_READER_MASK;
export const RWSEM_READ_FAILED_MASK = RWSEM_WRITER_LOCKED | RWSEM_FLAG_WAITERS | RWSEM_FLAG_HANDOFF | RWSEM_GUARD;
/** owner word: tid + 1, with RWSEM_READER_OWNED for (advisory) reader ownership. */
export const RWSEM_READER_OWNED = 1 << 30;
/** RWSEM_WAIT_TIMEOUT: a waiter may request handoff after this long (kernel: max(1 jiffy, 4 ms)). */
export const RWSEM_WAIT_TIMEOUT_MS = 4;
export const MAX_READERS_WAKEUP = 256;
/** Bounded optimistic spin before queueing (rwsem_optimistic_spin). */
const OPTIMISTIC_SPINS = 40;

const WAITING_FOR_READ = 0;
const WAITING_FOR_WRITE = 1;
const WAKE_ANY = 0;
const WAKE_READERS = 1;
const WAKE_READ_OWNED = 2;

export { RW_WORDS };

/** init_rwsem(). */
export function initRwsem(i32: Int32Array, sem: number, cls: number): void {
  for (let k = 0; k < RW_WORDS; k++) i32[sem + k] = 0;
  i32[sem + RW_CLASS] = cls;
}

/** rwsem_is_locked(): count != 0 (what mmap_assert_locked checks). */
export function rwsemIsLocked(i32: Int32Array, sem: number): boolean {
  return Atomics.load(i32, sem + RW_COUNT) !== 0;
}

/** Number of readers currently counted in the rwsem. */
export function rwsemReaderCount(i32: Int32Array, sem: number): number {
  return (Atomics.load(i32, sem + RW_COUNT) & RWSEM_READER_MASK) >>> RWSEM_READER_SHIFT;
}

/** Writer that holds the rwsem (tid), or -1. */
export function rwsemWriteOwner(i32: Int32Array, sem: number): number {
  const c = Atomics.load(i32, sem + RW_COUNT);
  if ((c & RWSEM_WRITER_LOCKED) === 0) return -1;
  const o = Atomics.load(i32, sem + RW_OWNER);
  return (o & RWSEM_READER_OWNED) !== 0 ? -1 : o - 1;
}

// ---------------------------------------------------------------------------
// Wait list (under wait_lock). Node of thread k lives at arena.pt(k).
// ---------------------------------------------------------------------------

function ptOf(t: Task, w1: number): number {
  return t.arena.ptBase + (w1 - 1) * t.arena.ptStride;
}

function addWaiter(t: Task, sem: number): void {
  const i32 = t.i32;
  const me1 = t.tid + 1;
  i32[t.base + T_WAITER_NEXT] = 0;
  const tail = i32[sem + RW_TAIL];
  if (tail === 0) i32[sem + RW_HEAD] = me1;
  else i32[ptOf(t, tail) + T_WAITER_NEXT] = me1;
  i32[sem + RW_TAIL] = me1;
}

/** Unlink waiter w1 (tid + 1); returns its predecessor (0 = it was first). */
function unlinkWaiter(t: Task, sem: number, w1: number): void {
  const i32 = t.i32;
  let prev = 0;
  let cur = i32[sem + RW_HEAD];
  while (cur !== 0 && cur !== w1) {
    prev = cur;
    cur = i32[ptOf(t, cur) + T_WAITER_NEXT];
  }
  if (cur === 0) return;
  const next = i32[ptOf(t, cur) + T_WAITER_NEXT];
  if (prev === 0) i32[sem + RW_HEAD] = next;
  else i32[ptOf(t, prev) + T_WAITER_NEXT] = next;
  if (i32[sem + RW_TAIL] === w1) i32[sem + RW_TAIL] = prev;
}

/** rwsem_del_waiter(): returns true if the list is still non-empty. */
function rwsemDelWaiter(t: Task, sem: number, w1: number): boolean {
  unlinkWaiter(t, sem, w1);
  if (t.i32[sem + RW_HEAD] !== 0) return true;
  Atomics.and(t.i32, sem + RW_COUNT, ~(RWSEM_FLAG_HANDOFF | RWSEM_FLAG_WAITERS));
  return false;
}

/**
 * rwsem_mark_wake(): wake the first waiter if it is a writer (WAKE_ANY only),
 * else grant the lock to every queued reader, skipping writers (phase-fair).
 * Called with wait_lock held.
 */
function rwsemMarkWake(t: Task, sem: number, wakeType: number): void {
  const i32 = t.i32;
  const first = i32[sem + RW_HEAD];
  if (first === 0) return;
  const fb = ptOf(t, first);
  if (i32[fb + T_WAITER_TYPE] === WAITING_FOR_WRITE) {
    if (wakeType === WAKE_ANY) wakeUpProcess(i32, fb);
    return;
  }
  let adjustment = 0;
  if (wakeType !== WAKE_READ_OWNED) {
    adjustment = RWSEM_READER_BIAS;
    const old = Atomics.add(i32, sem + RW_COUNT, adjustment);
    if ((old & RWSEM_WRITER_LOCKED) !== 0) {
      // A writer stole the lock: undo, and request handoff if the first waiter timed out.
      if (t.now() > t.f64[(fb + T_F_WAITER_TIMEOUT) >> 1]) {
        if ((old & RWSEM_FLAG_HANDOFF) === 0) adjustment -= RWSEM_FLAG_HANDOFF;
        i32[fb + T_WAITER_HANDOFF] = 1;
      }
      Atomics.sub(i32, sem + RW_COUNT, adjustment);
      return;
    }
    Atomics.store(i32, sem + RW_OWNER, first | RWSEM_READER_OWNED);
  }
  // Move up to MAX_READERS_WAKEUP readers to the wake list (linked through T_WAITER_NEXT).
  let woken = 0;
  let wakeHead = 0;
  let wakeTail = 0;
  let prev = 0;
  let cur = first;
  while (cur !== 0) {
    const cb = ptOf(t, cur);
    const next = i32[cb + T_WAITER_NEXT];
    if (i32[cb + T_WAITER_TYPE] === WAITING_FOR_READ) {
      if (prev === 0) i32[sem + RW_HEAD] = next;
      else i32[ptOf(t, prev) + T_WAITER_NEXT] = next;
      if (i32[sem + RW_TAIL] === cur) i32[sem + RW_TAIL] = prev;
      i32[cb + T_WAITER_NEXT] = 0;
      if (wakeTail === 0) wakeHead = cur;
      else i32[ptOf(t, wakeTail) + T_WAITER_NEXT] = cur;
      wakeTail = cur;
      if (++woken >= MAX_READERS_WAKEUP) break;
    } else {
      prev = cur;
    }
    cur = next;
  }
  adjustment = woken * RWSEM_READER_BIAS - adjustment;
  const oldcount = Atomics.load(i32, sem + RW_COUNT);
  if (i32[sem + RW_HEAD] === 0) {
    adjustment -= RWSEM_FLAG_WAITERS;
    if ((oldcount & RWSEM_FLAG_HANDOFF) !== 0) adjustment -= RWSEM_FLAG_HANDOFF;
  } else if (woken !== 0 && (oldcount & RWSEM_FLAG_HANDOFF) !== 0) {
    adjustment -= RWSEM_FLAG_HANDOFF;
  }
  if (adjustment !== 0) Atomics.add(i32, sem + RW_COUNT, adjustment);
  // Grant: clear waiter.task (store-release) and wake, reading next first.
  cur = wakeHead;
  while (cur !== 0) {
    const cb = ptOf(t, cur);
    const next = i32[cb + T_WAITER_NEXT];
    Atomics.store(i32, cb + T_WAITER_TASK, 0);
    wakeUpProcess(i32, cb);
    cur = next;
  }
}

/** rwsem_cond_wake_waiter(). */
function rwsemCondWakeWaiter(t: Task, sem: number, count: number): void {
  if ((count & RWSEM_WRITER_LOCKED) !== 0) return;
  rwsemMarkWake(t, sem, (count & RWSEM_READER_MASK) !== 0 ? WAKE_READERS : WAKE_ANY);
}

/** rwsem_del_wake_waiter(): dequeue after a killable wait gave up. */
function rwsemDelWakeWaiter(t: Task, sem: number, w1: number): void {
  const first = t.i32[sem + RW_HEAD] === w1;
  if (rwsemDelWaiter(t, sem, w1) && first) rwsemMarkWake(t, sem, WAKE_ANY);
}

/** rwsem_wake(): called by up_read/up_write when waiters are present. */
function rwsemWake(t: Task, sem: number): void {
  rawSpinLock(t, sem + RW_WAIT_LOCK);
  if (t.i32[sem + RW_HEAD] !== 0) rwsemMarkWake(t, sem, WAKE_ANY);
  rawSpinUnlock(t, sem + RW_WAIT_LOCK);
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
  lockdepAcquire(t, sem, i32[sem + RW_CLASS], MODE_READ);
  const old = Atomics.add(i32, sem + RW_COUNT, RWSEM_READER_BIAS);
  if ((old & readFailedMask(t.bugs0)) === 0) {
    Atomics.store(i32, sem + RW_OWNER, (t.tid + 1) | RWSEM_READER_OWNED);
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
    Atomics.store(i32, sem + RW_OWNER, me1 | RWSEM_READER_OWNED);
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
      Atomics.store(i32, sem + RW_OWNER, me1 | RWSEM_READER_OWNED);
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
      schedule(t, snap);
    }
  } finally {
    waitEnd(t, cls, since, !ok);
  }
  if (!ok) return EINTR;
  lockAcquired(t, sem, cls, MODE_READ);
  return 0;
}

/** down_read(): uninterruptible (only a run abort unwinds it). */
export function downRead(t: Task, sem: number): void {
  downReadCommon(t, sem, UNINTERRUPTIBLE);
}

/** down_read_killable(): returns 0, or -EINTR if killed / `timeoutMs` passed while queued. */
export function downReadKillable(t: Task, sem: number, timeoutMs: number = Infinity): number {
  return downReadCommon(t, sem, timeoutMs === Infinity ? Infinity : t.now() + timeoutMs);
}

/** down_read_trylock(): fails if anyone holds it for write or is queued. */
export function downReadTrylock(t: Task, sem: number): boolean {
  const i32 = t.i32;
  const mask = readFailedMask(t.bugs0);
  let c = Atomics.load(i32, sem + RW_COUNT);
  while ((c & mask) === 0) {
    const seen = Atomics.compareExchange(i32, sem + RW_COUNT, c, c + RWSEM_READER_BIAS);
    if (seen === c) {
      Atomics.store(i32, sem + RW_OWNER, (t.tid + 1) | RWSEM_READER_OWNED);
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
  const old = Atomics.sub(i32, sem + RW_COUNT, RWSEM_READER_BIAS);
  if ((old & RWSEM_READER_MASK) === 0) t.violation(Viol.RwsemCountCorrupt, sem, old, 0, 0, 0);
  const tmp = old - RWSEM_READER_BIAS;
  if ((tmp & (RWSEM_LOCK_MASK | RWSEM_FLAG_WAITERS)) === RWSEM_FLAG_WAITERS) rwsemWake(t, sem);
}

// ---------------------------------------------------------------------------
// Write side.
// ---------------------------------------------------------------------------

/** rwsem_try_write_lock(): called with wait_lock held by a queued writer. */
function rwsemTryWriteLock(t: Task, sem: number): boolean {
  const i32 = t.i32;
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
      Atomics.store(i32, sem + RW_OWNER, me1);
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
      Atomics.store(i32, sem + RW_OWNER, me1);
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
      schedule(t, snap, i32[b + T_WAITER_HANDOFF] !== 0 ? 1 : RWSEM_WAIT_TIMEOUT_MS + 1);
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
  lockdepAcquire(t, sem, i32[sem + RW_CLASS], MODE_WRITE);
  if ((t.bugs0 & BUG_RWSEM_WRITE_IGNORES_READERS) !== 0) {
    // Bug: the fast path only checks the writer bit, not the readers.
    const old = Atomics.or(i32, sem + RW_COUNT, RWSEM_WRITER_LOCKED);
    if ((old & RWSEM_WRITER_LOCKED) === 0) {
      Atomics.store(i32, sem + RW_OWNER, t.tid + 1);
      lockAcquired(t, sem, i32[sem + RW_CLASS], MODE_WRITE);
      return 0;
    }
  } else if (Atomics.compareExchange(i32, sem + RW_COUNT, 0, RWSEM_WRITER_LOCKED) === 0) {
    Atomics.store(i32, sem + RW_OWNER, t.tid + 1);
    lockAcquired(t, sem, i32[sem + RW_CLASS], MODE_WRITE);
    return 0;
  }
  return rwsemDownWriteSlowpath(t, sem, deadline);
}

/** down_write(): uninterruptible. */
export function downWrite(t: Task, sem: number): void {
  downWriteCommon(t, sem, UNINTERRUPTIBLE);
}

/** down_write_killable(): returns 0 or -EINTR. */
export function downWriteKillable(t: Task, sem: number, timeoutMs: number = Infinity): number {
  return downWriteCommon(t, sem, timeoutMs === Infinity ? Infinity : t.now() + timeoutMs);
}

/** down_write_trylock(): needs count == 0. */
export function downWriteTrylock(t: Task, sem: number): boolean {
  const i32 = t.i32;
  if (Atomics.compareExchange(i32, sem + RW_COUNT, 0, RWSEM_WRITER_LOCKED) === 0) {
    Atomics.store(i32, sem + RW_OWNER, t.tid + 1);
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
  Atomics.store(i32, sem + RW_OWNER, 0);
  const old = Atomics.sub(i32, sem + RW_COUNT, RWSEM_WRITER_LOCKED);
  if ((old & RWSEM_FLAG_WAITERS) !== 0) rwsemWake(t, sem);
}

/** downgrade_write(): writer bit → one reader bias; wake queued readers only. */
export function downgradeWrite(t: Task, sem: number): void {
  const i32 = t.i32;
  lockDowngraded(t, sem, i32[sem + RW_CLASS]);
  Atomics.store(i32, sem + RW_OWNER, (t.tid + 1) | RWSEM_READER_OWNED);
  const old = Atomics.add(i32, sem + RW_COUNT, RWSEM_READER_BIAS - RWSEM_WRITER_LOCKED);
  if ((old & RWSEM_FLAG_WAITERS) !== 0) {
    rawSpinLock(t, sem + RW_WAIT_LOCK);
    if (i32[sem + RW_HEAD] !== 0) rwsemMarkWake(t, sem, WAKE_READ_OWNED);
    rawSpinUnlock(t, sem + RW_WAIT_LOCK);
  }
}

/** Threads queued on the rwsem, first to last (for reports). */
export function rwsemWaiters(arena: { i32: Int32Array; ptBase: number; ptStride: number }, sem: number): number[] {
  const out: number[] = [];
  let cur = arena.i32[sem + RW_HEAD];
  let guard = 0;
  while (cur !== 0 && guard++ < 4096) {
    out.push(cur - 1);
    cur = arena.i32[arena.ptBase + (cur - 1) * arena.ptStride + T_WAITER_NEXT];
  }
  return out;
}
