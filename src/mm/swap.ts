import { BUG1_SWAPIN_NO_PTE_SAME } from '../shm/bugbits.js';
import type { MmCtx } from './model.js';
import { mmapReadLock, mmapReadUnlock } from './mmap_lock.js';
import { findVma } from './tree.js';
import { pteTable, ptep, pteLock, pteUnlock, pteFolio, mkSwapPte, mkPte, pteSwapFolio, setPte } from './pgtable.js';
import {  folioTrylock, folioUnlock, folioPut, folioGet, folioTestFlag, folioSetFlag, folioClearFlag, folioRemoveRmap,
  folioMaybeDmaPinned, isZeroFolio, folioDupRmap, pageCheckAnonRmap, folioTestClearFlag, folioTryGet, folioMapcount, folioFreeSwap,
} from './folio.js';
import { tryToUnmap } from './rmap.js';
import { EV_RMAP_WALK, delayPoint, W_SWAPIN_LOCK } from './debug.js';
import { flushTlbMm } from './tlb.js';
import {
  VMA_START, VMA_FILE, PTE_PRESENT, PTE_SWP_EXCLUSIVE, F_SWAPCOUNT, F_FLAGS, PG_ANON, PG_ANON_EXCLUSIVE, PG_SWAPCACHE,
  PG_WRITEBACK, VMA_FLAGS, VM_WRITE, PTE_WRITE, PTE_SWAP, PTE_DIRTY, MC_SWAPIN, PG_ZERO, PG_LOCKED, MC_RMAP_WALK,
  MC_RMAP_BUSY, F_ANON_VMA, OBJ_STATE,
} from './layout.js';
import { Vmf, folioLockOrRetry, VM_FAULT_SIGBUS, VM_FAULT_MAJOR, FAULT_FLAG_WRITE, vmfPteLockSame } from './vmf.js';
import { ctlDelay } from '../sync/ctl.js';
import { slabObjects, OBJ_LIVE } from './slab.js';

/*
 * Reclaim of one anonymous page (madvise(MADV_PAGEOUT) → shrink_folio_list →
 * try_to_unmap): the folio goes to the swap cache, its PTE becomes a swap
 * entry that remembers exclusivity, and writeback holds the folio lock for a
 * while — during which a swap-in fault must take the folio_lock_or_retry path.
 * Pinned folios are refused (their exclusivity cannot be dropped). And the
 * swap-in fault that maps it back (mm/memory.c do_swap_page).
 */

/** Returns true if the page was swapped out. `ioSpins` is the simulated writeback time. */
export function swapOutPage(c: MmCtx, mm: number, addr: number, ioSpins: number): boolean {
  const i32 = c.i32;
  mmapReadLock(c, mm);
  let done = false;
  let folio = -1;
  const vma = findVma(c, mm, addr);
  const table = vma !== 0 && i32[vma + VMA_START] <= addr && i32[vma + VMA_FILE] === 0 ? pteTable(c, mm, addr) : 0;
  if (table !== 0) {
    const p = ptep(table, addr);
    pteLock(c, table);
    const pte = Atomics.load(i32, p);
    if ((pte & PTE_PRESENT) !== 0) {
      const f = pteFolio(pte);
      // add_to_swap() tests the swap cache under the folio lock: a reclaimer that
      // held it may have left the folio there (its other PTEs still swapped).
      let locked = !isZeroFolio(c, f) && folioTestFlag(c, f, PG_ANON) && !folioMaybeDmaPinned(c, f) && folioTrylock(c, f);
      if (locked && folioTestFlag(c, f, PG_SWAPCACHE)) {
        folioUnlock(c, f);
        locked = false;
      }
      if (locked) {
        const exclusive = folioTestFlag(c, f, PG_ANON_EXCLUSIVE);
        folioGet(c, f); // the swap cache's reference
        folioSetFlag(c, f, PG_SWAPCACHE | PG_WRITEBACK);
        Atomics.add(i32, f + F_SWAPCOUNT, 1);
        setPte(c, table, p, mkSwapPte(f, exclusive ? PTE_SWP_EXCLUSIVE : 0));
        folioClearFlag(c, f, PG_ANON_EXCLUSIVE);
        flushTlbMm(c, mm, addr);
        folioRemoveRmap(c, f);
        folio = f;
        done = true;
      }
    }
    pteUnlock(c, table);
  }
  mmapReadUnlock(c, mm);
  if (folio >= 0) {
    // Writeback in flight: the folio stays locked; we still hold the
    // mapping's reference, so a concurrent zap cannot free it under us.
    writebackWait(c, folio, ioSpins);
    // A zap of the swap PTE while we held the lock could not drop the swap
    // cache (free_swap_and_cache's trylock): pageout() done, drop it now.
    if (folioMapcount(c, folio) === 0) folioFreeSwap(c, folio);
    folioUnlock(c, folio);
    folioPut(c, folio);
  }
  return done;
}

