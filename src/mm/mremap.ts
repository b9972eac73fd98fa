import { snapStart, snapVma, snapFind, snapInsert, snapRemove, mtPublish, mtFreePrealloc, mtPrealloc } from './tree.js';
import type { MmCtx } from './model.js';
import { mmapWriteUnlock, vmaStartWrite, vmaMarkAttached, vmaMarkDetached } from './mmap_lock.js';
import { pteTable, pteAlloc, ptep, pteLock, pteUnlock, pteLockNested, setPte, ptepGetAndClear, pmdAddrEnd } from './pgtable.js';
import { anonVmaClone, unlinkAnonVmas } from './rmap.js';
import { flushTlbMm } from './tlb.js';
import { VMA_START, VMA_END, VMA_ANON_VMA, MM_MAP_COUNT, MC_ENOMEM } from './layout.js';
import { EV_MREMAP, delayPoint, W_MOVE_PTES } from './debug.js';
import { EINVAL, ENOMEM, EEXIST, EFAULT } from '../errno.js';
import { vmAreaDup, vmAreaFree, mmapWriteBegin, vmaIterPrealloc } from './vma.js';
import { freePgtables } from './memory.js';

/* mremap (mm/mremap.c move_vma, move_page_tables). */

/**
 * mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of [oldAddr, oldAddr + oldLen), a
 * whole VMA, to [newAddr, newAddr + newLen), growing it if newLen > oldLen
 * (vma_to_resize, move_vma). A range that runs past its VMA's end is -EFAULT,
 * as in the kernel ("we can't remap across vm area boundaries"); the model
 * does not split, so a range that starts inside a VMA or ends before its end,
 * or shrinks it, is -EINVAL. The source
 * is write-locked, a copy is inserted at the destination, page tables move
 * under both PTE locks, the source is detached and freed. With `dontunmap`
 * (MREMAP_DONTUNMAP) the source VMA stays, empty, and loses its anon_vma
 * (unlink_anon_vmas) — the step B5a raced against. Returns 0 or -errno.
 */
