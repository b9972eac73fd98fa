import type { MmCtx } from './model.js';
import { Viol } from '../shm/kinds.js';
import {
  mmapWriteLockKillable, mmapWriteUnlock, mmapWriteDowngrade, mmapReadUnlock, mmapReadLock, vmaStartWrite,
  vmaMarkAttached, vmaMarkDetached, vmaIsAttached, mmapAssertWriteLocked, vmaSetField,
} from './mmap_lock.js';
import { mtSnapshot, snapFind, snapInsert, snapRemove, mtPrealloc, mtPublish, mtFreePrealloc, findVma } from './tree.js';
import { pteTable, pteAlloc, ptep, pteLock, pteUnlock, pteFolio, freePteTable } from './pgtable.js';
import { folioPut, folioRemoveRmap, folioTestFlag, folioClearFlag, getAnonVma, unlinkAnonVmas, anonVmaPrepare } from './folio.js';
import { flushTlbMm } from './tlb.js';
import { kmemCacheAlloc, kmemCacheFree } from './slab.js';
import {
  VMA_START, VMA_END, VMA_PGOFF, VMA_MM, VMA_FLAGS, VMA_ANON_VMA, VMA_FILE, VMA_UFFD, VMA_LOCK_SEQ, VMA_REFCNT,
  VMA_ALLOC_TID, VMA_FREE_TID, MM_MAP_COUNT, MM_USERS, MM_COUNT, MM_FLAGS, MM_MT, MMF_EXITING, PTRS_PER_PTE,
  PT_ENTRIES, PTE_PRESENT, PTE_SWAP, PTE_PFN_SHIFT, PTE_WRITE, F_SWAPCOUNT, PG_SWAPCACHE, MC_ENOMEM,
} from './layout.js';

import { BUG1_B2_ATTACH_ON_STORE, BUG1_NO_START_WRITE, BUG1_DETACH_WITHOUT_WRITE_LOCK } from '../shm/bugbits.js';
import { delayPoint, W_ZAP_TO_FREE, W_DETACH, EV_VMA_FREE, EV_MMAP, EV_MUNMAP, EV_MPROTECT, EV_MREMAP } from './debug.js';
import { OBJ_GEN } from './layout.js';

/**
 * vma_iter_store_overwrite(): re-store an attached VMA whose range changed.
 * With B2's bug the store path also attaches (patch 3/5 of the Nov 2024
 * series put vma_mark_attached() inside vma_iter_store()).
 */
function vmaIterStoreOverwrite(c: MmCtx, mm: number, vma: number): void {
  if ((c.t.bugs1 & BUG1_B2_ATTACH_ON_STORE) !== 0) vmaMarkAttached(c, mm, vma);
}

export const EINVAL = -22;

/** The range checks every address-space syscall starts with (-EINVAL). */
function badRange(c: MmCtx, start: number, len: number): boolean {
  return len <= 0 || start < 0 || start + len > c.mmPages;
}
export const ENOMEM = -12;
export const EEXIST = -17;
export const EINTR_ = -4;
export const EFAULT = -14;

// ---------------------------------------------------------------------------
// vm_area_struct lifetime
// ---------------------------------------------------------------------------

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
function preallocVmas(c: MmCtx, mm: number, count: number, out: number[]): boolean {
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

// ---------------------------------------------------------------------------
// mm_struct lifetime
// ---------------------------------------------------------------------------

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
      return mm;
    }
  }
  return -1;
}

/** mmput() after exit_mmap(): the slot becomes free. */
export function mmFree(c: MmCtx, mm: number): void {
  Atomics.sub(c.i32, mm + MM_COUNT, 1);
  Atomics.store(c.i32, mm + MM_USERS, 0);
}

// ---------------------------------------------------------------------------
// Zapping and page-table freeing
// ---------------------------------------------------------------------------

/**
 * zap_pte_range() over [start, end): clear present and swap entries under the
 * PTE lock, flush the TLB, then drop rmap and references.
 */
