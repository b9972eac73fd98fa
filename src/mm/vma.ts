import {
  snapStart, snapEnd, snapVma, snapSetStart, snapSetEnd, snapInsert, snapRemove, mtSnapshot, mtPrealloc,
} from './tree.js';
import type { MmCtx } from './model.js';
import {
  mmapWriteLockKillable, vmaStartWrite, vmaMarkAttached, vmaMarkDetached, vmaIsAttached, vmaSetField,
} from './mmap_lock.js';
import { EINVAL, EINTR } from '../errno.js';
import {
  MC_ENOMEM, VMA_START, VMA_END, VMA_PGOFF, VMA_MM, VMA_FLAGS, VMA_ANON_VMA, VMA_FILE, VMA_UFFD, VMA_LOCK_SEQ,
  VMA_REFCNT, VMA_ALLOC_TID, VMA_FREE_TID, MM_MAP_COUNT, OBJ_GEN,
} from './layout.js';
import { Viol } from '../shm/kinds.js';
import { anonVmaClone, unlinkAnonVmas, anonVmaLockWrite, anonVmaUnlockWrite, anonVmaChainLength, avcPrealloc, avcPutSpares, singularChain } from './rmap.js';
import { kmemCacheAlloc, kmemCacheFree } from './slab.js';
import { BUG1_B2_ATTACH_ON_STORE } from '../shm/bugbits.js';
import { EV_VMA_FREE } from './debug.js';

/*
 * VMA lifetime, splitting and merging (mm/vma.c; vm_area_alloc/free/dup from
 * kernel/fork.c): the pieces every mapping syscall shares. A writer edits a
 * snapshot of the tree (tree.ts's iterator) and publishes it once.
 */

/**
 * vma_iter_store_overwrite(): re-store an attached VMA whose range changed.
 * With B2's bug the store path also attaches (patch 3/5 of the Nov 2024
 * series put vma_mark_attached() inside vma_iter_store()).
 */
export function vmaIterStoreOverwrite(c: MmCtx, mm: number, vma: number): void {
  if ((c.t.bugs1 & BUG1_B2_ATTACH_ON_STORE) !== 0) vmaMarkAttached(c, mm, vma);
}

/** The range checks every address-space syscall starts with (-EINVAL). */
export function badRange(c: MmCtx, start: number, len: number): boolean {
  return len <= 0 || start < 0 || start + len > c.mmPages;
}

/**
 * The opening the mapping syscalls share: check the range (-EINVAL), take
 * mmap_lock for write, killable (-EINTR), and snapshot the tree into
 * c.scratch (c.snapN entries) for the VMA iterator. Returns 0 with the lock
 * held, or -errno without it.
 */
export function mmapWriteBegin(c: MmCtx, mm: number, start: number, len: number): number {
  if (badRange(c, start, len)) return EINVAL;
  if (mmapWriteLockKillable(c, mm) !== 0) return EINTR;
  c.snapN = mtSnapshot(c, mm, c.scratch);
  return 0;
}

/**
 * vma_iter_prealloc(): room for `grow` more entries in a snapshot of `n` and
 * the tree node to publish it in. Returns the node, or 0 on -ENOMEM (an
 * allocator failure is counted).
 */
export function vmaIterPrealloc(c: MmCtx, n: number, grow: number): number {
  if (n + grow > c.maxVmas) return 0;
  const node = mtPrealloc(c);
  if (node === 0) c.t.count(MC_ENOMEM);
  return node;
}

/** vm_area_alloc() + vma_init(): detached, vm_lock_seq = UINT_MAX. 0 on -ENOMEM. */
export function vmAreaAlloc(c: MmCtx, mm: number): number {
  const vma = kmemCacheAlloc(c.t, c.vmaSlab);
  if (vma === 0) return 0;
  const i32 = c.i32;
  Atomics.store(i32, vma + VMA_MM, mm + 1);
  Atomics.store(i32, vma + VMA_LOCK_SEQ, -1);
  c.vl.initLock(c, vma);
  i32[vma + VMA_ALLOC_TID] = c.t.tid;
  return vma;
}

/**
 * vm_area_free(): the VMA must be detached. E1/E2 free through call_rcu;
 * E3's cache is SLAB_TYPESAFE_BY_RCU and reuses the object at once.
 */
export function vmAreaFree(c: MmCtx, vma: number): void {
  if (vmaIsAttached(c, vma)) c.t.violation(Viol.VmaFreeAttached, vma, vma, c.i32[vma + VMA_REFCNT], 0, 0);
  c.i32[vma + VMA_FREE_TID] = c.t.tid;
  if (c.t.tracing) c.t.trace(EV_VMA_FREE, vma, c.i32[vma + OBJ_GEN], 0, 0);
  kmemCacheFree(c.t, c.vmaSlab, vma, c.rcuFn);
}

