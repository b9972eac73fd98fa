import { SINGLE_DEPTH_NESTING } from '../sync/lockclass.js';
import { snapStart, snapEnd, snapVma, mtSnapshot, mtPrealloc, mtPublish, snapInsert } from './tree.js';
import type { MmCtx } from './model.js';
import {
  mmapWriteLockKillable, mmapWriteUnlock, vmaStartWrite, vmaMarkAttached, vmaAssertWriteLocked, mmapWriteLockNested,
} from './mmap_lock.js';
import { pteTable, pteAlloc, ptep, pteLock, pteUnlock, pteFolio, mkPte, pteSwapFolio, pmdAddrEnd, pteLockNested, setPte } from './pgtable.js';
import {
  folioAlloc, folioGet, folioDupRmap, folioAddNewAnonRmap, pageCheckAnonRmap, folioMaybeDmaPinned, folioTestFlag, folioClearFlag,
  isZeroFolio,
} from './folio.js';
import { anonVmaFork } from './rmap.js';
import { writeSeqcountBegin, writeSeqcountEnd } from '../sync/seqcount.js';
import { flushTlbMm } from './tlb.js';
import { vmAreaDup, vmAreaFree } from './vma.js';
import { mmAlloc, exitMmap, mmFree, setrlimitStack } from './mmap.js';
import { ENOMEM, EINTR } from '../errno.js';
import { BUG1_B6_FORK_SHARES_PINNED, BUG1_FORK_NO_FLUSH } from '../shm/bugbits.js';
import { delayPoint, W_COPY_PAGE_RANGE, EV_FORK } from './debug.js';
import {
  VMA_START, VMA_END, VMA_FLAGS, VMA_ANON_VMA, VM_WIPEONFORK, VM_WRITE, MM_MAP_COUNT,
  MM_WRITE_PROTECT_SEQ, MM_FLAGS, MMF_HAS_PINNED, PTE_PRESENT, PTE_SWAP, PTE_WRITE, PTE_SWP_EXCLUSIVE, PTE_DIRTY,
  F_CONTENT, F_CONTENT2, F_SWAPCOUNT, PG_ANON_EXCLUSIVE, PG_ANON, MC_FORK_COPY_PINNED,
  VMA_UFFD, MM_RLIMIT_STACK,
} from './layout.js';

/*
 * fork: dup_mmap() (kernel/fork.c) and copy_page_range() → copy_present_ptes()
 * (mm/memory.c), with the 5.19 anon-exclusive rules and the 5.11
 * write_protect_seq bracket against GUP-fast.
 */

/**
 * copy_present_pte() for one anon PTE (parent and child PTE locks held).
 * folio_try_dup_anon_rmap_pte(): an exclusive folio that may be pinned in an
 * mm that pins cannot be shared — the child gets a copy (copy_present_page)
 * and the parent keeps it exclusive and writable. Otherwise exclusivity is
 * cleared, both map it, and a writable parent PTE is write-protected.
 * Returns the child's PTE, or -1 on -ENOMEM.
 */
export function copyPresentPte(c: MmCtx, srcMm: number, dstMm: number, dstVma: number, srcTable: number, srcP: number, pte: number, addr: number): number {
  const i32 = c.i32;
  const folio = pteFolio(pte);
  if (isZeroFolio(c, folio)) return pte;
  if (!folioTestFlag(c, folio, PG_ANON)) {
    // Shared file folio: both map it.
    folioGet(c, folio);
    folioDupRmap(c, folio);
    return pte;
  }
  const pinnedMm = (Atomics.load(i32, srcMm + MM_FLAGS) & MMF_HAS_PINNED) !== 0;
  if (folioTestFlag(c, folio, PG_ANON_EXCLUSIVE) && pinnedMm && folioMaybeDmaPinned(c, folio) &&
      (c.t.bugs1 & BUG1_B6_FORK_SHARES_PINNED) === 0) {
    const copy = folioAlloc(c, dstMm);
    if (copy === 0) return -1;
    Atomics.store(i32, copy + F_CONTENT, Atomics.load(i32, folio + F_CONTENT));
    Atomics.store(i32, copy + F_CONTENT2, Atomics.load(i32, folio + F_CONTENT2));
    folioAddNewAnonRmap(c, copy, dstVma, addr);
    c.t.count(MC_FORK_COPY_PINNED);
    return mkPte(copy, (i32[dstVma + VMA_FLAGS] & VM_WRITE) !== 0 ? PTE_WRITE | PTE_DIRTY : 0);
  }
  pageCheckAnonRmap(c, folio, dstVma, addr); // the child's rmap must reach its copy of the mapping
  folioClearFlag(c, folio, PG_ANON_EXCLUSIVE);
  folioGet(c, folio);
  folioDupRmap(c, folio);
  if ((pte & PTE_WRITE) !== 0) {
    setPte(c, srcTable, srcP, pte & ~PTE_WRITE); // ptep_set_wrprotect()
    return pte & ~PTE_WRITE;
  }
  return pte;
}

/**
 * copy_page_range() for one VMA, bracketed by write_protect_seq, with the
 * source VMA write-locked (6.5+: vma_assert_write_locked(src_vma), asserted).
 * Returns false on -ENOMEM.
 */