/**
 * The simulated swap I/O of a locked folio with PG_writeback set: `ioSpins`
 * reads of its flags (the time a swap-in finds it locked), then
 * folio_end_writeback().
 */
function writebackWait(c: MmCtx, f: number, ioSpins: number): void {
  // Controlled schedule: the I/O takes virtual time; the other threads run meanwhile.
  if (c.t.ctl !== 0) ctlDelay(c.t, ioSpins);
  else for (let k = 0; k < ioSpins; k++) Atomics.load(c.i32, f + F_FLAGS); // atomic loads are never optimised away
  folioClearFlag(c, f, PG_WRITEBACK);
}

/**
 * shrink_folio_list() for one anon folio that a PFN scan found (kswapd or
 * compaction, not a page-table walk: no mmap_lock, no VMA): a speculative
 * reference (folio_try_get, as isolate_lru_folio), the folio lock,
 * add_to_swap() unless it is in the swap cache already, try_to_unmap()
 * through the reverse map, and writeback once no PTE maps it. A folio some
 * PTE still maps stays in the swap cache, as the kernel's does; an unmapped
 * one only the swap cache holds (a free_swap_and_cache() whose trylock lost
 * to a lock holder) is freed with folio_free_swap(). Returns the PTEs it
 * unmapped.
 */
export function reclaimFolio(c: MmCtx, f: number, ioSpins: number): number {
  const i32 = c.i32;
  if (!folioReclaimable(c, f, Atomics.load(i32, f + F_FLAGS))) return 0;
  if (!folioTryGet(c, f)) return 0;
  // isolate_lru_folio()'s PG_lru test after the reference, before the lock:
  // the folio may have been freed and reused since the first look, and a
  // fresh folio becomes anon only at its first mapping (after its
  // allocator's last plain store of the flags, which must not lose our lock bit).
  if (!folioReclaimable(c, f, Atomics.load(i32, f + F_FLAGS)) || !folioTrylock(c, f)) {
    folioPut(c, f);
    return 0;
  }
  const now = Atomics.load(i32, f + F_FLAGS);
  const unused = folioMapcount(c, f) === 0;
  if ((now & (PG_ANON | PG_ZERO)) !== PG_ANON || unused || folioMaybeDmaPinned(c, f)) {
    if (unused && (now & PG_SWAPCACHE) !== 0) folioFreeSwap(c, f);
    folioUnlock(c, f);
    folioPut(c, f);
    return 0;
  }
  if ((now & PG_SWAPCACHE) === 0) {
    folioGet(c, f); // add_to_swap(): the swap cache's reference
    folioSetFlag(c, f, PG_SWAPCACHE);
  }
  c.t.count(MC_RMAP_WALK);
  const before = folioMapcount(c, f);
  const n = tryToUnmap(c, f);
  if (c.t.tracing) c.t.trace(EV_RMAP_WALK, f, before, n, Atomics.load(i32, f + F_ANON_VMA) - 1);
  if (n < 0) c.t.count(MC_RMAP_BUSY);
  if (folioMapcount(c, f) === 0 && Atomics.load(i32, f + F_SWAPCOUNT) > 0) {
    folioSetFlag(c, f, PG_WRITEBACK); // pageout()
    writebackWait(c, f, ioSpins);
  }
  // No swap entry names it (nothing unmapped, or every swap PTE already zapped): out of the swap cache.
  if (Atomics.load(i32, f + F_SWAPCOUNT) <= 0 && folioTestClearFlag(c, f, PG_SWAPCACHE)) folioPut(c, f);
  folioUnlock(c, f);
  folioPut(c, f);
  return n < 0 ? 0 : n;
}

