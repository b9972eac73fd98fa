import type { Task } from '../shm/task.js';
import {
  T_HELD, T_HELD_DEPTH, HELD_MAX, HELD_W, HE_LOCK, HE_INFO, HE_T_F64, LS_F64S, LS_ACQ,
  LS_CONTENDED, LS_WAIT_SUM, LS_WAIT_MAX, LS_HOLD_SUM, LS_HOLD_N, LS_HOLD_MAX, LS_FAILED,
  T_WAIT_LOCK, T_WAIT_INFO, T_F_WAIT_SINCE, H_LOCKDEP_BASE, MAX_LOCK_CLASSES, H_DEBUG_LOCKS_OFF, T_WAIT_HIST, WH_BUCKETS,
  T_HOLD_HIST, T_RHOLD_HIST, T_F_WOKEN_AT,
} from '../shm/layout.js';
import { LC_MMAP_LOCK, LC_VMA_LOCK, MODE_READ } from './lockclass.js';
import { Viol } from '../shm/kinds.js';

/**
 * Lockdep and lock_stat hooks (kernel/locking/lockdep.c lock_acquire /
 * lock_release, lock_stat's contention accounting). Every primitive calls
 * them; they keep the per-thread held-lock stack in the arena, which the
 * watchdog reads to build the wait-for graph and which the lockdep validator
 * (src/check) reads to build the dependency graph.
 */

/**
 * lock_acquired(): push the lock on the held stack (what the wait-for graph
 * and the lock assertions read, kept under --no-check too) and, with the
 * checks on, lock_stat's acquisition count and a 1-in-16 hold-time stamp
 * (CONFIG_LOCK_STAT rides on lockdep, as in the kernel). Small enough to be
 * inlined into every primitive's fast path.
 */
export function lockAcquired(t: Task, lock: number, cls: number, mode: number): void {
  const i32 = t.i32;
  const b = t.base;
  const d = i32[b + T_HELD_DEPTH];
  if (d >= HELD_MAX) {
    t.violation(Viol.HeldStackOverflow, lock, d, 0, 0, 0);
  } else {
    const e = b + T_HELD + d * HELD_W;
    i32[e + HE_LOCK] = lock;
    i32[e + HE_INFO] = cls | (mode << 8) | (t.lockSubclass << 12);
    if (t.checks) lockStatAcquired(t, e, cls);
  }
  t.lockSubclass = 0;
  i32[b + T_HELD_DEPTH] = d + 1;
}

/** lock_stat's half of lock_acquired(): count it, stamp 1 in 16 acquisitions for the hold time. */
function lockStatAcquired(t: Task, e: number, cls: number): void {
  t.f64[t.lsBase + cls * LS_F64S + LS_ACQ] += 1;
  if (--t.holdSample < 0) {
    t.holdSample = 15;
    t.f64[(e + HE_T_F64) >> 1] = t.now();
  } else {
    t.f64[(e + HE_T_F64) >> 1] = 0;
  }
}

/** lock_stat's half of lock_release(): account the hold time of a stamped entry. */
function lockStatReleased(t: Task, e: number, cls: number, mode: number): void {
  const t0 = t.f64[(e + HE_T_F64) >> 1];
  if (t0 <= 0) return;
  const held = t.now() - t0;
  const s = t.lsBase + cls * LS_F64S;
  const f = t.f64;
  f[s + LS_HOLD_SUM] += held;
  f[s + LS_HOLD_N] += 1;
  if (held > f[s + LS_HOLD_MAX]) f[s + LS_HOLD_MAX] = held;
  t.i32[t.base + (mode === MODE_READ ? T_RHOLD_HIST : T_HOLD_HIST) + cls * WH_BUCKETS + timeBucket(held)]++;
}

/**
 * lock_release(): pop the lock from the held stack. A release of a lock this
 * thread does not hold in that mode is lockdep's "bad unlock balance".
 * Returns false in that case (the caller still performs the release, as a
 * production kernel would). The LIFO release of the top entry is the inlined
 * fast path; the rest is lockReleasedSlow().
 */
export function lockReleased(t: Task, lock: number, cls: number, mode: number): boolean {
  const i32 = t.i32;
  const b = t.base;
  const d = i32[b + T_HELD_DEPTH];
  if (d > 0 && d <= HELD_MAX) {
    const e = b + T_HELD + (d - 1) * HELD_W;
    if (i32[e + HE_LOCK] === lock && ((i32[e + HE_INFO] >> 8) & 0xf) === mode) {
      if (t.checks) lockStatReleased(t, e, cls, mode);
      i32[b + T_HELD_DEPTH] = d - 1;
      return true;
    }
  }
  return lockReleasedSlow(t, lock, cls, mode, d);
}

