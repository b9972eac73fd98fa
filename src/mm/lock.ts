import { Viol } from '../shm/kinds.js';
import {
  downRead, downReadKillable, downReadTrylock, upRead, downWrite, downWriteKillable, upWrite, downgradeWrite,
  rwsemIsLocked, rwsemWriteOwner,
} from '../sync/rwsem.js';
import { refcountIncNotZeroLimited, refcountAddNotZero } from '../sync/refcount.js';
import { lockAcquired, lockReleased, waitBegin, waitEnd } from '../sync/lockdep.js';
import { LC_VMA_LOCK, MODE_READ, MODE_WRITE, WAIT_LOCK } from '../sync/lockclass.js';
import { prepareToWait, schedule, wakeUpProcess } from '../sync/sched.js';
import { rcuReadLock, rcuReadUnlock } from '../sync/rcu.js';
import type { MmCtx } from './model.js';
import { ERA_E1, ERA_E3 } from './model.js';
import {
  MM_MMAP_LOCK, MM_LOCK_SEQ, MM_COUNT, MM_WRITER_WAIT, VMA_LOCK, VMA_REFCNT, VMA_DETACHED, VMA_LOCK_SEQ, VMA_MM,
  VMA_START, VMA_END, VMA_WRITE_STARTED, VMA_ATTACH_COUNT, VMA_LOCK_OFFSET, VMA_REF_LIMIT, MC_VMA_LOCK_ABORT,
  MC_VMA_LOCK_MISS, MC_VMA_FOREIGN,
} from './layout.js';
import { mtWalk } from './tree.js';
import { lockIsHeld } from '../sync/lockdep.js';
import {
  BUG1_B3_NO_MM_CHECK, BUG1_B3_NO_RANGE_CHECK, BUG1_B3_DETACH_NO_WAIT, BUG1_B5A_ANON_CHECK_BEFORE_LOCK,
  BUG1_END_WRITE_ALL_NO_ADVANCE,
} from '../shm/bugbits.js';
import {
  delayPoint, vmaIdentityRecord, vmaIdentityCheck, W_WALK_TO_LOCK, W_LOCK_TO_RECHECK, W_ANON_CHECK, W_INC_TO_CHECK, EV_VMA_LOCKED,
  EV_VMA_LOCK_FAIL, EV_START_WRITE, EV_DETACH, EV_ATTACH,
} from './debug.js';
import { VMA_ANON_VMA, VMA_FILE, OBJ_GEN } from './layout.js';

/*
 * mmap_lock and the per-VMA lock (include/linux/mmap_lock.h, mm/mmap_lock.c)
 * in both representations: E1/E2 (rwsem + detached, 6.4–6.14) and E3
 * (vm_refcnt, 6.15+). A writer never unlocks single VMAs: it marks them with
 * the mm's sequence and all marks end together at mmap_write_unlock.
 */

// ---------------------------------------------------------------------------
// mmap_lock
// ---------------------------------------------------------------------------

/** mmap_read_lock(). */
export function mmapReadLock(c: MmCtx, mm: number): void {
  downRead(c.t, mm + MM_MMAP_LOCK);
}

/** mmap_read_lock_killable(): 0 or -EINTR. */
export function mmapReadLockKillable(c: MmCtx, mm: number, timeoutMs?: number): number {
  return downReadKillable(c.t, mm + MM_MMAP_LOCK, timeoutMs);
}

/** mmap_read_trylock(). */
export function mmapReadTrylock(c: MmCtx, mm: number): boolean {
  return downReadTrylock(c.t, mm + MM_MMAP_LOCK);
}

/** mmap_read_unlock(). */
export function mmapReadUnlock(c: MmCtx, mm: number): void {
  upRead(c.t, mm + MM_MMAP_LOCK);
}

/** mm_lock_seqcount_begin() (E2+): mm_lock_seq becomes odd for the write section. */
function mmLockSeqcountBegin(c: MmCtx, mm: number): void {
  if (c.era !== ERA_E1) Atomics.add(c.i32, mm + MM_LOCK_SEQ, 1);
}

/** mmap_write_lock(). */
export function mmapWriteLock(c: MmCtx, mm: number): void {
  downWrite(c.t, mm + MM_MMAP_LOCK);
  mmLockSeqcountBegin(c, mm);
}

/** mmap_write_lock_killable(): 0 or -EINTR. */
export function mmapWriteLockKillable(c: MmCtx, mm: number, timeoutMs?: number): number {
  const r = downWriteKillable(c.t, mm + MM_MMAP_LOCK, timeoutMs);
  if (r === 0) mmLockSeqcountBegin(c, mm);
  return r;
}

