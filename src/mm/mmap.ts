import {
  snapStart, snapEnd, snapVma, snapSetStart, mtSnapshot, snapFind, snapInsert, snapRemove, mtPrealloc, mtPublish,
  mtFreePrealloc,
} from './tree.js';
import type { MmCtx } from './model.js';
import {
  mmapWriteLockKillable, mmapWriteUnlock, mmapWriteDowngrade, mmapReadUnlock, vmaStartWrite, vmaMarkAttached,
  vmaMarkDetached, mmapAssertWriteLocked, vmaSetField,
} from './mmap_lock.js';
import { anonVmaPrepare, anonVmaLockWrite, anonVmaUnlockWrite } from './rmap.js';
import { kmemCacheFree } from './slab.js';
import {
  VMA_START, VMA_END, VMA_PGOFF, VMA_FLAGS, VMA_FILE, VMA_UFFD, MM_MAP_COUNT, MM_USERS, MM_COUNT, MM_FLAGS, MM_MT,
  MMF_EXITING, MC_ENOMEM, VMA_ANON_VMA, MM_RLIMIT_STACK,
} from './layout.js';
import { BUG1_DETACH_WITHOUT_WRITE_LOCK } from '../shm/bugbits.js';
import { delayPoint, W_ZAP_TO_FREE, W_DETACH, EV_MMAP, EV_MUNMAP } from './debug.js';
import { EINVAL, ENOMEM, EEXIST, EINTR } from '../errno.js';
import {
  vmaIterStoreOverwrite, badRange, vmAreaAlloc, splitEdges, mergeRange, freeDead, unlinkDead, freeUnlinked, mmapWriteBegin, vmaIterPrealloc,
} from './vma.js';
import { zapPteRange, freePgtables } from './memory.js';

/*
 * mmap, munmap, the stack's growth and exit_mmap (mm/mmap.c, mm/vma.c's
 * do_vmi_munmap) and the mm_struct's slot lifetime (kernel/fork.c mm_alloc).
 */

/** mm_alloc(): claim a free mm slot (mm_users 0 -> 1). Returns the mm or -1. */
export function mmAlloc(c: MmCtx): number {
  const i32 = c.i32;
  for (let k = 0; k < c.maxMms; k++) {
    const mm = c.mm(k);
    if (Atomics.load(i32, mm + MM_COUNT) !== 0) continue;
    if (Atomics.compareExchange(i32, mm + MM_USERS, 0, 1) === 0) {
      if (Atomics.load(i32, mm + MM_COUNT) !== 0) {
        Atomics.store(i32, mm + MM_USERS, 0);
        continue;
      }
      Atomics.store(i32, mm + MM_COUNT, 1);
      Atomics.store(i32, mm + MM_MAP_COUNT, 0);
      Atomics.and(i32, mm + MM_FLAGS, 0);
      Atomics.store(i32, mm + MM_RLIMIT_STACK, defaultRlimitStack(c));
      return mm;
    }
  }
  return -1;
}

/**
 * The default RLIMIT_STACK, scaled: the kernel's 8 MiB is a sliver of a
 * 47-bit address space; here it is a sixteenth of the mm's pages, so a
 * stale access below the stack cannot grow it over the whole layout.
 */
function defaultRlimitStack(c: MmCtx): number {
  return c.mmPages >> 4;
}

/** setrlimit(RLIMIT_STACK) for the task that owns `mm`: the stack may grow to `pages` (acct_stack_growth). */
export function setrlimitStack(c: MmCtx, mm: number, pages: number): void {
  Atomics.store(c.i32, mm + MM_RLIMIT_STACK, pages);
}

/** mmput() after exit_mmap(): the slot becomes free. */
export function mmFree(c: MmCtx, mm: number): void {
  Atomics.sub(c.i32, mm + MM_COUNT, 1);
  Atomics.store(c.i32, mm + MM_USERS, 0);
}

