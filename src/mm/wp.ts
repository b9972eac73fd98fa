import type { MmCtx } from './model.js';
import { LC_PTL } from '../sync/lockclass.js';
import { lockdepAssertHeld, AH_WP_CAN_REUSE } from '../sync/lockdep.js';
import { ptep, pteUnlock, pteFolio, mkPte, setPte } from './pgtable.js';
import {  folioAlloc, folioGet, folioPut, folioAddNewAnonRmap, folioRemoveRmap, folioTrylock, folioUnlock, isZeroFolio,
  folioTestFlag, folioSetFlag, folioRefCount, folioFreeSwap,
} from './folio.js';
import { flushTlbMm } from './tlb.js';
import { BUG1_B6_COW_REUSE_SHARED } from '../shm/bugbits.js';
import {
  PT_PTL, VMA_FLAGS, VMA_ANON_VMA, VM_WRITE, VM_SHARED, PTE_WRITE, PTE_DIRTY, F_CONTENT, F_CONTENT2, F_FLAGS,
  F_ANON_VMA, PG_ANON_EXCLUSIVE, PG_SWAPCACHE, PG_DIRTY, PG_ANON, MC_WP_REUSE, MC_WP_COPY, MC_ENOMEM, MC_IO_THROTTLE,
} from './layout.js';
import {
  Vmf, vmfAnonPrepare, maybeUnlockMmapForIo, VM_FAULT_OOM, VM_FAULT_COMPLETED, FAULT_FLAG_UNSHARE, vmfPteLockSame,
} from './vmf.js';

/*
 * Write faults on present PTEs (mm/memory.c do_wp_page, wp_page_copy,
 * wp_can_reuse_anon_folio, fault_dirty_shared_page): copy-on-write and
 * the reuse of exclusive anonymous folios.
 */

/**
 * fault_dirty_shared_page(): mark the folio dirty; if it was clean, drop the
 * fault lock for balance_dirty_pages and report COMPLETED.
 */
export function faultDirtySharedPage(c: MmCtx, vmf: Vmf, folio: number): number {
  const was = Atomics.or(c.i32, folio + F_FLAGS, PG_DIRTY);
  if ((was & PG_DIRTY) !== 0) return 0;
  if (!maybeUnlockMmapForIo(c, vmf)) return 0;
  c.t.count(MC_IO_THROTTLE);
  // balance_dirty_pages_ratelimited(): the writer is throttled without locks.
  for (let k = 0; k < 64; k++) Atomics.load(c.i32, folio + F_FLAGS);
  // Writeback cleans the folio again, so later first-writes throttle too.
  Atomics.and(c.i32, folio + F_FLAGS, ~PG_DIRTY);
  return VM_FAULT_COMPLETED;
}

/**
 * do_wp_page(): write to a read-only present PTE. Shared mappings become
 * writable (wp_page_shared); an exclusive anon folio is reused; a folio we
 * are the only user of is made exclusive and reused
 * (wp_can_reuse_anon_folio); anything else is copied (wp_page_copy).
 */
