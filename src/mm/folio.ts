import type { MmCtx } from './model.js';
import { Viol } from '../shm/kinds.js';
import { BUG1_FOLIO_UNLOCK_NO_WAKE } from '../shm/bugbits.js';
import { kmemCacheAllocCpu, kmemCacheFreeCpu, kmemCacheAlloc, kmemCacheFree } from './slab.js';
import { refcountDecAndTest, refcountIncNotZero, refcountInc } from '../sync/refcount.js';
import { initRwsem, downWrite, upWrite } from '../sync/rwsem.js';
import { rwsemIsLocked } from '../sync/rwsem_waitlist.js';
import { LC_ANON_VMA, LC_FOLIO_LOCK } from '../sync/lockclass.js';
import { checkAbort, WAKE_TIMEOUT_MS } from '../sync/sched.js';
import { ctlNotify, ctlPoint, ctlWait, P_FOLIO_LOCK, P_FOLIO_UNLOCK, P_READ } from '../sync/ctl.js';
import {
  F_REF, F_UNLOCKER, F_MAPCOUNT, F_PINCOUNT, F_FLAGS, F_ANON_VMA, F_OWNER_MM, PG_ANON, PG_ANON_EXCLUSIVE, PG_LOCKED,
  PG_UPTODATE, PG_ZERO, GUP_PIN_COUNTING_BIAS, AV_REF, AV_ROOT, AV_MM, AV_LOCK, VMA_PGOFF, F_INDEX, VMA_ANON_VMA, VMA_START,
  PG_SWAPCACHE, PG_WRITEBACK, F_SWAPCOUNT,
} from './layout.js';

/*
 * Folios (struct folio): refcount, mapcount, pincount, flags, anon_vma, and
 * content words. Folio records are like struct pages in the memmap: their
 * memory never goes away, so GUP-fast may try_grab a folio it read from a PTE
 * and then re-check the PTE.
 */

/** folio_alloc() for an anonymous or file page: refcount 1, uptodate once zeroed. 0 on -ENOMEM. */
export function folioAlloc(c: MmCtx, mm: number): number {
  const f = kmemCacheAllocCpu(c.t, c.folioSlab);
  if (f === 0) return 0;
  c.i32[f + F_OWNER_MM] = mm + 1;
  // set_page_refcounted() is an atomic_set(), a plain store: a racing
  // folio_try_get() reads 0 (fails) or this 1; the PTE store publishes the folio.
  c.i32[f + F_REF] = 1;
  c.i32[f + F_FLAGS] = PG_UPTODATE;
  return f;
}

export function isZeroFolio(c: MmCtx, f: number): boolean {
  return (c.i32[f + F_FLAGS] & PG_ZERO) !== 0;
}

/** folio_get(): the caller holds a reference or a lock that keeps one (a zero count WARNs: refcount_t: addition on 0). */
export function folioGet(c: MmCtx, f: number): void {
  if (!isZeroFolio(c, f)) refcountInc(c.t, f + F_REF, f);
}

/** folio_try_get(): fails on a folio being freed (GUP-fast's try_grab_folio). */
export function folioTryGet(c: MmCtx, f: number): boolean {
  if (isZeroFolio(c, f)) return true;
  return refcountIncNotZero(c.t, f + F_REF);
}

/** folio_put(): free on the last reference. */
export function folioPut(c: MmCtx, f: number): void {
  if (isZeroFolio(c, f)) return;
  if (refcountDecAndTest(c.t, f + F_REF, f)) {
    // free_pages_check(): a folio being freed must be unmapped and unpinned.
    // Ours alone now (the dec-to-zero ordered these after every other put).
    const mc = c.i32[f + F_MAPCOUNT];
    const pc = c.i32[f + F_PINCOUNT];
    if (mc !== 0 || pc !== 0) c.t.violation(Viol.BadPageState, f, f, mc, pc, 0);
    c.i32[f + F_FLAGS] = 0;
    kmemCacheFreeCpu(c.t, c.folioSlab, f);
  }
}