export interface MmapArgs {
  flags: number;
  /** shmem file index + 1, or 0 for anonymous memory. */
  file?: number;
  pgoff?: number;
  uffd?: number;
  /** Merge with compatible neighbours (default true). */
  merge?: boolean;
}

/**
 * mmap_region() (MAP_FIXED_NOREPLACE): a new VMA over [addr, addr + len),
 * write-locked before it becomes visible, merged with compatible neighbours.
 * Returns 0 or -errno.
 */
export function doMmap(c: MmCtx, mm: number, addr: number, len: number, a: MmapArgs): number {
  const i32 = c.i32;
  const end = addr + len;
  const err = mmapWriteBegin(c, mm, addr, len);
  if (err !== 0) return err;
  try {
    const s = c.scratch;
    let n = c.snapN;
    const k = snapFind(s, n, addr);
    if (k < n && snapStart(s, k) < end) return EEXIST;
    const node = vmaIterPrealloc(c, n, 1);
    if (node === 0) return ENOMEM;
    const vma = vmAreaAlloc(c, mm);
    if (vma === 0) {
      mtFreePrealloc(c, node);
      c.t.count(MC_ENOMEM);
      return ENOMEM;
    }
    i32[vma + VMA_START] = addr;
    i32[vma + VMA_END] = end;
    i32[vma + VMA_FLAGS] = a.flags;
    i32[vma + VMA_FILE] = a.file ?? 0;
    i32[vma + VMA_PGOFF] = a.pgoff ?? addr;
    i32[vma + VMA_UFFD] = a.uffd ?? 0;
    vmaStartWrite(c, mm, vma);
    vmaMarkAttached(c, mm, vma); // vma_iter_store_new()
    if (c.t.tracing) c.t.trace(EV_MMAP, vma, addr, len, 0);
    n = snapInsert(s, n, k, addr, end, vma);
    i32[mm + MM_MAP_COUNT]++;
    const dead = c.deadVmas;
    dead.length = 0;
    if (a.merge !== false) n = mergeRange(c, mm, s, n, k - 1, k, dead);
    mtPublish(c, mm, s, n, node);
    freeDead(c, dead);
    return 0;
  } finally {
    mmapWriteUnlock(c, mm);
  }
}

/**
 * do_vmi_munmap() → vms_gather_munmap_vmas() + vms_complete_munmap_vmas():
 * split the edges, write-lock and detach every VMA in the range, publish the
 * new tree, downgrade mmap_lock, then zap, free page tables and free the
 * VMAs. Returns 0 or -errno.
 */
export function doMunmap(c: MmCtx, mm: number, start: number, len: number): number {
  const end = start + len;
  if (badRange(c, start, len)) return EINVAL;
  if (mmapWriteLockKillable(c, mm) !== 0) return EINTR;
  const r = munmapLocked(c, mm, start, end, true);
  if (r === 1) {
    mmapReadUnlock(c, mm); // downgraded
    return 0;
  }
  mmapWriteUnlock(c, mm);
  return r;
}

/**
 * The body of munmap with mmap_lock held for write. Returns 1 if it
 * downgraded the lock to read (the caller then read-unlocks), else 0 / -errno.
 */