/** lock_release() of a lock below the top of the held stack (or with the stack overflowed or empty). */
function lockReleasedSlow(t: Task, lock: number, cls: number, mode: number, d: number): boolean {
  const i32 = t.i32;
  const b = t.base;
  const top = d < HELD_MAX ? d : HELD_MAX;
  for (let k = top - 1; k >= 0; k--) {
    const e = b + T_HELD + k * HELD_W;
    if (i32[e + HE_LOCK] === lock && ((i32[e + HE_INFO] >> 8) & 0xf) === mode) {
      if (t.checks) lockStatReleased(t, e, cls, mode);
      // Close the gap.
      for (let j = k + 1; j < top; j++) {
        const src = b + T_HELD + j * HELD_W;
        const dst = src - HELD_W;
        i32[dst] = i32[src];
        i32[dst + 1] = i32[src + 1];
        t.f64[(dst + HE_T_F64) >> 1] = t.f64[(src + HE_T_F64) >> 1];
      }
      i32[b + T_HELD_DEPTH] = d - 1;
      return true;
    }
  }
  if (d > HELD_MAX) {
    // The lock may be above the recorded part of an overflowed stack.
    i32[b + T_HELD_DEPTH] = d - 1;
    return true;
  }
  if (t.directAsserts) t.violation(Viol.BadUnlockBalance, lock, cls, mode, 0, 0);
  return false;
}

/** Change the mode of a held lock (downgrade_write). */
export function lockDowngraded(t: Task, lock: number, cls: number): void {
  const i32 = t.i32;
  const b = t.base;
  const top = Math.min(i32[b + T_HELD_DEPTH], HELD_MAX);
  for (let k = top - 1; k >= 0; k--) {
    const e = b + T_HELD + k * HELD_W;
    if (i32[e + HE_LOCK] === lock) {
      i32[e + HE_INFO] = cls | (1 << 8);
      return;
    }
  }
}

/** Does this thread hold `lock` (any mode)? lockdep_is_held(). */
export function lockIsHeld(t: Task, lock: number): boolean {
  const i32 = t.i32;
  const b = t.base;
  const top = Math.min(i32[b + T_HELD_DEPTH], HELD_MAX);
  for (let k = top - 1; k >= 0; k--) if (i32[b + T_HELD + k * HELD_W + HE_LOCK] === lock) return true;
  return false;
}

/** Callers named by lockdepAssertHeld (the splat's "caller" argument). */
export const AH_FIND_VMA = 1;
export const AH_WP_CAN_REUSE = 2;
export const AH_RWSEM_MARK_WAKE = 3;
export const AH_RWSEM_TRY_WRITE_LOCK = 4;
export const AH_SET_PTE = 5;
export const AH_VMA_SET_RANGE = 6;
export const AH_ANON_VMA_CHAIN_LINK = 7;
export const AH_NAMES: readonly string[] = ['', 'find_vma', 'wp_can_reuse_anon_folio', 'rwsem_mark_wake', 'rwsem_try_write_lock', 'set_pte_at', 'vma_set_range (anon_vma_lock_write)', 'anon_vma_chain_link'];

/**
 * lockdep_assert_held(): the caller must hold `lock` (any mode); a
 * violation otherwise. Free under --no-check. Returns whether it held.
 */
export function lockdepAssertHeld(t: Task, lock: number, cls: number, caller: number): boolean {
  if (!t.directAsserts || lockIsHeld(t, lock)) return true;
  t.violation(Viol.LockNotHeld, lock, lock, cls, caller, 0);
  return false;
}

/** Record what this thread is about to wait for (DESIGN.md rule 4). */
export function waitBegin(t: Task, lock: number, cls: number, mode: number, kind: number): number {
  const now = t.now();
  t.i32[t.base + T_WAIT_INFO] = cls | (mode << 8) | (kind << 12);
  t.f64[(t.base + T_F_WAIT_SINCE) >> 1] = now;
  t.f64[(t.base + T_F_WOKEN_AT) >> 1] = 0; // a wake stamped before this wait is not its wake-up
  Atomics.store(t.i32, t.base + T_WAIT_LOCK, lock + 1);
  return now;
}

/** The wait is over: account it as a contention of `cls`. */
export function waitEnd(t: Task, cls: number, since: number, failed: boolean): void {
  Atomics.store(t.i32, t.base + T_WAIT_LOCK, 0);
  const waited = t.now() - since;
  const s = t.lsBase + cls * LS_F64S;
  const f = t.f64;
  f[s + LS_CONTENDED] += 1;
  f[s + LS_WAIT_SUM] += waited;
  if (waited > f[s + LS_WAIT_MAX]) f[s + LS_WAIT_MAX] = waited;
  if (failed) f[s + LS_FAILED] += 1;
  // HDR-style log2 histogram of the wait (contended path only).
  t.i32[t.base + T_WAIT_HIST + cls * WH_BUCKETS + timeBucket(waited)]++;
}

