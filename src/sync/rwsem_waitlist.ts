import { BUG_RWSEM_LOST_WRITER_WAKE } from '../shm/bugbits.js';
import type { Task } from '../shm/task.js';
import {
  RW_COUNT, RW_OWNER, RW_LAST_RELEASE, RW_WAIT_LOCK, RW_HEAD, RW_TAIL, RW_CLASS, T_WAITER_TASK, T_WAITER_NEXT, T_WAITER_TYPE,
  T_WAITER_HANDOFF, T_F_WAITER_TIMEOUT,
} from '../shm/layout.js';
import { Viol } from '../shm/kinds.js';
import { rawSpinLock, rawSpinUnlock, rawSpinIsHeld } from './spinlock.js';
import { AH_RWSEM_MARK_WAKE } from './lockdep.js';
import { wakeUpProcess } from './sched.js';

/*
 * The rwsem's count layout, owner word and FIFO wait list
 * (kernel/locking/rwsem.c: the constants, rwsem_set_owner and friends,
 * rwsem_add_waiter/rwsem_del_waiter, rwsem_mark_wake). rwsem.ts has the
 * lock and unlock paths that use them.
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

export const WAITING_FOR_READ = 0;
export const WAITING_FOR_WRITE = 1;
export const WAKE_ANY = 0;
export const WAKE_READERS = 1;
export const WAKE_READ_OWNED = 2;

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

/** rwsem_set_owner(): the writer that holds it (store-release of tid + 1). */
export function rwsemSetOwner(t: Task, sem: number): void {
  Atomics.store(t.i32, sem + RW_OWNER, t.tid + 1);
}

/** rwsem_set_reader_owned(): advisory, the last reader to take it (tid + 1). */
export function rwsemSetReaderOwned(i32: Int32Array, sem: number, tid1: number): void {
  // atomic_long_set() is a plain store in the kernel; readers of the word only
  // steer spinning. Stored only when it changes, so a reader re-taking its own
  // lock does not write the line.
  const v = tid1 | RWSEM_READER_OWNED;
  if (i32[sem + RW_OWNER] !== v) i32[sem + RW_OWNER] = v;
}

/**
 * Record `tid1` as the last releaser (the lost-wake-up report's diagnostic
 * word): stored only when it changes; the caller's count RMW publishes it.
 */
export function rwsemSetLastRelease(i32: Int32Array, sem: number, tid1: number): void {
  if (i32[sem + RW_LAST_RELEASE] !== tid1) i32[sem + RW_LAST_RELEASE] = tid1;
}

/** rwsem_clear_owner(). */
export function rwsemClearOwner(i32: Int32Array, sem: number): void {
  Atomics.store(i32, sem + RW_OWNER, 0);
}

/** lockdep_assert_held(&sem->wait_lock) in `caller` (an AH_* name); free under --no-check. */
export function assertWaitLockHeld(t: Task, sem: number, caller: number): void {
  if (t.checks && !rawSpinIsHeld(t, sem + RW_WAIT_LOCK)) t.violation(Viol.LockNotHeld, sem + RW_WAIT_LOCK, sem + RW_WAIT_LOCK, t.i32[sem + RW_CLASS], caller, 0);
}

// ---------------------------------------------------------------------------
// Wait list (under wait_lock). Node of thread k lives at arena.pt(k).
// ---------------------------------------------------------------------------

export function ptOf(t: Task, w1: number): number {
  return t.arena.ptBase + (w1 - 1) * t.arena.ptStride;
}

export function addWaiter(t: Task, sem: number): void {
  const i32 = t.i32;
  const me1 = t.tid + 1;
  i32[t.base + T_WAITER_NEXT] = 0;
  const tail = i32[sem + RW_TAIL];
  if (tail === 0) i32[sem + RW_HEAD] = me1;
  else i32[ptOf(t, tail) + T_WAITER_NEXT] = me1;
  i32[sem + RW_TAIL] = me1;
}

/** Unlink waiter w1 (tid + 1); returns its predecessor (0 = it was first). */
export function unlinkWaiter(t: Task, sem: number, w1: number): void {
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
export function rwsemDelWaiter(t: Task, sem: number, w1: number): boolean {
  unlinkWaiter(t, sem, w1);
  if (t.i32[sem + RW_HEAD] !== 0) return true;
  Atomics.and(t.i32, sem + RW_COUNT, ~(RWSEM_FLAG_HANDOFF | RWSEM_FLAG_WAITERS));
  return false;
}

/**
 * rwsem_mark_wake(): wake the first waiter if it is a writer (WAKE_ANY only),
 * else grant the lock to every queued reader, skipping writers (phase-fair).
 * Called with wait_lock held (asserted).
 */
export function rwsemMarkWake(t: Task, sem: number, wakeType: number): void {
  const i32 = t.i32;
  assertWaitLockHeld(t, sem, AH_RWSEM_MARK_WAKE);
  const first = i32[sem + RW_HEAD];
  if (first === 0) return;
  const fb = ptOf(t, first);
  if (i32[fb + T_WAITER_TYPE] === WAITING_FOR_WRITE) {
    // Bug switch: the first writer is not woken (its wake-up is lost).
    if (wakeType === WAKE_ANY && (t.bugs0 & BUG_RWSEM_LOST_WRITER_WAKE) === 0) wakeUpProcess(t, fb);
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
    rwsemSetReaderOwned(i32, sem, first);
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
    wakeUpProcess(t, cb);
    cur = next;
  }
}

/** rwsem_cond_wake_waiter(). */
export function rwsemCondWakeWaiter(t: Task, sem: number, count: number): void {
  if ((count & RWSEM_WRITER_LOCKED) !== 0) return;
  rwsemMarkWake(t, sem, (count & RWSEM_READER_MASK) !== 0 ? WAKE_READERS : WAKE_ANY);
}

/** rwsem_del_wake_waiter(): dequeue after a killable wait gave up. */
export function rwsemDelWakeWaiter(t: Task, sem: number, w1: number): void {
  const first = t.i32[sem + RW_HEAD] === w1;
  if (rwsemDelWaiter(t, sem, w1) && first) rwsemMarkWake(t, sem, WAKE_ANY);
}

/** rwsem_wake(): called by up_read/up_write when waiters are present. */
export function rwsemWake(t: Task, sem: number): void {
  rawSpinLock(t, sem + RW_WAIT_LOCK);
  if (t.i32[sem + RW_HEAD] !== 0) rwsemMarkWake(t, sem, WAKE_ANY);
  rawSpinUnlock(t, sem + RW_WAIT_LOCK);
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