/**
 * vma_end_write_all(): drop every VMA write mark at once. E1: store-release
 * of mm_lock_seq + 1 (since the 6.5 fix); E2/E3: end of the seqcount write
 * section (even again).
 */
export function vmaEndWriteAll(c: MmCtx, mm: number): void {
  mmapAssertWriteLocked(c, mm);
  if ((c.t.bugs1 & BUG1_END_WRITE_ALL_NO_ADVANCE) !== 0) return;
  Atomics.add(c.i32, mm + MM_LOCK_SEQ, 1);
}

/** mmap_write_unlock(). */
export function mmapWriteUnlock(c: MmCtx, mm: number): void {
  vmaEndWriteAll(c, mm);
  upWrite(c.t, mm + MM_MMAP_LOCK);
}

/** mmap_write_downgrade(). */
export function mmapWriteDowngrade(c: MmCtx, mm: number): void {
  vmaEndWriteAll(c, mm);
  downgradeWrite(c.t, mm + MM_MMAP_LOCK);
}

/** mmap_assert_locked(): VM_BUG_ON_MM(!rwsem_is_locked(&mm->mmap_lock)). */
export function mmapAssertLocked(c: MmCtx, mm: number): boolean {
  // lockdep_assert_held() and VM_BUG_ON_MM(!rwsem_is_locked()).
  if (rwsemIsLocked(c.i32, mm + MM_MMAP_LOCK) && lockIsHeld(c.t, mm + MM_MMAP_LOCK)) return true;
  c.t.violation(Viol.MmapAssertLocked, mm, c.mmSlot(mm), Atomics.load(c.i32, mm + MM_MMAP_LOCK), 0, 0);
  return false;
}

/** mmap_assert_write_locked(). */
export function mmapAssertWriteLocked(c: MmCtx, mm: number): boolean {
  const owner = rwsemWriteOwner(c.i32, mm + MM_MMAP_LOCK);
  if (owner === c.t.tid) return true;
  c.t.violation(Viol.MmapAssertWriteLocked, mm, c.mmSlot(mm), owner, 0, 0);
  return false;
}

/** mmgrab(): pin the mm_struct. */
export function mmgrab(c: MmCtx, mm: number): void {
  Atomics.add(c.i32, mm + MM_COUNT, 1);
}

/** mmdrop(). */
export function mmdrop(c: MmCtx, mm: number): void {
  Atomics.sub(c.i32, mm + MM_COUNT, 1);
}

// ---------------------------------------------------------------------------
// Per-VMA lock.
// ---------------------------------------------------------------------------

export const VMA_READ_OK = 1;
export const VMA_READ_FAIL = 0; // fall back to mmap_lock
export const VMA_READ_EAGAIN = -1; // E3: detached (count 0): re-walk the tree

/** The current write-lock sequence of the mm (the value writers store in vm_lock_seq). */
function mmLockSeq(c: MmCtx, mm: number): number {
  return Atomics.load(c.i32, mm + MM_LOCK_SEQ);
}

/**
 * vma_start_read(). E1 (6.4–6.14): seq early bail-out, down_read_trylock,
 * re-check with acquire. E3 (6.15 mm/mmap_lock.c): inc-not-zero-limited,
 * vm_mm identity check, re-check. Never succeeds while the VMA is write-locked;
 * may fail spuriously.
 */
export function vmaStartRead(c: MmCtx, mm: number, vma: number): number {
  const i32 = c.i32;
  if (Atomics.load(i32, vma + VMA_LOCK_SEQ) === mmLockSeq(c, mm)) return VMA_READ_FAIL;
  if (c.era !== ERA_E3) {
    if (!downReadTrylock(c.t, vma + VMA_LOCK)) return VMA_READ_FAIL;
    if (Atomics.load(i32, vma + VMA_LOCK_SEQ) === mmLockSeq(c, mm)) {
      upRead(c.t, vma + VMA_LOCK);
      return VMA_READ_FAIL;
    }
    return VMA_READ_OK;
  }
  delayPoint(c, W_INC_TO_CHECK);
  const r = refcountIncNotZeroLimited(c.t, vma + VMA_REFCNT, VMA_REF_LIMIT);
  if (r < 0) return -1 - r === 0 ? VMA_READ_EAGAIN : VMA_READ_FAIL;
  lockAcquired(c.t, vma + VMA_REFCNT, LC_VMA_LOCK, MODE_READ);
  delayPoint(c, W_INC_TO_CHECK);
  // The object may have been recycled into another mm (SLAB_TYPESAFE_BY_RCU).
  const vmm = Atomics.load(i32, vma + VMA_MM) - 1;
  if (vmm !== mm) c.t.count(MC_VMA_FOREIGN);
  if (vmm !== mm && (c.t.bugs1 & BUG1_B3_NO_MM_CHECK) === 0) {
    if (vmm >= 0) mmgrab(c, vmm);
    vmaRefcountPut(c, vma, vmm);
    if (vmm >= 0) mmdrop(c, vmm);
    return VMA_READ_FAIL;
  }
  if (Atomics.load(i32, vma + VMA_LOCK_SEQ) === mmLockSeq(c, mm)) {
    vmaRefcountPut(c, vma, mm);
    return VMA_READ_FAIL;
  }
  return VMA_READ_OK;
}

