import type { MmCtx } from './model.js';
import { mmapReadLock, mmapReadUnlock } from './mmap_lock.js';
import { findVma } from './tree.js';
import { pteTable, ptep, pteLock, pteUnlock, pteFolio } from './pgtable.js';
import {
  folioTrylock, folioUnlock, folioPut, folioGet, folioTestFlag, folioSetFlag, folioClearFlag, folioRemoveRmap,
  folioMaybeDmaPinned, isZeroFolio,
} from './folio.js';
import { flushTlbMm } from './tlb.js';
import {
  VMA_START, VMA_FILE, PTE_PRESENT, PTE_SWAP, PTE_SWP_EXCLUSIVE, PTE_PFN_SHIFT, F_SWAPCOUNT, F_FLAGS, PG_ANON,
  PG_ANON_EXCLUSIVE, PG_SWAPCACHE, PG_WRITEBACK,
} from './layout.js';

/*
 * Reclaim of one anonymous page (madvise(MADV_PAGEOUT) → shrink_folio_list →
 * try_to_unmap): the folio goes to the swap cache, its PTE becomes a swap
 * entry that remembers exclusivity, and writeback holds the folio lock for a
 * while — during which a swap-in fault must take the folio_lock_or_retry path.
 * Pinned folios are refused (their exclusivity cannot be dropped).
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
      if (!isZeroFolio(c, f) && folioTestFlag(c, f, PG_ANON) && !folioTestFlag(c, f, PG_SWAPCACHE) &&
          !folioMaybeDmaPinned(c, f) && folioTrylock(c, f)) {
        const exclusive = folioTestFlag(c, f, PG_ANON_EXCLUSIVE);
        folioGet(c, f); // the swap cache's reference
        folioSetFlag(c, f, PG_SWAPCACHE | PG_WRITEBACK);
        Atomics.add(i32, f + F_SWAPCOUNT, 1);
        Atomics.store(i32, p, ((f + 1) << PTE_PFN_SHIFT) | PTE_SWAP | (exclusive ? PTE_SWP_EXCLUSIVE : 0));
        folioClearFlag(c, f, PG_ANON_EXCLUSIVE);
        flushTlbMm(c, mm);
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
    let x = 0;
    for (let k = 0; k < ioSpins; k++) x += Atomics.load(i32, folio + F_FLAGS);
    folioClearFlag(c, folio, PG_WRITEBACK);
    folioUnlock(c, folio);
    folioPut(c, folio);
    if (x < 0) return false;
  }
  return done;
}