/** folio_ref_count(). */
export function folioRefCount(c: MmCtx, f: number): number {
  return Atomics.load(c.i32, f + F_REF);
}

export function folioMapcount(c: MmCtx, f: number): number {
  return Atomics.load(c.i32, f + F_MAPCOUNT);
}

/** folio_maybe_dma_pinned(). */
export function folioMaybeDmaPinned(c: MmCtx, f: number): boolean {
  const pinned = Atomics.load(c.i32, f + F_PINCOUNT) > 0 || Atomics.load(c.i32, f + F_REF) >= GUP_PIN_COUNTING_BIAS;
  // A racy read against GUP-fast's pin: a controlled run may switch right after it, while the answer is acted on.
  if (c.t.ctl !== 0) ctlPoint(c.t, P_READ, f + F_PINCOUNT);
  return pinned;
}

export function folioTestFlag(c: MmCtx, f: number, flag: number): boolean {
  return (Atomics.load(c.i32, f + F_FLAGS) & flag) !== 0;
}

export function folioSetFlag(c: MmCtx, f: number, flag: number): void {
  Atomics.or(c.i32, f + F_FLAGS, flag);
}

export function folioClearFlag(c: MmCtx, f: number, flag: number): void {
  Atomics.and(c.i32, f + F_FLAGS, ~flag);
}

/** folio_test_clear_*(): clear `flag` atomically; true if this call cleared it. */
export function folioTestClearFlag(c: MmCtx, f: number, flag: number): boolean {
  return (Atomics.and(c.i32, f + F_FLAGS, ~flag) & flag) !== 0;
}

/**
 * folio_free_swap() (mm/swapfile.c): with the folio locked, drop it from the
 * swap cache if no swap entry still names it and writeback is done; the swap
 * cache's reference goes with it. Returns true if it did.
 */
export function folioFreeSwap(c: MmCtx, f: number): boolean {
  if (!folioTestFlag(c, f, PG_SWAPCACHE) || folioTestFlag(c, f, PG_WRITEBACK)) return false;
  if (Atomics.load(c.i32, f + F_SWAPCOUNT) > 0) return false; // folio_swapped()
  if (!folioTestClearFlag(c, f, PG_SWAPCACHE)) return false;
  folioPut(c, f); // delete_from_swap_cache()
  return true;
}

/**
 * free_swap_and_cache() (mm/swapfile.c), for one swap PTE the caller cleared
 * under its PT lock: one swap entry fewer, and when it was the last, drop the
 * swap cache only under the folio lock (__try_to_reclaim_swap: the swap
 * cache lookup's reference, a trylock, folio_free_swap()). A folio someone
 * holds locked (writeback, a reclaimer mid-walk that is still making swap
 * entries) stays in the swap cache for reclaim to find later. The caller
 * puts the lookup's reference after dropping the PT lock; while it holds
 * it, folio_free_swap()'s put of the swap cache's is never the last.
 */
export function freeSwapAndCache(c: MmCtx, f: number): void {
  // The entry just cleared kept the folio in the swap cache (a swap count is
  // raised from 0 only under the folio lock, and the cache is left only at
  // 0): the lookup's reference is safe to take now, not after the decrement,
  // when a lock holder may already have dropped the last one.
  folioGet(c, f);
  if (Atomics.sub(c.i32, f + F_SWAPCOUNT, 1) > 1 || !folioTrylock(c, f)) return;
  folioFreeSwap(c, f);
  folioUnlock(c, f);
}

/** linear_page_index(): the offset of `addr` in the VMA's object (anon: its pgoff space, kept across mremap). */
export function linearPageIndex(c: MmCtx, vma: number, addr: number): number {
  return c.i32[vma + VMA_PGOFF] + (addr - c.i32[vma + VMA_START]);
}