/** vma_start_read_locked() (E2+): the caller holds mmap_lock for read, so no writer is active. */
export function vmaStartReadLocked(c: MmCtx, mm: number, vma: number): boolean {
  mmapAssertLocked(c, mm);
  if (c.era !== ERA_E3) {
    downRead(c.t, vma + VMA_LOCK);
    return true;
  }
  const r = refcountIncNotZeroLimited(c.t, vma + VMA_REFCNT, VMA_REF_LIMIT);
  if (r < 0) return false;
  lockAcquired(c.t, vma + VMA_REFCNT, LC_VMA_LOCK, MODE_READ);
  return true;
}

/** vma_refcount_put() (E3): copy vm_mm first; wake a writer waiting for the last reader. */
function vmaRefcountPut(c: MmCtx, vma: number, mm: number): void {
  lockReleased(c.t, vma + VMA_REFCNT, LC_VMA_LOCK, MODE_READ);
  const old = Atomics.sub(c.i32, vma + VMA_REFCNT, 1);
  const now = old - 1;
  if (now !== 0 && (now & VMA_LOCK_OFFSET) !== 0 && now <= VMA_LOCK_OFFSET + 1 && mm >= 0) {
    const w = Atomics.load(c.i32, mm + MM_WRITER_WAIT);
    if (w !== 0) wakeUpProcess(c.i32, c.t.arena.pt(w - 1));
  }
}

/** vma_end_read(). E1 wraps up_read in an RCU section: the VMA may be freed once the count drops. */
export function vmaEndRead(c: MmCtx, vma: number): void {
  vmaIdentityCheck(c, vma);
  if (c.era !== ERA_E3) {
    rcuReadLock(c.t);
    upRead(c.t, vma + VMA_LOCK);
    rcuReadUnlock(c.t);
  } else {
    vmaRefcountPut(c, vma, Atomics.load(c.i32, vma + VMA_MM) - 1);
  }
}

/**
 * rcuwait_wait_event() on mm->vma_writer_wait (E3): wait until the VMA's
 * refcount equals `target`.
 */
function vmaWaitRefcnt(c: MmCtx, mm: number, vma: number, target: number): void {
  const i32 = c.i32;
  if (Atomics.load(i32, vma + VMA_REFCNT) === target) return;
  const since = waitBegin(c.t, vma + VMA_REFCNT, LC_VMA_LOCK, MODE_WRITE, WAIT_LOCK);
  Atomics.store(i32, mm + MM_WRITER_WAIT, c.t.tid + 1);
  try {
    for (;;) {
      const snap = prepareToWait(c.t);
      if (Atomics.load(i32, vma + VMA_REFCNT) === target) break;
      schedule(c.t, snap, 2);
    }
  } finally {
    Atomics.store(i32, mm + MM_WRITER_WAIT, 0);
    waitEnd(c.t, LC_VMA_LOCK, since, false);
  }
}

/**
 * vma_start_write(): mark the VMA write-locked for this mmap write section.
 * E1: down_write/up_write on the VMA rwsem to drain readers, then mark.
 * E3: add VMA_LOCK_OFFSET, wait for readers to drain, mark, subtract.
 */
export function vmaStartWrite(c: MmCtx, mm: number, vma: number): void {
  const i32 = c.i32;
  mmapAssertWriteLocked(c, mm);
  const seq = mmLockSeq(c, mm);
  i32[vma + VMA_WRITE_STARTED]++;
  if (c.t.tracing) c.t.trace(EV_START_WRITE, vma, i32[vma + VMA_START], i32[vma + VMA_END], seq);
  if (Atomics.load(i32, vma + VMA_LOCK_SEQ) === seq) return;
  if (c.era !== ERA_E3) {
    downWrite(c.t, vma + VMA_LOCK);
    Atomics.store(i32, vma + VMA_LOCK_SEQ, seq);
    upWrite(c.t, vma + VMA_LOCK);
    return;
  }
  const locked = refcountAddNotZero(c.t, vma + VMA_REFCNT, VMA_LOCK_OFFSET) >= 0;
  if (locked) vmaWaitRefcnt(c, mm, vma, VMA_LOCK_OFFSET + 1);
  Atomics.store(i32, vma + VMA_LOCK_SEQ, seq);
  if (locked) Atomics.sub(i32, vma + VMA_REFCNT, VMA_LOCK_OFFSET);
}

