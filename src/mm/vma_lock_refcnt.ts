import { Viol } from '../shm/kinds.js';
import { refcountIncNotZeroLimited, refcountAddNotZero } from '../sync/refcount.js';
import { lockAcquired, lockReleased, waitBegin, waitEnd } from '../sync/lockdep.js';
import { LC_VMA_LOCK, MODE_READ, MODE_WRITE, WAIT_LOCK } from '../sync/lockclass.js';
import { prepareToWait, scheduleTimeout, wakeUpProcess, lostWakeUpCheck, WAKE_TIMEOUT_MS } from '../sync/sched.js';
import { rcuReadLock, rcuReadUnlock } from '../sync/rcu.js';
import type { MmCtx } from './model.js';
import { ERA_E3, mmLockSeq, VMA_READ_EAGAIN, VMA_READ_FAIL, VMA_READ_OK, type VmaLockOps } from './era.js';
import {
  MM_WRITER_WAIT, MM_WRITER_WAKER, VMA_REFCNT, VMA_LOCK_SEQ, VMA_MM, VMA_START, VMA_END, VMA_LOCK_OFFSET, VMA_REF_LIMIT, OBJ_GEN,
  MC_VMA_LOCK_ABORT, MC_VMA_LOCK_MISS, MC_VMA_FOREIGN, MM_LOCK_SEQ,
} from './layout.js';
import { mtWalk } from './tree.js';
import { kasanCheckMm, mmAssertPinned, KS_VMA_PUT_MM } from './kasan.js';
import { mmapAssertLocked, mmgrab, mmdrop, vmaEndRead } from './mmap_lock.js';
import { BUG1_B3_NO_MM_CHECK, BUG1_B3_FOREIGN_MM_NO_GRAB, BUG1_B3_NO_RANGE_CHECK, BUG1_B3_DETACH_NO_WAIT, BUG1_REFCOUNT_PUT_NO_WAKE } from '../shm/bugbits.js';
import { delayPoint, vmaIdentityRecord, W_WALK_TO_LOCK, W_LOCK_TO_RECHECK, W_INC_TO_CHECK, EV_VMA_LOCKED, EV_VMA_LOCK_FAIL } from './debug.js';

/*
 * The per-VMA lock of E3 (6.15+, mm/mmap_lock.c): vm_refcnt is the lock and
 * the attach state at once (0 detached, 1 attached and idle, +1 per reader,
 * +VMA_LOCK_OFFSET while a writer drains). The VMA cache is
 * SLAB_TYPESAFE_BY_RCU: an object may be reused under a reader's feet, so a
 * reader checks vm_mm after taking its reference.
 */

/** vma_lock_init(vma, false) (E3): the allocator leaves vm_refcnt alone; a freed VMA must come back with no reference. */
function initLock(c: MmCtx, vma: number): void {
  const r = Atomics.load(c.i32, vma + VMA_REFCNT);
  if (r !== 0) c.t.violation(Viol.VmaAllocReferenced, vma, vma, r, 0, 0);
}