/** vm_area_dup(): a detached copy for `mm`. */
export function vmAreaDup(c: MmCtx, src: number, mm: number): number {
  const vma = vmAreaAlloc(c, mm);
  if (vma === 0) return 0;
  vmaCopyFields(c, vma, src);
  return vma;
}

/** Copy the range, offset, flags, file and uffd registration of `src` into `vma`. */
function vmaCopyFields(c: MmCtx, vma: number, src: number): void {
  const i32 = c.i32;
  i32[vma + VMA_START] = i32[src + VMA_START];
  i32[vma + VMA_END] = i32[src + VMA_END];
  i32[vma + VMA_PGOFF] = i32[src + VMA_PGOFF];
  i32[vma + VMA_FLAGS] = i32[src + VMA_FLAGS];
  i32[vma + VMA_FILE] = i32[src + VMA_FILE];
  i32[vma + VMA_UFFD] = i32[src + VMA_UFFD];
}

/**
 * Preallocate `count` VMAs for splits (vma_iter_prealloc + vm_area_alloc
 * before anything is changed, so a failure leaves nothing half done).
 * Returns false on -ENOMEM (with nothing allocated).
 */
export function preallocVmas(c: MmCtx, mm: number, count: number, out: number[]): boolean {
  for (let k = 0; k < count; k++) {
    const v = vmAreaAlloc(c, mm);
    if (v === 0) {
      for (const x of out) vmAreaFree(c, x);
      out.length = 0;
      return false;
    }
    out.push(v);
  }
  return true;
}

/**
 * Are two adjacent VMAs mergeable? is_mergeable_vma(), the pgoff continuity
 * of can_vma_merge_after() (anon VMAs too: their folios' index is
 * linear_page_index), and is_mergeable_anon_vma(): the same anon_vma, or one
 * side without one while the other's chain is singular.
 */
function canMerge(c: MmCtx, prev: number, next: number): boolean {
  const i32 = c.i32;
  if (i32[prev + VMA_END] !== i32[next + VMA_START]) return false;
  if (i32[prev + VMA_FLAGS] !== i32[next + VMA_FLAGS] || i32[prev + VMA_UFFD] !== i32[next + VMA_UFFD]) return false;
  if (i32[prev + VMA_FILE] !== i32[next + VMA_FILE]) return false;
  if (i32[prev + VMA_PGOFF] + (i32[prev + VMA_END] - i32[prev + VMA_START]) !== i32[next + VMA_PGOFF]) return false;
  const a = i32[prev + VMA_ANON_VMA];
  const b = i32[next + VMA_ANON_VMA];
  if (a === b) return true;
  if (a === 0) return singularChain(c, next);
  if (b === 0) return singularChain(c, prev);
  return false;
}

/**
 * __split_vma(): split the VMA at entry k of the snapshot at `addr`; the
 * new VMA takes [vm_start, addr) (new_below) and `vma` keeps [addr, vm_end).
 * vma_prepare() write-locks the VMA first; the new one is attached before it
 * becomes visible. Returns the new count, or -1 on -ENOMEM.
 */
function splitVma(c: MmCtx, mm: number, s: Int32Array, n: number, k: number, addr: number, lower: number): number {
  const i32 = c.i32;
  const vma = snapVma(s, k);
  vmaCopyFields(c, lower, vma);
  vmaStartWrite(c, mm, vma);
  const start = i32[vma + VMA_START];
  i32[lower + VMA_END] = addr;
  const av = i32[vma + VMA_ANON_VMA];
  if (av !== 0) {
    anonVmaClone(c, lower, vma, c.spareAvcs); // preallocated by splitEdges: cannot fail
    i32[lower + VMA_ANON_VMA] = av;
  }
  vmaStartWrite(c, mm, lower);
  vmaMarkAttached(c, mm, lower);
  // vma_prepare(): the range changes under the anon_vma lock (rmap walks compute vma_address from it).
  if (av !== 0) anonVmaLockWrite(c, av - 1);
  vmaSetField(c, mm, vma, VMA_PGOFF, i32[vma + VMA_PGOFF] + (addr - start));
  vmaSetField(c, mm, vma, VMA_START, addr);
  if (av !== 0) anonVmaUnlockWrite(c, av - 1);
  snapSetStart(s, k, addr);
  vmaIterStoreOverwrite(c, mm, vma);
  i32[mm + MM_MAP_COUNT]++;
  return snapInsert(s, n, k, start, addr, lower);
}