/** vma_assert_write_locked(). */
export function vmaAssertWriteLocked(c: MmCtx, mm: number, vma: number): boolean {
  const seq = mmLockSeq(c, mm);
  const v = Atomics.load(c.i32, vma + VMA_LOCK_SEQ);
  if (v === seq && rwsemWriteOwner(c.i32, mm + MM_MMAP_LOCK) === c.t.tid) return true;
  c.t.violation(Viol.VmaAssertWriteLocked, vma, vma, v, seq, 0);
  return false;
}

/**
 * A store to a field of a VMA that readers may see: vm_start, vm_end,
 * vm_pgoff, vm_flags, vm_userfaultfd_ctx, and anon_vma where it is merged
 * (dup_anon_vma). include/linux/mm_types.h: written only under mmap_lock for
 * write with the VMA write-locked, as vm_flags_reset()/vma_set_range() assert
 * with vma_assert_write_locked(). A VMA not yet attached is private to the
 * thread building it and takes plain stores instead. Asserting is skipped
 * under --no-check; the store (WRITE_ONCE) is not.
 */
export function vmaSetField(c: MmCtx, mm: number, vma: number, field: number, value: number): void {
  if (c.t.checks && vmaIsAttached(c, vma)) vmaAssertWriteLocked(c, mm, vma);
  Atomics.store(c.i32, vma + field, value);
}

/** Is the VMA attached (in the tree)? */
export function vmaIsAttached(c: MmCtx, vma: number): boolean {
  if (c.era === ERA_E3) return Atomics.load(c.i32, vma + VMA_REFCNT) !== 0;
  return Atomics.load(c.i32, vma + VMA_DETACHED) === 0;
}

/**
 * vma_mark_attached(): only a detached VMA may be attached (B2's assertion:
 * VM_BUG_ON_VMA(!vma->detached), later vma_assert_detached()).
 */
export function vmaMarkAttached(c: MmCtx, mm: number, vma: number): void {
  const i32 = c.i32;
  if (vmaIsAttached(c, vma)) c.t.violation(Viol.VmaAttachAttached, vma, vma, i32[vma + VMA_REFCNT], 0, 0);
  i32[vma + VMA_ATTACH_COUNT]++;
  if (c.t.tracing) c.t.trace(EV_ATTACH, vma, i32[vma + VMA_START], i32[vma + VMA_END], mm);
  if (c.era === ERA_E3) Atomics.store(i32, vma + VMA_REFCNT, 1); // refcount_set_release()
  else Atomics.store(i32, vma + VMA_DETACHED, 0);
  void mm;
}

/**
 * vma_mark_detached(): requires the VMA write lock. E3 waits for transient
 * readers that incremented the count after the write mark.
 */
export function vmaMarkDetached(c: MmCtx, mm: number, vma: number): void {
  const i32 = c.i32;
  if (Atomics.load(i32, vma + VMA_LOCK_SEQ) !== mmLockSeq(c, mm)) c.t.violation(Viol.VmaDetachNotWriteLocked, vma, vma, 0, 0, 0);
  if (c.t.tracing) c.t.trace(EV_DETACH, vma, i32[vma + VMA_START], i32[vma + VMA_END], i32[vma + VMA_REFCNT]);
  if (c.era === ERA_E3 && (c.t.bugs1 & BUG1_B3_DETACH_NO_WAIT) !== 0) {
    Atomics.store(i32, vma + VMA_REFCNT, 0); // bug: transient readers are not waited for
    return;
  }
  if (c.era !== ERA_E3) {
    Atomics.store(i32, vma + VMA_DETACHED, 1);
    return;
  }
  const old = Atomics.sub(i32, vma + VMA_REFCNT, 1);
  if (old === 1) return;
  if (refcountAddNotZero(c.t, vma + VMA_REFCNT, VMA_LOCK_OFFSET) >= 0) {
    vmaWaitRefcnt(c, mm, vma, VMA_LOCK_OFFSET);
    Atomics.sub(i32, vma + VMA_REFCNT, VMA_LOCK_OFFSET);
  }
}

// ---------------------------------------------------------------------------
// lock_vma_under_rcu()
// ---------------------------------------------------------------------------