/** vma_start_read() (E3): inc-not-zero-limited, vm_mm identity check, re-check the write mark. */
function startRead(c: MmCtx, mm: number, vma: number): number {
  const i32 = c.i32;
  if (Atomics.load(i32, vma + VMA_LOCK_SEQ) === mmLockSeq(c, mm)) return VMA_READ_FAIL;
  delayPoint(c, W_INC_TO_CHECK);
  const r = refcountIncNotZeroLimited(c.t, vma + VMA_REFCNT, VMA_REF_LIMIT, 1); // attached, no reader: the likely count
  if (r < 0) return -1 - r === 0 ? VMA_READ_EAGAIN : VMA_READ_FAIL;
  lockAcquired(c.t, vma + VMA_REFCNT, LC_VMA_LOCK, MODE_READ);
  delayPoint(c, W_INC_TO_CHECK);
  // The object may have been recycled into another mm (SLAB_TYPESAFE_BY_RCU).
  // Plain reads after the increment's RMW (DESIGN rule 3c): vm_mm was stored
  // before the attach that made the count non-zero, which our RMW read; a
  // stale mm_lock_seq or vm_lock_seq can only make the re-check below fail.
  const vmm = i32[vma + VMA_MM] - 1;
  if (vmm !== mm) c.t.count(MC_VMA_FOREIGN);
  if (vmm !== mm && (c.t.bugs1 & BUG1_B3_NO_MM_CHECK) === 0) {
    // The other mm is kept alive by our reference only until we drop it.
    const grab = vmm >= 0 && (c.t.bugs1 & BUG1_B3_FOREIGN_MM_NO_GRAB) === 0;
    if (grab) mmgrab(c, vmm);
    vmaRefcountPut(c, vma, vmm, mm);
    if (grab) mmdrop(c, vmm);
    return VMA_READ_FAIL;
  }
  if (i32[vma + VMA_LOCK_SEQ] === i32[mm + MM_LOCK_SEQ]) {
    vmaRefcountPut(c, vma, mm, mm);
    return VMA_READ_FAIL;
  }
  return VMA_READ_OK;
}

/** vma_start_read_locked() (E3): the caller holds mmap_lock for read; fails only on a saturated count. */
function startReadLocked(c: MmCtx, mm: number, vma: number): boolean {
  mmapAssertLocked(c, mm);
  const r = refcountIncNotZeroLimited(c.t, vma + VMA_REFCNT, VMA_REF_LIMIT, 1); // attached, no reader: the likely count
  if (r < 0) return false;
  lockAcquired(c.t, vma + VMA_REFCNT, LC_VMA_LOCK, MODE_READ);
  return true;
}

/**
 * vma_refcount_put() (E3): copy vm_mm first; wake a writer waiting for the
 * last reader. The caller keeps `mm` alive (asserted when it is not
 * `callerMm`, the mm the caller locked the VMA for: an mmgrab() of its own).
 */
function vmaRefcountPut(c: MmCtx, vma: number, mm: number, callerMm: number): void {
  if (mm !== callerMm) mmAssertPinned(c, mm, KS_VMA_PUT_MM);
  lockReleased(c.t, vma + VMA_REFCNT, LC_VMA_LOCK, MODE_READ);
  const old = Atomics.sub(c.i32, vma + VMA_REFCNT, 1);
  // __refcount_dec_and_test() saturates and WARNs on a count already 0.
  if (old <= 0) c.t.violation(Viol.RefcountUnderflow, vma, old, 1, 0, 0);
  const now = old - 1;
  if (now !== 0 && (now & VMA_LOCK_OFFSET) !== 0 && now <= VMA_LOCK_OFFSET + 1 && mm >= 0) {
    kasanCheckMm(c, mm, KS_VMA_PUT_MM);
    Atomics.store(c.i32, mm + MM_WRITER_WAKER, c.t.tid + 1);
    if ((c.t.bugs1 & BUG1_REFCOUNT_PUT_NO_WAKE) !== 0) return; // bug: rcuwait_wake_up() left out
    const w = Atomics.load(c.i32, mm + MM_WRITER_WAIT);
    if (w !== 0) wakeUpProcess(c.t, c.t.arena.pt(w - 1));
  }
}

/** vma_end_read() (E3): vma_refcount_put() with the vm_mm read before the drop. */
function endRead(c: MmCtx, vma: number): void {
  // Our reference keeps the object from reuse: vm_mm is stable (rule 3c).
  const mm = c.i32[vma + VMA_MM] - 1;
  vmaRefcountPut(c, vma, mm, mm);
}

