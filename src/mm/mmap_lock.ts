import { Viol } from '../shm/kinds.js';
import {
downRead, downReadKillable, downReadTrylock, upRead, downWrite, downWriteKillable, upWrite, downgradeWrite,
  rwsemIsLocked, rwsemWriteOwner, downWriteNested,
} from '../sync/rwsem.js';
import type { MmCtx } from './model.js';
import { mmLockSeq, VMA_READ_OK, VMA_READ_FAIL, VMA_READ_EAGAIN } from './era.js';
import {
  MM_MMAP_LOCK, MM_LOCK_SEQ, MM_COUNT, VMA_REFCNT, VMA_LOCK_SEQ, VMA_START, VMA_END, VMA_WRITE_STARTED,
  VMA_ATTACH_COUNT, VMA_PGOFF, VMA_ANON_VMA, AV_ROOT, AV_LOCK,
} from './layout.js';
import { LC_ANON_VMA } from '../sync/lockclass.js';
import { lockIsHeld, AH_VMA_SET_RANGE } from '../sync/lockdep.js';
import { BUG1_END_WRITE_ALL_NO_ADVANCE } from '../shm/bugbits.js';
import { vmaIdentityCheck, EV_START_WRITE, EV_DETACH, EV_ATTACH } from './debug.js';

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
  if (c.vl.mmSeqcount) Atomics.add(c.i32, mm + MM_LOCK_SEQ, 1);
}

/** mmap_write_lock(). */
export function mmapWriteLock(c: MmCtx, mm: number): void {
  downWrite(c.t, mm + MM_MMAP_LOCK);
  mmLockSeqcountBegin(c, mm);
}

/** mmap_write_lock_nested(): another mm's mmap_lock while holding one (dup_mmap's child), lockdep subclass `sub`. */
export function mmapWriteLockNested(c: MmCtx, mm: number, sub: number): void {
  downWriteNested(c.t, mm + MM_MMAP_LOCK, sub);
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
  if (!c.t.directAsserts || (rwsemIsLocked(c.i32, mm + MM_MMAP_LOCK) && lockIsHeld(c.t, mm + MM_MMAP_LOCK))) return true;
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
  c.mmPins[c.mmSlot(mm)]++;
}

/** mmdrop(). */
export function mmdrop(c: MmCtx, mm: number): void {
  c.mmPins[c.mmSlot(mm)]--;
  Atomics.sub(c.i32, mm + MM_COUNT, 1);
}

// ---------------------------------------------------------------------------
// Per-VMA lock: the era-neutral half; c.vl is the era's (vma_lock_rwsem.ts, vma_lock_refcnt.ts).
// ---------------------------------------------------------------------------

export { VMA_READ_OK, VMA_READ_FAIL, VMA_READ_EAGAIN };

/**
 * vma_start_read(): never succeeds while the VMA is write-locked; may fail
 * spuriously. VMA_READ_OK, VMA_READ_FAIL (fall back to mmap_lock) or, E3,
 * VMA_READ_EAGAIN (detached: re-walk).
 */
export function vmaStartRead(c: MmCtx, mm: number, vma: number): number {
  return c.vl.startRead(c, mm, vma);
}

/** vma_start_read_locked() (E2+): the caller holds mmap_lock for read, so no writer is active. */
export function vmaStartReadLocked(c: MmCtx, mm: number, vma: number): boolean {
  return c.vl.startReadLocked(c, mm, vma);
}

/** vma_end_read(): check the VMA kept its identity while read-locked, then release. */
export function vmaEndRead(c: MmCtx, vma: number): void {
  vmaIdentityCheck(c, vma);
  c.vl.endRead(c, vma);
}

/**
 * vma_start_write(): mark the VMA write-locked for this mmap write section
 * (the caller holds mmap_lock for write, asserted); the era drains readers.
 */
export function vmaStartWrite(c: MmCtx, mm: number, vma: number): void {
  const i32 = c.i32;
  mmapAssertWriteLocked(c, mm);
  const seq = mmLockSeq(c, mm);
  i32[vma + VMA_WRITE_STARTED]++;
  if (c.t.tracing) c.t.trace(EV_START_WRITE, vma, i32[vma + VMA_START], i32[vma + VMA_END], seq);
  if (Atomics.load(i32, vma + VMA_LOCK_SEQ) === seq) return;
  c.vl.startWrite(c, mm, vma, seq);
}

/** vma_assert_write_locked(). */
export function vmaAssertWriteLocked(c: MmCtx, mm: number, vma: number): boolean {
  const seq = mmLockSeq(c, mm);
  const v = Atomics.load(c.i32, vma + VMA_LOCK_SEQ);
  if (!c.t.directAsserts || (v === seq && rwsemWriteOwner(c.i32, mm + MM_MMAP_LOCK) === c.t.tid)) return true;
  c.t.violation(Viol.VmaAssertWriteLocked, vma, vma, v, seq, 0);
  return false;
}