export function copyPageRange(c: MmCtx, srcMm: number, dstMm: number, srcVma: number, dstVma: number): boolean {
  const i32 = c.i32;
  const start = i32[srcVma + VMA_START];
  const end = i32[srcVma + VMA_END];
  if (c.t.checks) vmaAssertWriteLocked(c, srcMm, srcVma);
  // vma_needs_copy(): without an anon_vma (read now, after anon_vma_fork())
  // the source maps only page cache and the zero page, which the child's
  // faults fill again.
  if (i32[srcVma + VMA_ANON_VMA] === 0) return true;
  writeSeqcountBegin(i32, srcMm + MM_WRITE_PROTECT_SEQ);
  let ok = true;
  const flush = (c.t.bugs1 & BUG1_FORK_NO_FLUSH) === 0; // bug: the parent keeps writable translations
  for (let a = start; a < end && ok; ) {
    const tableEnd = pmdAddrEnd(a, end);
    const st = pteTable(c, srcMm, a);
    if (st !== 0) {
      const dt = pteAlloc(c, dstMm, a);
      if (dt === 0) {
        ok = false;
        break;
      }
      delayPoint(c, W_COPY_PAGE_RANGE);
      pteLock(c, st);
      pteLockNested(c, dt); // the child's table, nested in the parent's (copy_pte_range)
      let wrprotected = false;
      for (let x = a; x < tableEnd; x++) {
        const sp = ptep(st, x);
        const pte = Atomics.load(i32, sp);
        if (pte === 0) continue;
        let dpte = pte;
        if ((pte & PTE_PRESENT) !== 0) {
          dpte = copyPresentPte(c, srcMm, dstMm, dstVma, st, sp, pte, x);
          if (dpte === -1) {
            ok = false;
            break;
          }
          if ((pte & PTE_WRITE) !== 0 && (Atomics.load(i32, sp) & PTE_WRITE) === 0) wrprotected = true;
        } else if ((pte & PTE_SWAP) !== 0) {
          // copy_nonpresent_pte(): swap_duplicate(); neither copy stays exclusive.
          const f = pteSwapFolio(pte);
          Atomics.add(i32, f + F_SWAPCOUNT, 1);
          if ((pte & PTE_SWP_EXCLUSIVE) !== 0) setPte(c, st, sp, pte & ~PTE_SWP_EXCLUSIVE);
          dpte = pte & ~PTE_SWP_EXCLUSIVE;
        } else {
          continue; // uffd-wp markers do not survive into an unregistered child
        }
        setPte(c, dt, ptep(dt, x), dpte);
      }
      if (wrprotected && flush) flushTlbMm(c, srcMm, a);
      pteUnlock(c, dt);
      pteUnlock(c, st);
    }
    a = tableEnd;
  }
  writeSeqcountEnd(i32, srcMm + MM_WRITE_PROTECT_SEQ);
  return ok;
}

/**
 * dup_mmap(): write-lock the parent (killable) and the child (nested);
 * write-lock each parent VMA (6.4.3+) before copying it; copy VMAs, anon_vma
 * chains and, unless the range can be refilled by faults, the page tables.
 * Returns the child mm, or -errno.
 */
export function dupMmap(c: MmCtx, oldmm: number): number {
  const i32 = c.i32;
  const mm = mmAlloc(c);
  if (mm < 0) return ENOMEM;
  setrlimitStack(c, mm, Atomics.load(i32, oldmm + MM_RLIMIT_STACK)); // copy_signal(): the rlimits
  if (mmapWriteLockKillable(c, oldmm) !== 0) {
    mmFree(c, mm);
    return EINTR;
  }
  mmapWriteLockNested(c, mm, SINGLE_DEPTH_NESTING); // dup_mmap: the child's, nested in the parent's
  const s = c.scratch;
  const n = mtSnapshot(c, oldmm, s);
  const d = c.scratch2;
  let dn = 0;
  let failed = false;
  const node = mtPrealloc(c);
  if (node === 0) failed = true;
  for (let k = 0; k < n && !failed; k++) {
    const mpnt = snapVma(s, k);
    vmaStartWrite(c, oldmm, mpnt);
    const tmp = vmAreaDup(c, mpnt, mm);
    if (tmp === 0 || !anonVmaFork(c, tmp, mpnt, mm)) {
      if (tmp !== 0) vmAreaFree(c, tmp);
      failed = true;
      break;
    }
    i32[tmp + VMA_UFFD] = 0; // the child is not registered with the parent's userfaultfd
    vmaStartWrite(c, mm, tmp);
    vmaMarkAttached(c, mm, tmp);
    dn = snapInsert(d, dn, dn, snapStart(s, k), snapEnd(s, k), tmp); // vma_iter_bulk_store()
    i32[mm + MM_MAP_COUNT]++;
    const flags = i32[mpnt + VMA_FLAGS];
    if ((flags & VM_WIPEONFORK) !== 0) continue;
    if (!copyPageRange(c, oldmm, mm, mpnt, tmp)) failed = true;
  }
  if (node !== 0) mtPublish(c, mm, d, dn, node);
  mmapWriteUnlock(c, mm);
  mmapWriteUnlock(c, oldmm);
  if (failed) {
    exitMmap(c, mm);
    mmFree(c, mm);
    return ENOMEM;
  }
  if (c.t.tracing) c.t.trace(EV_FORK, oldmm, mm, 0, 0);
  return mm;
}