/** The log2 histogram bucket of a duration in ms: 0 under 0.25 us, b >= 1 for [2^(b-1), 2^b) / 4 us. */
export function timeBucket(ms: number): number {
  const q = ms * 4000; // quarter microseconds
  return q < 1 ? 0 : Math.min(WH_BUCKETS - 1, 1 + Math.floor(Math.log2(q)));
}

/** Upper bound (microseconds) of wait-histogram bucket b. */
export function waitBucketUpperUs(b: number): number {
  return b === 0 ? 0.25 : 2 ** b / 4;
}

/** Count a failed trylock. */
export function lockFailed(t: Task, cls: number): void {
  t.f64[t.lsBase + cls * LS_F64S + LS_FAILED] += 1;
}

// ---------------------------------------------------------------------------
// The validator (kernel/locking/lockdep.c, reduced): checked at every blocking
// acquisition, before the thread may sleep, so it reports a deadlock that
// *could* happen, not one that did.
// ---------------------------------------------------------------------------

const dfsStack = new Int32Array(MAX_LOCK_CLASSES);

/** Is class `to` reachable from class `from` in the dependency matrix? */
function reachable(i32: Int32Array, ld: number, from: number, to: number): boolean {
  let seen = 1 << from;
  let sp = 0;
  dfsStack[sp++] = from;
  while (sp > 0) {
    const u = dfsStack[--sp];
    if (u === to) return true;
    const row = ld + u * MAX_LOCK_CLASSES;
    for (let v = 0; v < MAX_LOCK_CLASSES; v++) {
      if (i32[row + v] !== 0 && (seen & (1 << v)) === 0) {
        seen |= 1 << v;
        dfsStack[sp++] = v;
      }
    }
  }
  return false;
}

/** Lockdep reports once per run, then turns itself off (debug_locks_off()). */
function lockdepReport(t: Task, kind: number, a: number, b: number, c: number): void {
  if (Atomics.compareExchange(t.i32, H_DEBUG_LOCKS_OFF, 0, 1) === 0) t.violation(kind, a, a, b, c, 0);
}

/**
 * lock_acquire() validation for a blocking acquisition of `lock` (class
 * `cls`, `mode`, subclass t.lockSubclass): recursive locking of a held lock
 * (a recursive down_read of a writer-preferring rwsem deadlocks once a
 * writer queues), blocking on mmap_lock with a VMA read lock held, and a new
 * class dependency that closes a cycle. Same-class nesting must be
 * annotated, as the kernel's (spin_lock_nested(.., SINGLE_DEPTH_NESTING) for
 * the second PTE lock, mmap_write_lock_nested() for fork's child): a lock of
 * a held class taken with a subclass not above the held one's is "possible
 * recursive locking" (an unannotated or inverted nesting).
 */
export function lockdepAcquire(t: Task, lock: number, cls: number, mode: number): void {
  if (!t.checks) return;
  const i32 = t.i32;
  const b = t.base;
  const d = i32[b + T_HELD_DEPTH];
  if (d === 0) return;
  const top = d < HELD_MAX ? d : HELD_MAX;
  const ld = i32[H_LOCKDEP_BASE];
  for (let k = 0; k < top; k++) {
    const e = b + T_HELD + k * HELD_W;
    const hl = i32[e + HE_LOCK];
    const hcls = i32[e + HE_INFO] & 0xff;
    if (hl === lock) {
      lockdepReport(t, Viol.RecursiveLocking, lock, cls, mode);
      continue;
    }
    if (hcls === LC_VMA_LOCK && cls === LC_MMAP_LOCK) lockdepReport(t, Viol.MmapLockUnderVmaLock, lock, hl, 0);
    if (hcls === cls) {
      if (((i32[e + HE_INFO] >> 12) & 0xf) >= t.lockSubclass) lockdepReport(t, Viol.RecursiveLocking, lock, cls, mode);
      continue;
    }
    const idx = ld + hcls * MAX_LOCK_CLASSES + cls;
    if (i32[idx] === 0) {
      Atomics.store(i32, idx, 1);
      if (reachable(i32, ld, cls, hcls)) lockdepReport(t, Viol.CircularDependency, hcls, cls, 0);
    }
  }
}

/**
 * might_fault() / might_lock_read(&mm->mmap_lock): a user access that may
 * fault must not happen with mmap_lock or a VMA lock held (the fault would
 * take mmap_lock recursively, B7). Returns true if it was reported.
 */
export function mightFault(t: Task): boolean {
  if (!t.directAsserts) return false;
  const i32 = t.i32;
  const b = t.base;
  const top = Math.min(i32[b + T_HELD_DEPTH], HELD_MAX);
  for (let k = 0; k < top; k++) {
    const e = b + T_HELD + k * HELD_W;
    const hcls = i32[e + HE_INFO] & 0xff;
    if (hcls === LC_MMAP_LOCK || hcls === LC_VMA_LOCK) {
      lockdepReport(t, Viol.MightFaultLocked, i32[e + HE_LOCK], hcls, 0);
      return true;
    }
  }
  return false;
}