/**
 * Field lock rule of an attached VMA's vm_start/vm_end/vm_pgoff once it has
 * an anon_vma: vma_prepare() / expand_downwards() change them only under
 * anon_vma_lock_write(), because an rmap walk computes vma_address() from
 * them holding only the anon_vma lock. Asserted (free under --no-check).
 */
export function vmaAssertRmapLocked(c: MmCtx, vma: number, caller: number): void {
  const av1 = Atomics.load(c.i32, vma + VMA_ANON_VMA);
  if (av1 !== 0) anonVmaAssertWriteLocked(c, av1 - 1, caller);
}

/** lockdep_assert_held_write(&anon_vma->root->rwsem) on behalf of `caller` (free under --no-check / --no-direct-asserts). */
export function anonVmaAssertWriteLocked(c: MmCtx, av: number, caller: number): void {
  if (!c.t.directAsserts) return;
  const lock = c.i32[av + AV_ROOT] - 1 + AV_LOCK;
  if (rwsemWriteOwner(c.i32, lock) !== c.t.tid) c.t.violation(Viol.LockNotHeld, lock, lock, LC_ANON_VMA, caller, 0);
}

/**
 * A store to a field of a VMA that readers may see: vm_start, vm_end,
 * vm_pgoff, vm_flags, vm_userfaultfd_ctx, and anon_vma where it is merged
 * (dup_anon_vma). include/linux/mm_types.h: written only under mmap_lock for
 * write with the VMA write-locked, as vm_flags_reset()/vma_set_range() assert
 * with vma_assert_write_locked(); vm_start/vm_end/vm_pgoff of a VMA with an
 * anon_vma also under anon_vma_lock_write() (vma_prepare). A VMA not yet attached is private to the
 * thread building it and takes plain stores instead. Asserting is skipped
 * under --no-check; the store (WRITE_ONCE) is not.
 */
export function vmaSetField(c: MmCtx, mm: number, vma: number, field: number, value: number): void {
  if (c.t.checks && vmaIsAttached(c, vma)) {
    vmaAssertWriteLocked(c, mm, vma);
    if (field === VMA_START || field === VMA_END || field === VMA_PGOFF) vmaAssertRmapLocked(c, vma, AH_VMA_SET_RANGE);
  }
  Atomics.store(c.i32, vma + field, value);
}

/** Is the VMA attached (in the tree)? */
export function vmaIsAttached(c: MmCtx, vma: number): boolean {
  return c.vl.isAttached(c, vma);
}

/**
 * vma_mark_attached(): only a detached VMA may be attached (B2's assertion:
 * VM_BUG_ON_VMA(!vma->detached), later vma_assert_detached()).
 */
export function vmaMarkAttached(c: MmCtx, mm: number, vma: number): void {
  const i32 = c.i32;
  if (c.t.directAsserts && c.vl.isAttached(c, vma)) c.t.violation(Viol.VmaAttachAttached, vma, vma, i32[vma + VMA_REFCNT], 0, 0);
  i32[vma + VMA_ATTACH_COUNT]++;
  if (c.t.tracing) c.t.trace(EV_ATTACH, vma, i32[vma + VMA_START], i32[vma + VMA_END], mm);
  c.vl.markAttached(c, vma);
}

/**
 * vma_mark_detached(): requires the VMA write lock (checked: B2-style
 * detach without it is a violation). E3 waits for transient readers that
 * incremented the count after the write mark.
 */
export function vmaMarkDetached(c: MmCtx, mm: number, vma: number): void {
  const i32 = c.i32;
  if (c.t.directAsserts && Atomics.load(i32, vma + VMA_LOCK_SEQ) !== mmLockSeq(c, mm)) c.t.violation(Viol.VmaDetachNotWriteLocked, vma, vma, 0, 0, 0);
  if (c.t.tracing) c.t.trace(EV_DETACH, vma, i32[vma + VMA_START], i32[vma + VMA_END], i32[vma + VMA_REFCNT]);
  c.vl.markDetached(c, mm, vma);
}

/**
 * lock_vma_under_rcu(): find the VMA covering `addr` under RCU alone and
 * read-lock it (the era's form). Returns the VMA, or 0 (counted as
 * VMA_LOCK_ABORT).
 */
export function lockVmaUnderRcu(c: MmCtx, mm: number, addr: number): number {
  return c.vl.lockVmaUnderRcu(c, mm, addr);
}

/**
 * vma_assert_locked(): the caller holds this VMA's read lock, or mmap_lock.
 * hugetlb_vma_unlock_read() and friends assert it before touching the VMA.
 */
export function vmaAssertLocked(c: MmCtx, mm: number, vma: number): boolean {
  if (!c.t.directAsserts || lockIsHeld(c.t, vma + c.vl.lockWord) || lockIsHeld(c.t, mm + MM_MMAP_LOCK)) return true;
  c.t.violation(Viol.VmaAssertLocked, vma, vma, 0, 0, 0);
  return false;
}
