import { downRead, downReadTrylock, upRead, downWrite, upWrite, initRwsem } from '../sync/rwsem.js';
import { LC_VMA_LOCK } from '../sync/lockclass.js';
import { rcuReadLock, rcuReadUnlock } from '../sync/rcu.js';
import type { MmCtx } from './model.js';
import { ERA_E1, ERA_E2, mmLockSeq, VMA_READ_FAIL, VMA_READ_OK, type VmaLockOps } from './era.js';
import { VMA_LOCK, VMA_DETACHED, VMA_LOCK_SEQ, VMA_START, VMA_END, VMA_ANON_VMA, VMA_FILE, OBJ_GEN, MM_LOCK_SEQ, MC_VMA_LOCK_ABORT, MC_VMA_LOCK_MISS } from './layout.js';
import { mtWalk } from './tree.js';
import { kasanCheckGen, KS_VMA_UNDER_RCU } from './kasan.js';
import { mmapAssertLocked, vmaEndRead } from './mmap_lock.js';
import { BUG1_B3_NO_RANGE_CHECK, BUG1_B5A_ANON_CHECK_BEFORE_LOCK } from '../shm/bugbits.js';
import { delayPoint, vmaIdentityRecord, W_WALK_TO_LOCK, W_LOCK_TO_RECHECK, W_ANON_CHECK, EV_VMA_LOCKED, EV_VMA_LOCK_FAIL } from './debug.js';

/*
 * The per-VMA lock of E1/E2 (6.4–6.14): a read-write semaphore in the VMA,
 * vm_lock_seq for the write mark, a `detached` flag. VMAs are freed through
 * call_rcu, so a reader under RCU never sees a VMA reused.
 */

/** vma_lock_init() (E1/E2): a fresh rwsem, detached. */
function initLock(c: MmCtx, vma: number): void {
  initRwsem(c.i32, vma + VMA_LOCK, LC_VMA_LOCK);
  Atomics.store(c.i32, vma + VMA_DETACHED, 1);
}

/** vma_start_read() (E1/E2): seq early bail-out, down_read_trylock, re-check with acquire. */
function startRead(c: MmCtx, mm: number, vma: number): number {
  const i32 = c.i32;
  if (Atomics.load(i32, vma + VMA_LOCK_SEQ) === mmLockSeq(c, mm)) return VMA_READ_FAIL;
  if (!downReadTrylock(c.t, vma + VMA_LOCK)) return VMA_READ_FAIL;
  // Under the VMA read lock vm_lock_seq cannot change (vma_start_write takes the
  // lock for write first), and the trylock's RMW ordered this read after it.
  // mm_lock_seq too is read plainly after that RMW (DESIGN rule 3c): a stale
  // value can only equal vm_lock_seq and make us fall back.
  if (i32[vma + VMA_LOCK_SEQ] === i32[mm + MM_LOCK_SEQ]) {
    upRead(c.t, vma + VMA_LOCK);
    return VMA_READ_FAIL;
  }
  return VMA_READ_OK;
}

/** vma_start_read_locked() (E2 shape): the caller holds mmap_lock for read, so no writer is active. */
function startReadLocked(c: MmCtx, mm: number, vma: number): boolean {
  mmapAssertLocked(c, mm);
  downRead(c.t, vma + VMA_LOCK);
  return true;
}

/** vma_end_read() (E1/E2): up_read in an RCU section, as the VMA may be freed once the count drops. */
function endRead(c: MmCtx, vma: number): void {
  rcuReadLock(c.t);
  upRead(c.t, vma + VMA_LOCK);
  rcuReadUnlock(c.t);
}

/** vma_start_write() (E1/E2): down_write/up_write on the VMA rwsem drains the readers, then mark. */
function startWrite(c: MmCtx, mm: number, vma: number, seq: number): void {
  void mm;
  downWrite(c.t, vma + VMA_LOCK);
  Atomics.store(c.i32, vma + VMA_LOCK_SEQ, seq);
  upWrite(c.t, vma + VMA_LOCK);
}

function isAttached(c: MmCtx, vma: number): boolean {
  return Atomics.load(c.i32, vma + VMA_DETACHED) === 0;
}

function markAttached(c: MmCtx, vma: number): void {
  Atomics.store(c.i32, vma + VMA_DETACHED, 0);
}

/** vma_mark_detached() (E1/E2): WRITE_ONCE(vma->detached, true). */
function markDetached(c: MmCtx, mm: number, vma: number): void {
  void mm;
  Atomics.store(c.i32, vma + VMA_DETACHED, 1);
}

/**
 * lock_vma_under_rcu() (E1: the 6.6–6.9 shape, without the anon_vma check
 * removed in 6.10): walk under RCU, read-lock, re-check range and detached.
 */
function lockVmaUnderRcu(c: MmCtx, mm: number, addr: number): number {
  const t = c.t;
  const i32 = c.i32;
  const noRange = (t.bugs1 & BUG1_B3_NO_RANGE_CHECK) !== 0;
  const anonFirst = (t.bugs1 & BUG1_B5A_ANON_CHECK_BEFORE_LOCK) !== 0;
  for (;;) {
    rcuReadLock(t);
    const vma = mtWalk(c, mm, addr);
    // E1/E2 free VMAs through call_rcu: inside this section the VMA may be
    // pending its free, never freed (KASAN, checked once the lock attempt is over).
    const gen = vma !== 0 && t.checks ? i32[vma + OBJ_GEN] : 0; // KASAN's snapshot: plain, after the ordered load that found vma; kasanCheckGen re-reads with Atomics
    // 6.4: reject an anonymous VMA without anon_vma *before* locking it (B5a).
    if (anonFirst && vma !== 0 && i32[vma + VMA_FILE] === 0 && Atomics.load(i32, vma + VMA_ANON_VMA) === 0) {
      rcuReadUnlock(t);
      t.count(MC_VMA_LOCK_ABORT);
      return 0;
    }
    if (anonFirst) delayPoint(c, W_ANON_CHECK);
    else delayPoint(c, W_WALK_TO_LOCK);
    const locked = vma !== 0 && startRead(c, mm, vma) === VMA_READ_OK;
    if (vma !== 0) kasanCheckGen(c, vma, gen, KS_VMA_UNDER_RCU, true);
    if (!locked) {
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
    // Detaching needs the VMA write lock, which our read lock excludes.
    if (i32[vma + VMA_DETACHED] !== 0) {
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

const common = { madviseVmaLock: false, lockWord: VMA_LOCK, lockIdle: 0, typesafeSlab: false, initLock, startRead, startReadLocked, endRead, startWrite, isAttached, markAttached, markDetached, lockVmaUnderRcu };

/** E1 (6.4–6.12): mm_lock_seq is a plain counter, advanced only by vma_end_write_all(). */
export const VMA_LOCK_E1: VmaLockOps = { era: ERA_E1, name: 'E1 rwsem (6.4-6.12)', mmSeqcount: false, ...common };
/** E2 (6.13–6.14): mm_lock_seq a seqcount, odd while mmap_lock is held for write. */
export const VMA_LOCK_E2: VmaLockOps = { era: ERA_E2, name: 'E2 rwsem + mm_lock_seq seqcount (6.13-6.14)', mmSeqcount: true, ...common };