export function zapPteRange(c: MmCtx, mm: number, start: number, end: number): void {
  const i32 = c.i32;
  for (let a = start; a < end; ) {
    const tableEnd = Math.min(end, (a & ~(PTRS_PER_PTE - 1)) + PTRS_PER_PTE);
    const table = pteTable(c, mm, a);
    if (table !== 0) {
      pteLock(c, table);
      let cleared = 0;
      const sc = c.scratch2;
      for (let x = a; x < tableEnd; x++) {
        const p = ptep(table, x);
        const pte = Atomics.load(i32, p);
        if (pte === 0) continue;
        Atomics.store(i32, p, 0);
        if ((pte & PTE_PRESENT) !== 0) {
          sc[cleared++] = pteFolio(pte);
        } else if ((pte & PTE_SWAP) !== 0) {
          const f = (pte >>> PTE_PFN_SHIFT) - 1;
          const left = Atomics.sub(i32, f + F_SWAPCOUNT, 1) - 1;
          if (left <= 0 && folioTestFlag(c, f, PG_SWAPCACHE)) {
            folioClearFlag(c, f, PG_SWAPCACHE);
            sc[cleared++] = -1 - f; // swap cache reference only
          }
        }
      }
      if (cleared > 0) flushTlbMm(c, mm);
      for (let k = 0; k < cleared; k++) {
        const f = sc[k];
        if (f >= 0) {
          folioRemoveRmap(c, f);
          folioPut(c, f);
        }
      }
      pteUnlock(c, table);
      for (let k = 0; k < cleared; k++) if (sc[k] < 0) folioPut(c, -1 - sc[k]);
    }
    a = tableEnd;
  }
}

/** Is any entry of the table non-none? */
function tableInUse(c: MmCtx, table: number): boolean {
  for (let k = 0; k < PTRS_PER_PTE; k++) if (Atomics.load(c.i32, table + PT_ENTRIES + k) !== 0) return true;
  return false;
}

/**
 * free_pgtables() for [start, end): free every PTE table in the range that no
 * VMA of the current tree covers any more and that is empty.
 */
export function freePgtables(c: MmCtx, mm: number, start: number, end: number): void {
  const i32 = c.i32;
  for (let a = start & ~(PTRS_PER_PTE - 1); a < end; a += PTRS_PER_PTE) {
    const table = pteTable(c, mm, a);
    if (table === 0) continue;
    const next = findVma(c, mm, a);
    if (next !== 0 && i32[next + VMA_START] < a + PTRS_PER_PTE) continue; // still used by a VMA
    if (tableInUse(c, table)) continue;
    freePteTable(c, mm, a);
  }
}

// ---------------------------------------------------------------------------
// Splitting and merging (mm/vma.c)
// ---------------------------------------------------------------------------

/** Are two adjacent VMAs mergeable (is_mergeable_vma + anon_vma compatibility)? */
function canMerge(c: MmCtx, prev: number, next: number): boolean {
  const i32 = c.i32;
  if (i32[prev + VMA_END] !== i32[next + VMA_START]) return false;
  if (i32[prev + VMA_FLAGS] !== i32[next + VMA_FLAGS] || i32[prev + VMA_UFFD] !== i32[next + VMA_UFFD]) return false;
  if (i32[prev + VMA_FILE] !== i32[next + VMA_FILE]) return false;
  if (i32[prev + VMA_FILE] !== 0 && i32[prev + VMA_PGOFF] + (i32[prev + VMA_END] - i32[prev + VMA_START]) !== i32[next + VMA_PGOFF]) return false;
  const a = i32[prev + VMA_ANON_VMA];
  const b = i32[next + VMA_ANON_VMA];
  return a === 0 || b === 0 || a === b;
}

/**
 * __split_vma(): split the VMA at entry k of the snapshot at `addr`; the
 * new VMA takes [vm_start, addr) (new_below) and `vma` keeps [addr, vm_end).
 * vma_prepare() write-locks the VMA first; the new one is attached before it
 * becomes visible. Returns the new count, or -1 on -ENOMEM.
 */