export function doMremap(c: MmCtx, mm: number, oldAddr: number, oldLen: number, newAddr: number, newLen: number, dontunmap = false): number {
  const i32 = c.i32;
  const err = mmapWriteBegin(c, mm, newAddr, newLen);
  if (err !== 0) return err;
  try {
    const s = c.scratch;
    let n = c.snapN;
    const k = snapFind(s, n, oldAddr);
    if (k >= n || snapStart(s, k) !== oldAddr) return EFAULT;
    const vma = snapVma(s, k);
    const vmaLen = i32[vma + VMA_END] - oldAddr;
    if (oldLen > vmaLen) return EFAULT;
    if (oldLen < vmaLen || newLen < oldLen) return EINVAL;
    const d = snapFind(s, n, newAddr);
    if (d < n && snapStart(s, d) < newAddr + newLen) return EEXIST;
    const node = vmaIterPrealloc(c, n, 1);
    if (node === 0) return ENOMEM;
    const node2 = mtPrealloc(c); // the second tree store: removing the source (or, on failure, the copy)
    if (node2 === 0) {
      mtFreePrealloc(c, node);
      c.t.count(MC_ENOMEM);
      return ENOMEM;
    }
    const nv = vmAreaDup(c, vma, mm);
    if (nv === 0) {
      mtFreePrealloc(c, node);
      mtFreePrealloc(c, node2);
      return ENOMEM;
    }
    i32[nv + VMA_START] = newAddr;
    i32[nv + VMA_END] = newAddr + newLen;
    const av = i32[vma + VMA_ANON_VMA];
    // copy_vma(): anon_vma_clone() links the copy after every link of the source, so an
    // rmap walk visits the old VMA before the new one and cannot miss a moving PTE
    // (need_rmap_locks is false for a new VMA).
    if (av !== 0 && !anonVmaClone(c, nv, vma, null)) {
      vmAreaFree(c, nv);
      mtFreePrealloc(c, node);
      mtFreePrealloc(c, node2);
      return ENOMEM;
    }
    if (av !== 0) i32[nv + VMA_ANON_VMA] = av;
    vmaStartWrite(c, mm, vma);
    // copy_vma() -> vma_link(): write-lock the copy, then store it in the tree.
    // From here until mmap_write_unlock() it is visible at the destination
    // while its page tables are filled: only its write lock keeps per-VMA
    // faults off it.
    vmaStartWrite(c, mm, nv);
    vmaMarkAttached(c, mm, nv);
    n = snapInsert(s, n, snapFind(s, n, newAddr), newAddr, newAddr + newLen, nv);
    i32[mm + MM_MAP_COUNT]++;
    mtPublish(c, mm, s, n, node);
    const moved = movePageTables(c, mm, oldAddr, newAddr, oldLen);
    if (moved < oldLen) {
      // move_vma()'s failure path: move the entries back, then unmap the copy.
      movePageTables(c, mm, newAddr, oldAddr, moved);
      vmaMarkDetached(c, mm, nv);
      n = snapRemove(s, n, snapFind(s, n, newAddr));
      i32[mm + MM_MAP_COUNT]--;
      mtPublish(c, mm, s, n, node2);
      freePgtables(c, mm, newAddr, newAddr + newLen);
      unlinkAnonVmas(c, nv);
      vmAreaFree(c, nv);
      return ENOMEM;
    }
    let dead = -1;
    if (dontunmap) {
      unlinkAnonVmas(c, vma); // the VMA is write-locked: anon_vma -> NULL
      mtFreePrealloc(c, node2);
    } else {
      // do_vmi_munmap() of the old range: the source is already write-locked.
      vmaMarkDetached(c, mm, vma);
      n = snapRemove(s, n, snapFind(s, n, oldAddr));
      dead = vma;
      i32[mm + MM_MAP_COUNT]--;
      mtPublish(c, mm, s, n, node2);
    }
    if (c.t.tracing) c.t.trace(EV_MREMAP, vma, oldAddr, newAddr, newLen);
    // free_pgtables(): unlink_anon_vmas() before the tables go.
    if (dead >= 0) unlinkAnonVmas(c, dead);
    freePgtables(c, mm, oldAddr, oldAddr + oldLen);
    if (dead >= 0) vmAreaFree(c, dead);
    return 0;
  } finally {
    mmapWriteUnlock(c, mm);
  }
}

/**
 * move_page_tables() / move_ptes(): per extent (a run within one source and
 * one destination PTE table) allocate the destination table, then take both
 * PTE locks and move every entry that is not none — tested under the source
 * lock, as move_ptes() does: an rmap walk that is between ptep_clear_flush()
 * and its swap entry (try_to_unmap_one) shows a transient none that a
 * lockless test would skip and leave behind. Flush the old extent before
 * its lock is dropped.
 */
function movePageTables(c: MmCtx, mm: number, from: number, to: number, len: number): number {
  const i32 = c.i32;
  for (let x = 0; x < len; ) {
    const n = Math.min(pmdAddrEnd(from + x, from + len) - from, pmdAddrEnd(to + x, to + len) - to);
    const ot = pteTable(c, mm, from + x);
    if (ot === 0) {
      x = n;
      continue;
    }
    const nt = pteAlloc(c, mm, to + x);
    if (nt === 0) return x; // -ENOMEM: the pages before x have moved
    delayPoint(c, W_MOVE_PTES);
    // Lock order: the source table, then the destination (nested) if different.
    pteLock(c, ot);
    if (nt !== ot) pteLockNested(c, nt);
    let moved = false;
    for (; x < n; x++) {
      const op = ptep(ot, from + x);
      if (i32[op] === 0) continue; // ptep_get() under the PT lock every PTE writer holds
      const pte = ptepGetAndClear(c, ot, op);
      setPte(c, nt, ptep(nt, to + x), pte);
      moved = true;
    }
    if (nt !== ot) pteUnlock(c, nt);
    if (moved) flushTlbMm(c, mm, from + n - 1);
    pteUnlock(c, ot);
  }
  return len;
}
