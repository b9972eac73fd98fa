import type { MmCtx } from './model.js';
import { mmapReadUnlock, mmapReadLock, lockVmaUnderRcu, vmaEndRead } from './mmap_lock.js';
import { findVma } from './tree.js';
import { VMA_START, VMA_END, VMA_UFFD } from './layout.js';
import { EINVAL, ENOMEM } from '../errno.js';
import { badRange } from './vma.js';
import { zapPteRange } from './memory.js';

/* madvise (mm/madvise.c madvise_dontneed_single_vma). */

/**
 * madvise(MADV_DONTNEED): zap the PTEs of the range (the VMAs stay), under
 * mmap_lock for read — or, from 6.16 (E3 with per-VMA locks), under the read
 * lock of the one VMA that holds the whole range (try_vma_read_lock(): a
 * range past that VMA or a userfaultfd-armed VMA falls back to mmap_lock).
 * Returns 0 or -errno.
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
  mmapReadLock(c, mm);
  const vma = findVma(c, mm, start);
  const ok = vma !== 0 && c.i32[vma + VMA_START] < start + len;
  if (ok) zapPteRange(c, mm, Math.max(start, c.i32[vma + VMA_START]), Math.min(start + len, c.i32[vma + VMA_END]));
  mmapReadUnlock(c, mm);
  return ok ? 0 : ENOMEM;
}