function splitVma(c: MmCtx, mm: number, s: Int32Array, n: number, k: number, addr: number, lower: number): number {
  const i32 = c.i32;
  const vma = s[k * 3 + 2] - 1;
  vmaCopyFields(c, lower, vma);
  vmaStartWrite(c, mm, vma);
  const start = i32[vma + VMA_START];
  i32[lower + VMA_END] = addr;
  const av = i32[vma + VMA_ANON_VMA];
  if (av !== 0) {
    getAnonVma(c, av - 1); // anon_vma_clone()
    i32[lower + VMA_ANON_VMA] = av;
  }
  vmaStartWrite(c, mm, lower);
  vmaMarkAttached(c, mm, lower);
  vmaSetField(c, mm, vma, VMA_PGOFF, i32[vma + VMA_PGOFF] + (addr - start));
  vmaSetField(c, mm, vma, VMA_START, addr);
  s[k * 3] = addr;
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
function splitEdges(c: MmCtx, mm: number, s: Int32Array, n: number, k: number, start: number, end: number): number {
  let last = k;
  while (last + 1 < n && s[(last + 1) * 3] < end) last++;
  const spare = c.spareVmas;
  spare.length = 0;
  const needFirst = s[k * 3] < start;
  const needLast = s[last * 3 + 1] > end;
  if (!preallocVmas(c, mm, (needFirst ? 1 : 0) + (needLast ? 1 : 0), spare)) return -1;
  if (needFirst) {
    n = splitVma(c, mm, s, n, k, start, spare.pop()!);
    k++;
    last++;
  }
  if (needLast) n = splitVma(c, mm, s, n, last, end, spare.pop()!); // [vm_start, end) is now at `last`
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
  const prev = s[k * 3 + 2] - 1;
  const next = s[(k + 1) * 3 + 2] - 1;
  vmaStartWrite(c, mm, prev);
  vmaStartWrite(c, mm, next);
  if (i32[prev + VMA_ANON_VMA] === 0 && i32[next + VMA_ANON_VMA] !== 0) {
    // dup_anon_vma(): dst must be write-locked (it is).
    getAnonVma(c, i32[next + VMA_ANON_VMA] - 1);
    vmaSetField(c, mm, prev, VMA_ANON_VMA, i32[next + VMA_ANON_VMA]);
  }
  vmaSetField(c, mm, prev, VMA_END, i32[next + VMA_END]);
  s[k * 3 + 1] = i32[next + VMA_END];
  vmaIterStoreOverwrite(c, mm, prev);
  vmaMarkDetached(c, mm, next);
  i32[mm + MM_MAP_COUNT]--;
  return next;
}

/** Try to merge every adjacent pair in [from, to] of the snapshot; detached VMAs go to `dead`. */
function mergeRange(c: MmCtx, mm: number, s: Int32Array, n: number, from: number, to: number, dead: number[]): number {
  let k = Math.max(0, from);
  while (k < n - 1 && k <= to) {
    const a = s[k * 3 + 2] - 1;
    const b = s[(k + 1) * 3 + 2] - 1;
    if (canMerge(c, a, b)) {
      dead.push(mergeWithNext(c, mm, s, n, k));
      n = snapRemove(s, n, k + 1);
      to--;
    } else {
      k++;
    }
  }
  return n;
}

function freeDead(c: MmCtx, dead: number[]): void {
  for (const v of dead) {
    unlinkAnonVmas(c, v);
    vmAreaFree(c, v);
  }
}

// ---------------------------------------------------------------------------
// mmap / munmap / mprotect / mremap / madvise / stack / exit
// ---------------------------------------------------------------------------

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
  if (badRange(c, addr, len)) return EINVAL;
  if (mmapWriteLockKillable(c, mm) !== 0) return EINTR_;
  try {
    const s = c.scratch;
    let n = mtSnapshot(c, mm, s);
    const k = snapFind(s, n, addr);
    if (k < n && s[k * 3] < end) return EEXIST;
    if (n + 1 > c.maxVmas) return ENOMEM;
    const node = mtPrealloc(c);
    if (node === 0) {
      c.t.count(MC_ENOMEM);
      return ENOMEM;
    }
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
  if (mmapWriteLockKillable(c, mm) !== 0) return EINTR_;
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
  if (k >= n || s[k * 3] >= end) return 0;
  if (n + 2 > c.maxVmas) return ENOMEM;
  const node = mtPrealloc(c);
  if (node === 0) {
    c.t.count(MC_ENOMEM);
    return ENOMEM;
  }
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
  while (k < n && s[k * 3] < end) {
    const vma = s[k * 3 + 2] - 1;
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
  freePgtables(c, mm, start, end);
  freeDead(c, victims);
  if (c.t.tracing) c.t.trace(EV_MUNMAP, mm, start, end - start, victims.length);
  return downgrade ? 1 : 0;
}

/**
 * mprotect_fixup(): split at the edges, write-lock and change vm_flags
 * (vm_flags_reset), write-protect PTEs when write permission goes away, then
 * merge with neighbours. Returns 0 or -errno.
 */
export function doMprotect(c: MmCtx, mm: number, start: number, len: number, newFlags: number): number {
  const i32 = c.i32;
  const end = start + len;
  if (badRange(c, start, len)) return EINVAL;
  if (mmapWriteLockKillable(c, mm) !== 0) return EINTR_;
  try {
    const s = c.scratch;
    let n = mtSnapshot(c, mm, s);
    const k = snapFind(s, n, start);
    if (k >= n || s[k * 3] > start) return ENOMEM; // unmapped hole at the start
    if (n + 2 > c.maxVmas) return ENOMEM;
    const node = mtPrealloc(c);
    if (node === 0) return ENOMEM;
    const sp = splitEdges(c, mm, s, n, k, start, end);
    if (sp < 0) {
      mtFreePrealloc(c, node);
      return ENOMEM;
    }
    n = sp;
    const first = c.edgeFirst;
    const last = c.edgeLast;
    for (let j = first; j <= last; j++) {
      const vma = s[j * 3 + 2] - 1;
      const old = i32[vma + VMA_FLAGS];
      const nf = (old & ~(0x7)) | (newFlags & 0x7);
      if ((c.t.bugs1 & BUG1_NO_START_WRITE) === 0) vmaStartWrite(c, mm, vma); // vm_flags_reset() write-locks
      vmaSetField(c, mm, vma, VMA_FLAGS, nf);
      if ((nf & 2) === 0) changeProtection(c, mm, i32[vma + VMA_START], i32[vma + VMA_END]);
    }
    const dead = c.deadVmas;
    dead.length = 0;
    n = mergeRange(c, mm, s, n, first - 1, last, dead);
    mtPublish(c, mm, s, n, node);
    freeDead(c, dead);
    if (c.t.tracing) c.t.trace(EV_MPROTECT, mm, start, len, newFlags);
    return 0;
  } finally {
    mmapWriteUnlock(c, mm);
  }
}

/** change_protection(): clear the write bit of present PTEs in [start, end), then flush. */
export function changeProtection(c: MmCtx, mm: number, start: number, end: number): void {
  const i32 = c.i32;
  for (let a = start; a < end; ) {
    const tableEnd = Math.min(end, (a & ~(PTRS_PER_PTE - 1)) + PTRS_PER_PTE);
    const table = pteTable(c, mm, a);
    if (table !== 0) {
      pteLock(c, table);
      let changed = false;
      for (let x = a; x < tableEnd; x++) {
        const p = ptep(table, x);
        const pte = Atomics.load(i32, p);
        if ((pte & PTE_PRESENT) !== 0 && (pte & PTE_WRITE) !== 0) {
          Atomics.store(i32, p, pte & ~PTE_WRITE);
          changed = true;
        }
      }
      if (changed) flushTlbMm(c, mm);
      pteUnlock(c, table);
    }
    a = tableEnd;
  }
}

/**
 * mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of a whole VMA to [newAddr,
 * newAddr + newLen), growing it if newLen > its size (move_vma): the source
 * is write-locked, a copy is inserted at the destination, page tables move
 * under both PTE locks, the source is detached and freed. With `dontunmap`
 * (MREMAP_DONTUNMAP) the source VMA stays, empty, and loses its anon_vma
 * (unlink_anon_vmas) — the step B5a raced against. Returns 0 or -errno.
 */
export function doMremap(c: MmCtx, mm: number, oldAddr: number, newAddr: number, newLen: number, dontunmap = false): number {
  const i32 = c.i32;
  if (badRange(c, newAddr, newLen)) return EINVAL;
  if (mmapWriteLockKillable(c, mm) !== 0) return EINTR_;
  try {
    const s = c.scratch;
    let n = mtSnapshot(c, mm, s);
    const k = snapFind(s, n, oldAddr);
    if (k >= n || s[k * 3] !== oldAddr) return EFAULT;
    const vma = s[k * 3 + 2] - 1;
    const oldLen = i32[vma + VMA_END] - oldAddr;
    if (newLen < oldLen) return EINVAL;
    const d = snapFind(s, n, newAddr);
    if (d < n && s[d * 3] < newAddr + newLen) return EEXIST;
    if (n + 1 > c.maxVmas) return ENOMEM;
    const node = mtPrealloc(c);
    if (node === 0) return ENOMEM;
    const nv = vmAreaDup(c, vma, mm);
    if (nv === 0) {
      mtFreePrealloc(c, node);
      return ENOMEM;
    }
    vmaStartWrite(c, mm, vma);
    i32[nv + VMA_START] = newAddr;
    i32[nv + VMA_END] = newAddr + newLen;
    const av = i32[vma + VMA_ANON_VMA];
    if (av !== 0) {
      getAnonVma(c, av - 1);
      i32[nv + VMA_ANON_VMA] = av;
    }
    vmaStartWrite(c, mm, nv);
    vmaMarkAttached(c, mm, nv);
    if (!movePageTables(c, mm, oldAddr, newAddr, oldLen)) {
      vmaMarkDetached(c, mm, nv);
      unlinkAnonVmas(c, nv);
      vmAreaFree(c, nv);
      mtFreePrealloc(c, node);
      return ENOMEM;
    }
    let dead = -1;
    if (dontunmap) {
      unlinkAnonVmas(c, vma); // the VMA is write-locked: anon_vma -> NULL
    } else {
      vmaMarkDetached(c, mm, vma);
      n = snapRemove(s, n, k);
      dead = vma;
      i32[mm + MM_MAP_COUNT]--;
    }
    n = snapInsert(s, n, snapFind(s, n, newAddr), newAddr, newAddr + newLen, nv);
    i32[mm + MM_MAP_COUNT]++;
    if (c.t.tracing) c.t.trace(EV_MREMAP, vma, oldAddr, newAddr, newLen);
    mtPublish(c, mm, s, n, node);
    freePgtables(c, mm, oldAddr, oldAddr + oldLen);
    if (dead >= 0) {
      unlinkAnonVmas(c, dead);
      vmAreaFree(c, dead);
    }
    return 0;
  } finally {
    mmapWriteUnlock(c, mm);
  }
}

/** move_page_tables() / move_ptes(): both PTE locks held per entry; flush the old range. */
function movePageTables(c: MmCtx, mm: number, from: number, to: number, len: number): boolean {
  const i32 = c.i32;
  for (let x = 0; x < len; x++) {
    const ot = pteTable(c, mm, from + x);
    if (ot === 0) continue;
    const op = ptep(ot, from + x);
    if (Atomics.load(i32, op) === 0) continue;
    const nt = pteAlloc(c, mm, to + x);
    if (nt === 0) return false;
    // Lock order: the source table, then the destination (nested) if different.
    pteLock(c, ot);
    if (nt !== ot) pteLock(c, nt);
    const pte = Atomics.exchange(i32, op, 0);
    Atomics.store(i32, ptep(nt, to + x), pte);
    if (nt !== ot) pteUnlock(c, nt);
    flushTlbMm(c, mm);
    pteUnlock(c, ot);
  }
  return true;
}


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
  while (k < n && s[k * 3 + 2] - 1 !== vma) k++;
  if (k === n) return false;
  const prevEnd = k > 0 ? s[(k - 1) * 3 + 1] : 0;
  if (addr < prevEnd + 1 || addr >= i32[vma + VMA_START]) return false; // stack guard gap of one page
  if (!anonVmaPrepare(c, mm, vma)) return false;
  const node = mtPrealloc(c);
  if (node === 0) return false;
  vmaStartWrite(c, mm, vma);
  const grow = i32[vma + VMA_START] - addr;
  vmaSetField(c, mm, vma, VMA_PGOFF, i32[vma + VMA_PGOFF] - grow);
  vmaSetField(c, mm, vma, VMA_START, addr);
  s[k * 3] = addr;
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
    const vma = s[k * 3 + 2] - 1;
    vmaStartWrite(c, mm, vma);
    vmaMarkDetached(c, mm, vma);
    victims.push(vma);
  }
  const old = Atomics.exchange(i32, mm + MM_MT, 0);
  if (old !== 0) kmemCacheFree(c.t, c.nodeSlab, old - 1, c.rcuFn);
  i32[mm + MM_MAP_COUNT] = 0;
  zapPteRange(c, mm, 0, c.mmPages);
  freePgtables(c, mm, 0, c.mmPages);
  freeDead(c, victims);
  mmapWriteUnlock(c, mm);
}