/**
 * Split the VMAs at the edges of [start, end) (entry k is the first VMA the
 * range touches): preallocate what the splits need first, so a failure
 * leaves nothing half done. Returns the new count (or -1 on -ENOMEM) and
 * leaves the first and last entries inside the range in c.edgeFirst/edgeLast.
 */
export function splitEdges(c: MmCtx, mm: number, s: Int32Array, n: number, k: number, start: number, end: number): number {
  let last = k;
  while (last + 1 < n && snapStart(s, last + 1) < end) last++;
  const spare = c.spareVmas;
  spare.length = 0;
  const needFirst = snapStart(s, k) < start;
  const needLast = snapEnd(s, last) > end;
  if (!preallocVmas(c, mm, (needFirst ? 1 : 0) + (needLast ? 1 : 0), spare)) return -1;
  const avcs = c.spareAvcs;
  avcs.length = 0;
  const chains = (needFirst ? anonVmaChainLength(c, snapVma(s, k)) : 0) + (needLast ? anonVmaChainLength(c, snapVma(s, last)) : 0);
  if (!avcPrealloc(c, chains, avcs)) {
    while (spare.length > 0) vmAreaFree(c, spare.pop()!);
    return -1;
  }
  if (needFirst) {
    n = splitVma(c, mm, s, n, k, start, spare.pop()!);
    k++;
    last++;
  }
  if (needLast) n = splitVma(c, mm, s, n, last, end, spare.pop()!); // [vm_start, end) is now at `last`
  avcPutSpares(c, avcs);
  c.edgeFirst = k;
  c.edgeLast = last;
  return n;
}

/**
 * Merge entry k+1 into entry k (vma_merge_existing_range / vma_expand):
 * both write-locked; the survivor is re-stored, not re-attached; the other
 * detached. Returns the removed VMA.
 */
function mergeWithNext(c: MmCtx, mm: number, s: Int32Array, n: number, k: number): number {
  const i32 = c.i32;
  const prev = snapVma(s, k);
  const next = snapVma(s, k + 1);
  vmaStartWrite(c, mm, prev);
  vmaStartWrite(c, mm, next);
  if (i32[prev + VMA_ANON_VMA] === 0 && i32[next + VMA_ANON_VMA] !== 0) {
    // dup_anon_vma(): dst must be write-locked (it is); chains preallocated by mergeRange.
    anonVmaClone(c, prev, next, c.spareAvcs);
    vmaSetField(c, mm, prev, VMA_ANON_VMA, i32[next + VMA_ANON_VMA]);
  }
  const av = i32[prev + VMA_ANON_VMA];
  if (av !== 0) anonVmaLockWrite(c, av - 1); // vma_prepare()
  vmaSetField(c, mm, prev, VMA_END, i32[next + VMA_END]);
  if (av !== 0) anonVmaUnlockWrite(c, av - 1);
  snapSetEnd(s, k, i32[next + VMA_END]);
  vmaIterStoreOverwrite(c, mm, prev);
  vmaMarkDetached(c, mm, next);
  i32[mm + MM_MAP_COUNT]--;
  return next;
}

/** Try to merge every adjacent pair in [from, to] of the snapshot; detached VMAs go to `dead`. */
export function mergeRange(c: MmCtx, mm: number, s: Int32Array, n: number, from: number, to: number, dead: number[]): number {
  let k = Math.max(0, from);
  while (k < n - 1 && k <= to) {
    const a = snapVma(s, k);
    const b = snapVma(s, k + 1);
    const avcs = c.spareAvcs;
    avcs.length = 0;
    // dup_anon_vma() can fail with -ENOMEM: then there is no merge.
    if (canMerge(c, a, b) && avcPrealloc(c, c.i32[a + VMA_ANON_VMA] === 0 ? anonVmaChainLength(c, b) : 0, avcs)) {
      dead.push(mergeWithNext(c, mm, s, n, k));
      avcPutSpares(c, avcs);
      n = snapRemove(s, n, k + 1);
      to--;
    } else {
      k++;
    }
  }
  return n;
}

/** unlink_anon_vmas() of every VMA in `dead`: out of the rmap (free_pgtables does it before the tables go). */
export function unlinkDead(c: MmCtx, dead: number[]): void {
  for (const v of dead) unlinkAnonVmas(c, v);
}

/** vm_area_free() of every VMA in `dead` (already unlinked from the rmap). */
export function freeUnlinked(c: MmCtx, dead: number[]): void {
  for (const v of dead) vmAreaFree(c, v);
}

/** Unlink and free the VMAs a merge detached. */
export function freeDead(c: MmCtx, dead: number[]): void {
  unlinkDead(c, dead);
  freeUnlinked(c, dead);
}