/**
 * rcuwait_wait_event() on mm->vma_writer_wait (E3): sleep until the VMA's
 * refcount equals `target`; the last reader's vma_refcount_put() wakes us.
 * Not woken although the count got there is a lost wake-up.
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
      if (scheduleTimeout(c.t, snap, WAKE_TIMEOUT_MS)) continue;
      if (Atomics.load(i32, vma + VMA_REFCNT) === target) {
        lostWakeUpCheck(c.t, snap, vma + VMA_REFCNT, LC_VMA_LOCK, since, Atomics.load(i32, mm + MM_WRITER_WAKER) - 1);
      }
    }
  } finally {
    Atomics.store(i32, mm + MM_WRITER_WAIT, 0);
    waitEnd(c.t, LC_VMA_LOCK, since, false);
  }
}

/** __vma_start_write() (E3): add VMA_LOCK_OFFSET, wait for readers to drain, mark, subtract. */
function startWrite(c: MmCtx, mm: number, vma: number, seq: number): void {
  const i32 = c.i32;
  const locked = refcountAddNotZero(c.t, vma + VMA_REFCNT, VMA_LOCK_OFFSET) >= 0;
  if (locked) vmaWaitRefcnt(c, mm, vma, VMA_LOCK_OFFSET + 1);
  Atomics.store(i32, vma + VMA_LOCK_SEQ, seq);
  if (locked) {
    // __vma_exit_locked(): refcount_sub_and_test(); WARN_ON_ONCE(detached) — the VMA must stay attached.
    const old = Atomics.sub(i32, vma + VMA_REFCNT, VMA_LOCK_OFFSET);
    if (old <= VMA_LOCK_OFFSET) c.t.violation(Viol.RefcountUnderflow, vma, old, VMA_LOCK_OFFSET, 0, 0);
  }
}

function isAttached(c: MmCtx, vma: number): boolean {
  return Atomics.load(c.i32, vma + VMA_REFCNT) !== 0;
}

/** vma_mark_attached() (E3): refcount_set_release(&vma->vm_refcnt, 1). */
function markAttached(c: MmCtx, vma: number): void {
  Atomics.store(c.i32, vma + VMA_REFCNT, 1);
}

/** vma_mark_detached() (E3): drop the attach reference; wait for transient readers that raced in. */
function markDetached(c: MmCtx, mm: number, vma: number): void {
  const i32 = c.i32;
  if ((c.t.bugs1 & BUG1_B3_DETACH_NO_WAIT) !== 0) {
    Atomics.store(i32, vma + VMA_REFCNT, 0); // bug: transient readers are not waited for
    return;
  }
  const old = Atomics.sub(i32, vma + VMA_REFCNT, 1);
  if (old === 1) return;
  if (old <= 0) {
    // refcount_dec_and_test() on a count already 0: the attach reference was lost.
    c.t.violation(Viol.RefcountUnderflow, vma, old, 1, 0, 0);
    return;
  }
  if (refcountAddNotZero(c.t, vma + VMA_REFCNT, VMA_LOCK_OFFSET) >= 0) {
    vmaWaitRefcnt(c, mm, vma, VMA_LOCK_OFFSET);
    Atomics.sub(i32, vma + VMA_REFCNT, VMA_LOCK_OFFSET);
  }
}

/** lock_vma_under_rcu() (6.15): walk and lock under one RCU section; a detached hit re-walks. */
function lockVmaUnderRcu(c: MmCtx, mm: number, addr: number): number {
  const t = c.t;
  const i32 = c.i32;
  const noRange = (t.bugs1 & BUG1_B3_NO_RANGE_CHECK) !== 0;
  rcuReadLock(t);
  for (let misses = 0; ; ) {
    const vma = mtWalk(c, mm, addr);
    if (vma === 0) break;
    delayPoint(c, W_WALK_TO_LOCK);
    const r = startRead(c, mm, vma);
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

/** E3 (6.15+): vm_refcnt; madvise(MADV_DONTNEED) under the VMA lock as from 6.16. */
export const VMA_LOCK_E3: VmaLockOps = {
  era: ERA_E3, name: 'E3 vm_refcnt (6.15+)', mmSeqcount: true, madviseVmaLock: true, lockWord: VMA_REFCNT, lockIdle: 1, typesafeSlab: true,
  initLock, startRead, startReadLocked, endRead, startWrite, isAttached, markAttached, markDetached, lockVmaUnderRcu,
};