/**
 * lock_vma_under_rcu(): find the VMA covering `addr` under RCU alone and
 * read-lock it. E1 (6.6–6.9 shape, without the anon_vma check removed in
 * 6.10) and E3 (6.15) forms. Returns the VMA, or 0 (count VMA_LOCK_ABORT).
 */
export function lockVmaUnderRcu(c: MmCtx, mm: number, addr: number): number {
  const t = c.t;
  const i32 = c.i32;
  const noRange = (t.bugs1 & BUG1_B3_NO_RANGE_CHECK) !== 0;
  const anonFirst = (t.bugs1 & BUG1_B5A_ANON_CHECK_BEFORE_LOCK) !== 0;
  if (c.era !== ERA_E3) {
    for (;;) {
      rcuReadLock(t);
      const vma = mtWalk(c, mm, addr);
      // 6.4: reject an anonymous VMA without anon_vma *before* locking it (B5a).
      if (anonFirst && vma !== 0 && i32[vma + VMA_FILE] === 0 && Atomics.load(i32, vma + VMA_ANON_VMA) === 0) {
        rcuReadUnlock(t);
        t.count(MC_VMA_LOCK_ABORT);
        return 0;
      }
      if (anonFirst) delayPoint(c, W_ANON_CHECK);
      else delayPoint(c, W_WALK_TO_LOCK);
      if (vma === 0 || vmaStartRead(c, mm, vma) !== VMA_READ_OK) {
        rcuReadUnlock(t);
        t.count(MC_VMA_LOCK_ABORT);
        if (t.tracing) t.trace(EV_VMA_LOCK_FAIL, vma, addr, 0, mm);
        return 0;
      }
      delayPoint(c, W_LOCK_TO_RECHECK);
      if (!noRange && (addr < i32[vma + VMA_START] || addr >= i32[vma + VMA_END])) {
        vmaEndRead(c, vma);
        rcuReadUnlock(t);
        t.count(MC_VMA_LOCK_ABORT);
        return 0;
      }
      if (Atomics.load(i32, vma + VMA_DETACHED) !== 0) {
        vmaEndRead(c, vma);
        rcuReadUnlock(t);
        t.count(MC_VMA_LOCK_MISS);
        continue;
      }
      rcuReadUnlock(t);
      vmaIdentityRecord(c, vma);
      if (t.tracing) t.trace(EV_VMA_LOCKED, vma, addr, i32[vma + OBJ_GEN], mm);
      return vma;
    }
  }
  rcuReadLock(t);
  for (let misses = 0; ; ) {
    const vma = mtWalk(c, mm, addr);
    if (vma === 0) break;
    delayPoint(c, W_WALK_TO_LOCK);
    const r = vmaStartRead(c, mm, vma);
    if (r === VMA_READ_EAGAIN) {
      t.count(MC_VMA_LOCK_MISS);
      // A detached VMA stays in a stale tree view only until a writer's
      // grace period; a bounded retry turns a corrupted refcount into a
      // fallback instead of a livelock (the quiescent check reports it).
      if (++misses < 1000) continue;
      break;
    }
    if (r !== VMA_READ_OK) break;
    rcuReadUnlock(t);
    delayPoint(c, W_LOCK_TO_RECHECK);
    // The VMA is stable now; it may have shrunk or moved before we locked it.
    if (!noRange && (addr < i32[vma + VMA_START] || addr >= i32[vma + VMA_END])) {
      vmaEndRead(c, vma);
      t.count(MC_VMA_LOCK_ABORT);
      return 0;
    }
    vmaIdentityRecord(c, vma);
    if (t.tracing) t.trace(EV_VMA_LOCKED, vma, addr, i32[vma + OBJ_GEN], mm);
    return vma;
  }
  rcuReadUnlock(t);
  t.count(MC_VMA_LOCK_ABORT);
  if (t.tracing) t.trace(EV_VMA_LOCK_FAIL, 0, addr, 0, mm);
  return 0;
}

/**
 * vma_assert_locked(): the caller holds this VMA's read lock, or mmap_lock.
 * hugetlb_vma_unlock_read() and friends assert it before touching the VMA.
 */
export function vmaAssertLocked(c: MmCtx, mm: number, vma: number): boolean {
  const lock = c.era === ERA_E3 ? vma + VMA_REFCNT : vma + VMA_LOCK;
  if (lockIsHeld(c.t, lock) || lockIsHeld(c.t, mm + MM_MMAP_LOCK)) return true;
  c.t.violation(Viol.VmaAssertLocked, vma, vma, 0, 0, 0);
  return false;
}
