import type { MmCtx } from './model.js';
import { flushTlbMm } from './tlb.js';
import { spinLock, spinUnlock, spinLockNested } from '../sync/spinlock.js';
import { SINGLE_DEPTH_NESTING } from '../sync/lockclass.js';
import { lockdepAssertHeld, AH_SET_PTE } from '../sync/lockdep.js';
import { LC_PTL, LC_PAGE_TABLE_LOCK } from '../sync/lockclass.js';
import { kmemCacheAlloc, kmemCacheFree } from './slab.js';
import {
  MM_PGD, MM_PAGE_TABLE_LOCK, MM_NR_PTES, PT_PTL, PT_MM, PT_ADDR, PT_ENTRIES, PTE_SHIFT, PTRS_PER_PTE,
  PTE_PFN_SHIFT, PTE_PRESENT, PTE_SWAP,
} from './layout.js';

/*
 * Two-level page tables with split PTE locks (mm/memory.c __pte_alloc,
 * pte_offset_map_lock). The top-level table lives in the mm record; PTE
 * tables come from a slab and are freed through RCU, so the lockless
 * GUP-fast walk and the "hardware" walk can still read a table that is being
 * torn down.
 */

/** The PTE table covering addr, or 0 (pte_offset_map() finding no table). */
export function pteTable(c: MmCtx, mm: number, addr: number): number {
  const t1 = Atomics.load(c.i32, c.i32[mm + MM_PGD] + (addr >> PTE_SHIFT));
  return t1 === 0 ? 0 : t1 - 1;
}

/** Word index of the PTE for addr in `table`. */
export function ptep(table: number, addr: number): number {
  return table + PT_ENTRIES + (addr & (PTRS_PER_PTE - 1));
}

/** __pte_alloc(): make sure a PTE table covers addr; populated under page_table_lock. 0 on -ENOMEM. */
export function pteAlloc(c: MmCtx, mm: number, addr: number): number {
  const have = pteTable(c, mm, addr);
  if (have !== 0) return have;
  const table = kmemCacheAlloc(c.t, c.ptSlab);
  if (table === 0) return 0;
  c.i32[table + PT_MM] = mm + 1;
  c.i32[table + PT_ADDR] = addr & ~(PTRS_PER_PTE - 1);
  const slot = c.i32[mm + MM_PGD] + (addr >> PTE_SHIFT);
  spinLock(c.t, mm + MM_PAGE_TABLE_LOCK, LC_PAGE_TABLE_LOCK);
  const cur = Atomics.load(c.i32, slot);
  if (cur === 0) {
    Atomics.store(c.i32, slot, table + 1); // pmd_populate()
    Atomics.add(c.i32, mm + MM_NR_PTES, 1);
  }
  spinUnlock(c.t, mm + MM_PAGE_TABLE_LOCK, LC_PAGE_TABLE_LOCK);
  if (cur !== 0) {
    kmemCacheFree(c.t, c.ptSlab, table, c.rcuFn); // lost the race: someone populated it
    return cur - 1;
  }
  return table;
}

/** pte_lockptr() + spin_lock(). */
export function pteLock(c: MmCtx, table: number): void {
  spinLock(c.t, table + PT_PTL, LC_PTL);
}

/** spin_lock_nested(ptl, SINGLE_DEPTH_NESTING): a second PTE lock while holding one (move_ptes, copy_pte_range). */
export function pteLockNested(c: MmCtx, table: number): void {
  spinLockNested(c.t, table + PT_PTL, LC_PTL, SINGLE_DEPTH_NESTING);
}

export function pteUnlock(c: MmCtx, table: number): void {
  spinUnlock(c.t, table + PT_PTL, LC_PTL);
}

/** pmd_addr_end(): the end of the PTE table's range that `addr` is in, capped at `end`. */
export function pmdAddrEnd(addr: number, end: number): number {
  return Math.min(end, (addr & ~(PTRS_PER_PTE - 1)) + PTRS_PER_PTE);
}

/**
 * set_pte_at() / ptep_set_*(): store the PTE at `p` of `table`; the caller
 * holds the table's PTE lock (asserted, lockdep_assert_held(ptl); free under
 * --no-check). Every PTE write of the model goes through here or
 * ptepGetAndClear; lockless walkers only read.
 */
export function setPte(c: MmCtx, table: number, p: number, pte: number): void {
  lockdepAssertHeld(c.t, table + PT_PTL, LC_PTL, AH_SET_PTE);
  Atomics.store(c.i32, p, pte);
}

/** ptep_get_and_clear(): the PTE at `p` of `table`, cleared; the caller holds the PTE lock (asserted). */
export function ptepGetAndClear(c: MmCtx, table: number, p: number): number {
  lockdepAssertHeld(c.t, table + PT_PTL, LC_PTL, AH_SET_PTE);
  return Atomics.exchange(c.i32, p, 0);
}

/** Folio record of a present PTE (0 if none). */
export function pteFolio(pte: number): number {
  return (pte >>> PTE_PFN_SHIFT) - 1;
}

/*
 * Swap entries: the model keeps the swapped-out folio as the swap slot
 * (swp_entry_t names the folio in the swap cache), with PTE_SWAP set and
 * PTE_PRESENT clear; PTE_SWP_EXCLUSIVE as in the kernel.
 */

/** pte_to_swp_entry() + the swap cache lookup: the folio a swap PTE names. */
export function pteSwapFolio(pte: number): number {
  return (pte >>> PTE_PFN_SHIFT) - 1;
}

/** swp_entry_to_pte(): a swap PTE for `folio` with extra bits. */
export function mkSwapPte(folio: number, bits: number): number {
  return ((folio + 1) << PTE_PFN_SHIFT) | PTE_SWAP | bits;
}

/** mk_pte(): a present PTE for `folio` with extra bits. */
export function mkPte(folio: number, bits: number): number {
  return ((folio + 1) << PTE_PFN_SHIFT) | PTE_PRESENT | bits;
}

/**
 * free_pgtables() for one table: unhook it from the top level (under
 * page_table_lock) and free it after a grace period. The caller has made sure
 * no VMA covers the table's range and every entry is none.
 */
export function freePteTable(c: MmCtx, mm: number, addr: number): void {
  const slot = c.i32[mm + MM_PGD] + (addr >> PTE_SHIFT);
  spinLock(c.t, mm + MM_PAGE_TABLE_LOCK, LC_PAGE_TABLE_LOCK);
  const t1 = Atomics.exchange(c.i32, slot, 0);
  if (t1 !== 0) Atomics.sub(c.i32, mm + MM_NR_PTES, 1);
  spinUnlock(c.t, mm + MM_PAGE_TABLE_LOCK, LC_PAGE_TABLE_LOCK);
  if (t1 === 0) return;
  // tlb_remove_table_sync_one(): the IPI that waits out lockless walkers
  // (GUP-fast, the MMU walk run with "interrupts disabled", not under RCU)
  // that may still hold the table; then free it after a grace period.
  flushTlbMm(c, mm, addr);
  kmemCacheFree(c.t, c.ptSlab, t1 - 1, c.rcuFn);
}

