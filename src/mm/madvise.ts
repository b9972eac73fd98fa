import type { MmCtx } from './model.js';
import { mmapReadUnlock, mmapReadLock, lockVmaUnderRcu, vmaEndRead } from './mmap_lock.js';
import { findVma } from './tree.js';
import { VMA_START, VMA_END, VMA_UFFD } from './layout.js';
import { EINVAL, ENOMEM } from '../errno.js';
import { badRange } from './vma.js';
import { zapPteRange } from './memory.js';

/* madvise (mm/madvise.c madvise_dontneed_single_vma). */

/**
 * madvise(MADV_DONTNEED): zap the PTEs of every VMA in the range (the VMAs
 * stay; a hole is -ENOMEM), under mmap_lock for read — or, from 6.16 (E3
 * with per-VMA locks), under the read lock of the one VMA that holds the
 * whole range (try_vma_read_lock(): a range past that VMA or a
 * userfaultfd-armed VMA falls back to mmap_lock). Returns 0 or -errno.
 */
export function doMadviseDontneed(c: MmCtx, mm: number, start: number, len: number): number {
  if (badRange(c, start, len)) return EINVAL;
  if (c.perVma && c.vl.madviseVmaLock) {
    const vma = lockVmaUnderRcu(c, mm, start);
    if (vma !== 0) {
      const i32 = c.i32;
      if (start + len <= i32[vma + VMA_END] && i32[vma + VMA_UFFD] === 0) {
        zapPteRange(c, mm, start, start + len);
        vmaEndRead(c, vma);
        return 0;
      }
      vmaEndRead(c, vma);
    }
  }
  // madvise_walk_vmas(): every VMA in the range; a hole is -ENOMEM, after
  // the VMAs around it were zapped all the same.
  const i32 = c.i32;
  const end = start + len;
  mmapReadLock(c, mm);
  let unmapped = false;
  let a = start;
  while (a < end) {
    const vma = findVma(c, mm, a);
    if (vma === 0 || i32[vma + VMA_START] >= end) {
      unmapped = true;
      break;
    }
    if (i32[vma + VMA_START] > a) unmapped = true;
    const to = Math.min(end, i32[vma + VMA_END]);
    zapPteRange(c, mm, Math.max(a, i32[vma + VMA_START]), to);
    a = to;
  }
  mmapReadUnlock(c, mm);
  return unmapped ? ENOMEM : 0;
}