export function doWpPage(c: MmCtx, vmf: Vmf): number {
  const i32 = c.i32;
  const vma = vmf.vma;
  const pte = vmf.origPte;
  const folio = pteFolio(pte);
  const p = ptep(vmf.table, vmf.addr);
  const unshare = (vmf.flags & FAULT_FLAG_UNSHARE) !== 0;
  if ((i32[vma + VMA_FLAGS] & VM_SHARED) !== 0 && !isZeroFolio(c, folio)) {
    // wp_page_shared()
    folioGet(c, folio);
    if (!vmfPteLockSame(c, vmf)) {
      folioPut(c, folio);
      return 0;
    }
    setPte(c, vmf.table, p, pte | PTE_WRITE | PTE_DIRTY);
    pteUnlock(c, vmf.table);
    const ret = faultDirtySharedPage(c, vmf, folio);
    folioPut(c, folio);
    return ret;
  }
  if (!isZeroFolio(c, folio) && folioTestFlag(c, folio, PG_ANON)) {
    if (!vmfPteLockSame(c, vmf)) return 0;
    const reuseAny = (c.t.bugs1 & BUG1_B6_COW_REUSE_SHARED) !== 0; // bug: pre-5.19 reuse without exclusivity
    if (reuseAny || folioTestFlag(c, folio, PG_ANON_EXCLUSIVE) || wpCanReuseAnonFolio(c, folio, vma, vmf.table)) {
      // wp_page_reuse()
      if (!unshare) setPte(c, vmf.table, p, pte | PTE_WRITE | PTE_DIRTY);
      pteUnlock(c, vmf.table);
      c.t.count(MC_WP_REUSE);
      return 0;
    }
    pteUnlock(c, vmf.table);
  }
  return wpPageCopy(c, vmf);
}

/**
 * wp_can_reuse_anon_folio() (6.x): no other reference than the swap cache's,
 * the folio lock can be taken, folio_free_swap(), then the mapping's must be
 * the only reference left; the folio becomes exclusive
 * (folio_move_anon_rmap). Asserts the caller holds the PTE lock of `table`.
 */
function wpCanReuseAnonFolio(c: MmCtx, folio: number, vma: number, table: number): boolean {
  lockdepAssertHeld(c.t, table + PT_PTL, LC_PTL, AH_WP_CAN_REUSE);
  const swapcache = folioTestFlag(c, folio, PG_SWAPCACHE) ? 1 : 0;
  if (folioRefCount(c, folio) > 1 + swapcache) return false;
  if (!folioTrylock(c, folio)) return false;
  if (swapcache !== 0) folioFreeSwap(c, folio);
  const ok = folioRefCount(c, folio) === 1;
  if (ok) {
    c.i32[folio + F_ANON_VMA] = c.i32[vma + VMA_ANON_VMA];
    folioSetFlag(c, folio, PG_ANON_EXCLUSIVE);
  }
  folioUnlock(c, folio);
  return ok;
}

/** wp_page_copy(): copy-on-write into a fresh exclusive folio. */
export function wpPageCopy(c: MmCtx, vmf: Vmf): number {
  const i32 = c.i32;
  const ret = vmfAnonPrepare(c, vmf);
  if (ret !== 0) return ret;
  const old = pteFolio(vmf.origPte);
  const folio = folioAlloc(c, vmf.mm);
  if (folio === 0) {
    c.t.count(MC_ENOMEM);
    return VM_FAULT_OOM;
  }
  Atomics.store(i32, folio + F_CONTENT, Atomics.load(i32, old + F_CONTENT));
  Atomics.store(i32, folio + F_CONTENT2, Atomics.load(i32, old + F_CONTENT2));
  const p = ptep(vmf.table, vmf.addr);
  if (!vmfPteLockSame(c, vmf)) {
    folioPut(c, folio);
    return 0;
  }
  // The copy must be of the content at the time the PTE was still the same.
  Atomics.store(i32, folio + F_CONTENT, Atomics.load(i32, old + F_CONTENT));
  Atomics.store(i32, folio + F_CONTENT2, Atomics.load(i32, old + F_CONTENT2));
  folioAddNewAnonRmap(c, folio, vmf.vma, vmf.addr);
  const unshare = (vmf.flags & FAULT_FLAG_UNSHARE) !== 0;
  const w = !unshare && (i32[vmf.vma + VMA_FLAGS] & VM_WRITE) !== 0 ? PTE_WRITE | PTE_DIRTY : 0;
  setPte(c, vmf.table, p, mkPte(folio, w));
  flushTlbMm(c, vmf.mm, vmf.addr);
  folioRemoveRmap(c, old);
  pteUnlock(c, vmf.table);
  folioPut(c, old);
  c.t.count(MC_WP_COPY);
  return 0;
}
