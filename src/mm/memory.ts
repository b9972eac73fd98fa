import { BUG1_ZAP_FREE_BEFORE_FLUSH } from '../shm/bugbits.js';
import type { MmCtx } from './model.js';
import { Viol } from '../shm/kinds.js';
import { findVma } from './tree.js';
import { pteTable, ptep, pteLock, pteUnlock, pteFolio, freePteTable, pteSwapFolio, pmdAddrEnd, setPte } from './pgtable.js';
import { folioPut, folioRemoveRmap, freeSwapAndCache } from './folio.js';
import { flushTlbMm } from './tlb.js';
import { VMA_START, VMA_END, PTRS_PER_PTE, PT_ENTRIES, PTE_PRESENT, PTE_SWAP, MM_ZAPPING, OBJ_GEN } from './layout.js';
import { kasanCheckGen, KS_ZAP_PT } from './kasan.js';


/*
 * Tearing down page tables (mm/memory.c zap_pte_range, unmap_page_range;
 * mm/memory.c free_pgtables).
 */

/**
 * zap_pte_range() over [start, end): clear present and swap entries under the
 * PTE lock, flush the TLB, then drop rmap and references.
 */
export function zapPteRange(c: MmCtx, mm: number, start: number, end: number): void {
  const i32 = c.i32;
  const hint = c.t.windowed;
  const late = (c.t.bugs1 & BUG1_ZAP_FREE_BEFORE_FLUSH) !== 0; // bug: the pages go before the flush
  if (hint) Atomics.add(i32, mm + MM_ZAPPING, 1);
  for (let a = start; a < end; ) {
    const tableEnd = pmdAddrEnd(a, end);
    const table = pteTable(c, mm, a);
    if (table !== 0) {
      const gen = c.t.checks ? i32[table + OBJ_GEN] : 0;
      pteLock(c, table);
      // The table must outlive the wait for its lock: whatever the caller
      // holds (mmap_lock, or the VMA lock of a range inside one VMA) keeps
      // free_pgtables() off it.
      kasanCheckGen(c, table, gen, KS_ZAP_PT, false);
      let cleared = 0;
      const sc = c.scratch2;
      for (let x = a; x < tableEnd; x++) {
        const p = ptep(table, x);
        const pte = i32[p]; // ptep_get() under the PT lock every PTE writer holds
        if (pte === 0) continue;
        setPte(c, table, p, 0);
        if ((pte & PTE_PRESENT) !== 0) {
          sc[cleared++] = pteFolio(pte);
        } else if ((pte & PTE_SWAP) !== 0) {
          const f = pteSwapFolio(pte);
          freeSwapAndCache(c, f);
          sc[cleared++] = -1 - f; // the swap cache lookup's reference, not a mapping
        }
      }
      if (cleared > 0 && !late) flushTlbMm(c, mm, a);
      for (let k = 0; k < cleared; k++) {
        const f = sc[k];
        if (f >= 0) {
          folioRemoveRmap(c, f);
          folioPut(c, f);
        }
      }
      if (cleared > 0 && late) flushTlbMm(c, mm, a);
      pteUnlock(c, table);
      for (let k = 0; k < cleared; k++) if (sc[k] < 0) folioPut(c, -1 - sc[k]);
    }
    a = tableEnd;
  }
  if (hint) Atomics.sub(i32, mm + MM_ZAPPING, 1);
}

/** The index of the table's first non-none entry, or -1. */
function tableFirstUsed(c: MmCtx, table: number): number {
  for (let k = 0; k < PTRS_PER_PTE; k++) if (Atomics.load(c.i32, table + PT_ENTRIES + k) !== 0) return k;
  return -1;
}

/**
 * free_pgtables() for [start, end): free every PTE table in the range that no
 * VMA of the current tree covers any more. The zap (or move_page_tables)
 * emptied the range, and nothing can populate a range no VMA covers, so an
 * entry left in it is a fault that raced the unmap or a move that left one
 * behind (the kernel frees the table anyway and its pages leak; mmdrop's
 * check_mm reports "Bad rss-counter state"): an oracle reports it here —
 * in a table still in use by a neighbour too, for the part of the range no
 * VMA covers — and the model keeps the table so that nothing cascades from
 * the report. Caller holds the mmap lock (the tree cannot change).
 */
export function freePgtables(c: MmCtx, mm: number, start: number, end: number): void {
  const i32 = c.i32;
  for (let a = start & ~(PTRS_PER_PTE - 1); a < end; a += PTRS_PER_PTE) {
    const table = pteTable(c, mm, a);
    if (table === 0) continue;
    const next = findVma(c, mm, a);
    if (next !== 0 && i32[next + VMA_START] < a + PTRS_PER_PTE) {
      // Still used by a VMA: the vacated part of the range must be empty all the same.
      if (c.t.checks) strayInVacated(c, mm, table, Math.max(a, start), Math.min(a + PTRS_PER_PTE, end));
      continue;
    }
    const used = tableFirstUsed(c, table);
    if (used >= 0) {
      if (c.t.checks) c.t.violation(Viol.PgtableFreeInUse, mm, a + used, Atomics.load(i32, table + PT_ENTRIES + used), 0, 0);
      continue;
    }
    freePteTable(c, mm, a);
  }
}

/** The oracle of free_pgtables() for [from, to) of a table a VMA still uses: an entry at a page no VMA covers. */
function strayInVacated(c: MmCtx, mm: number, table: number, from: number, to: number): void {
  const i32 = c.i32;
  for (let x = from; x < to; ) {
    const v = findVma(c, mm, x);
    const vs = v === 0 ? to : i32[v + VMA_START];
    if (vs <= x) {
      x = i32[v + VMA_END];
      continue;
    }
    for (const stop = Math.min(vs, to); x < stop; x++) {
      const pte = Atomics.load(i32, ptep(table, x));
      if (pte !== 0) {
        c.t.violation(Viol.PgtableFreeInUse, mm, x, pte, 0, 0);
        return;
      }
    }
  }
}
