import type { MmCtx } from './model.js';
import { mmapReadUnlock, mmapReadLock } from './mmap_lock.js';
import { findVma } from './tree.js';
import { VMA_START, VMA_END } from './layout.js';
import { EINVAL, ENOMEM } from '../errno.js';
import { badRange } from './vma.js';
import { zapPteRange } from './memory.js';

/* madvise (mm/madvise.c madvise_dontneed_single_vma). */

/**
 * madvise(MADV_DONTNEED) under mmap_lock for read: zap the PTEs of the range
 * (the VMAs stay). Returns 0 or -errno.
 */
export function doMadviseDontneed(c: MmCtx, mm: number, start: number, len: number): number {
  if (badRange(c, start, len)) return EINVAL;
  mmapReadLock(c, mm);
  const vma = findVma(c, mm, start);
  const ok = vma !== 0 && c.i32[vma + VMA_START] < start + len;
  if (ok) zapPteRange(c, mm, Math.max(start, c.i32[vma + VMA_START]), Math.min(start + len, c.i32[vma + VMA_END]));
  mmapReadUnlock(c, mm);
  return ok ? 0 : ENOMEM;
}