/** What the PFN scan takes: an unlocked anon folio that is mapped, or held by the swap cache alone. */
function folioReclaimable(c: MmCtx, f: number, fl: number): boolean {
  if ((fl & (PG_ANON | PG_ZERO | PG_LOCKED)) !== PG_ANON) return false;
  return (fl & PG_SWAPCACHE) !== 0 || folioMapcount(c, f) > 0;
}

/**
 * The unused swap cache that reclaim would free in time, all at once, over a
 * stopped world (the final check before the leak count: with every mm
 * exited, the kernel's swap cache may still hold such folios; they are not
 * leaked). reclaimFolio() frees each one no swap entry names.
 */
export function shrinkSwapCache(c: MmCtx): void {
  const { base, cap, words } = slabObjects(c.i32, c.folioSlab);
  for (let k = 0; k < cap; k++) {
    const f = base + k * words;
    if (c.i32[f + OBJ_STATE] === OBJ_LIVE && (c.i32[f + F_FLAGS] & PG_SWAPCACHE) !== 0 && folioMapcount(c, f) === 0) reclaimFolio(c, f, 0);
  }
}

/**
 * do_swap_page() (6.6+, under the VMA lock): the folio is still in the swap
 * cache; lock it (or RETRY), re-check the PTE, map it back, exclusive if the
 * swap entry says so, and drop the swap slot.
 */
export function doSwapPage(c: MmCtx, vmf: Vmf): number {
  const i32 = c.i32;
  const pte = vmf.origPte;
  if ((pte & PTE_SWAP) === 0) return VM_FAULT_SIGBUS;
  const folio = pteSwapFolio(pte);
  const p = ptep(vmf.table, vmf.addr);
  // lookup_swap_cache(): take a reference while the entry is still there.
  if (!vmfPteLockSame(c, vmf)) return 0;
  folioGet(c, folio);
  pteUnlock(c, vmf.table);
  delayPoint(c, W_SWAPIN_LOCK);
  const r = folioLockOrRetry(c, vmf, folio);
  if (r !== 0) {
    folioPut(c, folio);
    return r | VM_FAULT_MAJOR;
  }
  // Bug: map it whatever the PTE became while we slept on the folio lock.
  if ((c.t.bugs1 & BUG1_SWAPIN_NO_PTE_SAME) !== 0) pteLock(c, vmf.table);
  else if (!vmfPteLockSame(c, vmf)) {
    folioUnlock(c, folio);
    folioPut(c, folio);
    return 0;
  }
  const exclusive = (pte & PTE_SWP_EXCLUSIVE) !== 0;
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0 && exclusive && (i32[vmf.vma + VMA_FLAGS] & VM_WRITE) !== 0;
  if (exclusive) folioSetFlag(c, folio, PG_ANON_EXCLUSIVE);
  pageCheckAnonRmap(c, folio, vmf.vma, vmf.addr); // folio_add_anon_rmap_ptes()
  folioDupRmap(c, folio); // the reference we took becomes the mapping's
  setPte(c, vmf.table, p, mkPte(folio, write ? PTE_WRITE | PTE_DIRTY : 0));
  // swap_free(): one swap PTE fewer; the last one frees the swap cache's reference.
  const left = Atomics.sub(i32, folio + F_SWAPCOUNT, 1) - 1;
  let dropCache = false;
  if (left <= 0 && folioTestClearFlag(c, folio, PG_SWAPCACHE)) {
    dropCache = true;
  }
  pteUnlock(c, vmf.table);
  folioUnlock(c, folio);
  if (dropCache) folioPut(c, folio);
  c.t.count(MC_SWAPIN);
  return 0;
}