/**
 * __page_check_anon_rmap() (mm/rmap.c, all eras; the model also runs it
 * where fork duplicates a mapping, which the kernel does not check): the
 * rmap of anon folio `f` must find it mapped at `addr` in `vma` — the VMA
 * has an anon_vma of the folio's anon_vma's root, and the folio's index is
 * the VMA's linear_page_index there (__folio_set_anon()'s BUG_ON(!anon_vma)
 * for a new folio). A mapping that fails it is invisible to reclaim,
 * migration and KSM. Caller holds the PT lock of the PTE it is installing.
 * Off with --no-check.
 */
export function pageCheckAnonRmap(c: MmCtx, f: number, vma: number, addr: number): void {
  if (!c.t.checks) return;
  const i32 = c.i32;
  const fav = i32[f + F_ANON_VMA] - 1;
  const vav = i32[vma + VMA_ANON_VMA] - 1;
  const froot = fav < 0 ? -1 : i32[fav + AV_ROOT] - 1;
  const vroot = vav < 0 ? -1 : i32[vav + AV_ROOT] - 1;
  if (vav < 0 || froot !== vroot || i32[f + F_INDEX] !== linearPageIndex(c, vma, addr)) {
    c.t.violation(Viol.AnonRmapMismatch, f, f, fav, vav, addr);
  }
}

/** folio_add_new_anon_rmap(..., RMAP_EXCLUSIVE): first mapping of a fresh anon folio at `addr` (__folio_set_anon: mapping and index). */
export function folioAddNewAnonRmap(c: MmCtx, f: number, vma: number, addr: number): void {
  const i32 = c.i32;
  if (c.t.checks && i32[vma + VMA_ANON_VMA] === 0) c.t.violation(Viol.AnonRmapMismatch, f, f, -1, -1, addr); // __folio_set_anon(): BUG_ON(!anon_vma)
  i32[f + F_ANON_VMA] = i32[vma + VMA_ANON_VMA];
  i32[f + F_INDEX] = linearPageIndex(c, vma, addr);
  // Atomic, as SetPageAnonExclusive(): a PFN-scanning reclaimer whose
  // speculative folio_try_get() beat the reuse may be setting PG_locked on
  // this word right now, and a plain read-modify-write would lose its bit.
  Atomics.or(i32, f + F_FLAGS, PG_ANON | PG_ANON_EXCLUSIVE);
  i32[f + F_MAPCOUNT] = 1; // atomic_set(); published by set_pte_at()
}

/** folio_add_file_rmap_pte(). */
export function folioAddFileRmap(c: MmCtx, f: number): void {
  Atomics.add(c.i32, f + F_MAPCOUNT, 1);
}

/** folio_dup_anon_rmap_pte() / folio_add_anon_rmap_pte(): one more PTE maps it. */
export function folioDupRmap(c: MmCtx, f: number): void {
  if (!isZeroFolio(c, f)) Atomics.add(c.i32, f + F_MAPCOUNT, 1);
}

/** folio_remove_rmap_pte(). */
export function folioRemoveRmap(c: MmCtx, f: number): void {
  if (!isZeroFolio(c, f)) Atomics.sub(c.i32, f + F_MAPCOUNT, 1);
}

/** folio_trylock(). */
export function folioTrylock(c: MmCtx, f: number): boolean {
  if (c.t.ctl !== 0) ctlPoint(c.t, P_FOLIO_LOCK, f);
  return (Atomics.or(c.i32, f + F_FLAGS, PG_LOCKED) & PG_LOCKED) === 0;
}

/** folio_unlock(). */
export function folioUnlock(c: MmCtx, f: number): void {
  Atomics.store(c.i32, f + F_UNLOCKER, c.t.tid + 1);
  Atomics.and(c.i32, f + F_FLAGS, ~PG_LOCKED);
  if ((c.t.bugs1 & BUG1_FOLIO_UNLOCK_NO_WAKE) === 0) { // bug: folio_wake_bit() left out
    Atomics.notify(c.i32, f + F_FLAGS);
    ctlNotify(c.i32, f + F_FLAGS);
  }
  if (c.t.ctl !== 0) ctlPoint(c.t, P_FOLIO_UNLOCK, f);
}