export function munmapLocked(c: MmCtx, mm: number, start: number, end: number, downgrade: boolean): number {
  const i32 = c.i32;
  const s = c.scratch;
  let n = mtSnapshot(c, mm, s);
  let k = snapFind(s, n, start);
  if (k >= n || snapStart(s, k) >= end) return 0;
  const node = vmaIterPrealloc(c, n, 2);
  if (node === 0) return ENOMEM;
  const sp = splitEdges(c, mm, s, n, k, start, end);
  if (sp < 0) {
    mtFreePrealloc(c, node);
    c.t.count(MC_ENOMEM);
    return ENOMEM;
  }
  n = sp;
  k = c.edgeFirst;
  const victims = c.victimVmas;
  victims.length = 0;
  const noWriteLock = (c.t.bugs1 & BUG1_DETACH_WITHOUT_WRITE_LOCK) !== 0;
  while (k < n && snapStart(s, k) < end) {
    const vma = snapVma(s, k);
    if (!noWriteLock) vmaStartWrite(c, mm, vma);
    delayPoint(c, W_DETACH);
    vmaMarkDetached(c, mm, vma);
    victims.push(vma);
    n = snapRemove(s, n, k);
    i32[mm + MM_MAP_COUNT]--;
  }
  mtPublish(c, mm, s, n, node);
  // "VMAs were isolated before we downgraded."
  if (downgrade) mmapWriteDowngrade(c, mm);
  zapPteRange(c, mm, start, end);
  delayPoint(c, W_ZAP_TO_FREE);
  unlinkDead(c, victims); // free_pgtables(): out of the rmap before the tables go
  freePgtables(c, mm, start, end);
  freeUnlinked(c, victims);
  if (c.t.tracing) c.t.trace(EV_MUNMAP, mm, start, end - start, victims.length);
  return downgrade ? 1 : 0;
}

/**
 * expand_downwards() (6.5+: only under the mmap write lock): grow a
 * VM_GROWSDOWN VMA to start at `addr`. The VMA is already attached, so the
 * tree store must not attach it again (B2).
 */
export function expandDownwards(c: MmCtx, mm: number, vma: number, addr: number): boolean {
  const i32 = c.i32;
  mmapAssertWriteLocked(c, mm);
  const s = c.scratch;
  const n = mtSnapshot(c, mm, s);
  let k = 0;
  while (k < n && snapVma(s, k) !== vma) k++;
  if (k === n) return false;
  const prevEnd = k > 0 ? snapEnd(s, k - 1) : 0;
  if (addr < prevEnd + 1 || addr >= i32[vma + VMA_START]) return false; // stack guard gap of one page
  if (i32[vma + VMA_END] - addr > Atomics.load(i32, mm + MM_RLIMIT_STACK)) return false; // acct_stack_growth(): -ENOMEM past RLIMIT_STACK
  if (!anonVmaPrepare(c, mm, vma)) return false;
  const node = mtPrealloc(c);
  if (node === 0) return false;
  vmaStartWrite(c, mm, vma);
  const grow = i32[vma + VMA_START] - addr;
  const av = i32[vma + VMA_ANON_VMA] - 1;
  if (av >= 0) anonVmaLockWrite(c, av); // anon_vma_interval_tree_pre_update_vma()
  vmaSetField(c, mm, vma, VMA_PGOFF, i32[vma + VMA_PGOFF] - grow);
  vmaSetField(c, mm, vma, VMA_START, addr);
  if (av >= 0) anonVmaUnlockWrite(c, av);
  snapSetStart(s, k, addr);
  vmaIterStoreOverwrite(c, mm, vma);
  mtPublish(c, mm, s, n, node);
  return true;
}

/**
 * exit_mmap(): detach every VMA (E3 requires it before freeing), empty the
 * tree, zap everything, free the page tables and the VMAs.
 */
export function exitMmap(c: MmCtx, mm: number): void {
  const i32 = c.i32;
  if (mmapWriteLockKillable(c, mm) !== 0) return;
  Atomics.or(i32, mm + MM_FLAGS, MMF_EXITING);
  const s = c.scratch;
  const n = mtSnapshot(c, mm, s);
  const victims = c.victimVmas;
  victims.length = 0;
  for (let k = 0; k < n; k++) {
    const vma = snapVma(s, k);
    vmaStartWrite(c, mm, vma);
    vmaMarkDetached(c, mm, vma);
    victims.push(vma);
  }
  const old = Atomics.exchange(i32, mm + MM_MT, 0);
  if (old !== 0) kmemCacheFree(c.t, c.nodeSlab, old - 1, c.rcuFn);
  i32[mm + MM_MAP_COUNT] = 0;
  zapPteRange(c, mm, 0, c.mmPages);
  unlinkDead(c, victims);
  freePgtables(c, mm, 0, c.mmPages);
  freeUnlinked(c, victims);
  mmapWriteUnlock(c, mm);
}