/** One sleep on the folio's flags word (a futex; the controlled scheduler's sleep in a controlled run). */
function waitFlags(c: MmCtx, f: number, v: number): 'ok' | 'not-equal' | 'timed-out' {
  if (c.t.ctl === 0) return Atomics.wait(c.i32, f + F_FLAGS, v, WAKE_TIMEOUT_MS);
  if (Atomics.load(c.i32, f + F_FLAGS) !== v) return 'not-equal';
  return ctlWait(c.t, f + F_FLAGS, v, WAKE_TIMEOUT_MS, true) ? 'ok' : 'timed-out';
}

/**
 * folio_wait_locked_killable(): sleep until folio_unlock() wakes us (the
 * kernel's folio wait queue, reduced to a futex on the flags word: the
 * unlock clears PG_locked, then wakes every sleeper on the word). No lock
 * is taken. A sleep that times out (WAKE_TIMEOUT_MS, the safety timeout
 * that also bounds how long a run abort waits for us) on an unlocked folio
 * gets one more WAKE_TIMEOUT_MS for a late wake-up; none is a lost wake-up.
 */
export function folioWaitLocked(c: MmCtx, f: number): void {
  const i32 = c.i32;
  const since = c.t.now();
  for (;;) {
    const v = Atomics.load(i32, f + F_FLAGS);
    if ((v & PG_LOCKED) === 0) return;
    const r = waitFlags(c, f, v);
    checkAbort(c.t);
    if (r !== 'timed-out' || !c.t.checks) continue;
    const now = Atomics.load(i32, f + F_FLAGS);
    if ((now & PG_LOCKED) !== 0) continue; // still held (a long writeback, a preempted holder)
    if (waitFlags(c, f, now) === 'timed-out') {
      c.t.violation(Viol.LostWakeUp, f, f, LC_FOLIO_LOCK, Math.round(c.t.now() - since), Atomics.load(i32, f + F_UNLOCKER) - 1);
    }
    return;
  }
}

// ---------------------------------------------------------------------------
// anon_vma
// ---------------------------------------------------------------------------

/** anon_vma_alloc(): refcount 1 (the VMA's), its own root. */
export function anonVmaAlloc(c: MmCtx, mm: number): number {
  const av = kmemCacheAlloc(c.t, c.avSlab);
  if (av === 0) return 0;
  c.i32[av + AV_ROOT] = av + 1;
  c.i32[av + AV_MM] = mm + 1;
  initRwsem(c.i32, av + AV_LOCK, LC_ANON_VMA); // anon_vma_ctor()
  Atomics.store(c.i32, av + AV_REF, 1);
  return av;
}

/** get_anon_vma(). */
export function getAnonVma(c: MmCtx, av: number): void {
  Atomics.add(c.i32, av + AV_REF, 1);
}

/**
 * put_anon_vma(): the last reference frees it after a grace period (and
 * drops the root's). anon_vma_free(): a folio_lock_anon_vma_read() that
 * took the root's lock on a stale anon_vma must be out before the free, so
 * a locked root is locked and unlocked for write first.
 */
export function putAnonVma(c: MmCtx, av: number): void {
  if (refcountDecAndTest(c.t, av + AV_REF, av)) putAnonVmaLast(c, av);
}

/** __put_anon_vma(): free an anon_vma whose last reference is gone (the caller holds none of its family's locks). */
export function putAnonVmaLast(c: MmCtx, av: number): void {
  const root = c.i32[av + AV_ROOT] - 1;
  if (root >= 0 && rwsemIsLocked(c.i32, root + AV_LOCK)) {
    downWrite(c.t, root + AV_LOCK);
    upWrite(c.t, root + AV_LOCK);
  }
  kmemCacheFree(c.t, c.avSlab, av, c.rcuFn);
  if (root !== av && root >= 0) putAnonVma(c, root);
}
