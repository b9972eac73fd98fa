import type { MmCtx } from './model.js';
import { Viol } from '../shm/kinds.js';
import { kmemCacheAlloc, slabFreeNow } from './slab.js';
import { downRead, downReadTrylock, upRead, downWrite, upWrite } from '../sync/rwsem.js';
import { refcountIncNotZero, refcountDecAndTest } from '../sync/refcount.js';
import { rcuReadLock, rcuReadUnlock } from '../sync/rcu.js';
import { spinLock, spinUnlock } from '../sync/spinlock.js';
import { LC_PAGE_TABLE_LOCK } from '../sync/lockclass.js';
import { AH_ANON_VMA_CHAIN_LINK } from '../sync/lockdep.js';
import { mmapAssertLocked, anonVmaAssertWriteLocked } from './mmap_lock.js';
import { findVma } from './tree.js';
import { kasanCheck, kasanCheckGen, kasanCheckMm, KS_RMAP_VMA, KS_RMAP_PT, KS_RMAP_MM, KS_RMAP_AV, KS_RMAP_AVC, KS_ANON_NEIGHBOUR } from './kasan.js';
import { pteTable, ptep, pteLock, pteUnlock, pteFolio, mkSwapPte, setPte, ptepGetAndClear } from './pgtable.js';
import { flushTlbMm } from './tlb.js';
import { delayPoint, W_ANON_NEIGHBOUR } from './debug.js';
import {
  anonVmaAlloc, getAnonVma, putAnonVma, putAnonVmaLast, folioTestFlag, folioClearFlag, folioRemoveRmap, folioPut, folioMaybeDmaPinned,
  folioMapcount,
} from './folio.js';
import {
  AV_LOCK, AV_ROOT, AV_MM, AV_HEAD, AV_TAIL, AV_REF, AVC_VMA, AVC_VMA_GEN, AVC_AV, AVC_SAME_NEXT, AVC_NEXT,
  AVC_PREV, VMA_AVC, VMA_ANON_VMA, VMA_START, VMA_END, VMA_PGOFF, VMA_FLAGS, VMA_FILE, VMA_MM, VM_SHARED, OBJ_GEN,
  MM_PAGE_TABLE_LOCK, MC_ANON_VMA_PREPARE, MC_RMAP_UNMAP, F_ANON_VMA, F_INDEX, F_SWAPCOUNT, PG_ANON, PG_ANON_EXCLUSIVE,
  PTE_PRESENT, PTE_SWP_EXCLUSIVE, PTE_UFFD_WP,
} from './layout.js';

/*
 * The reverse map of anonymous memory (mm/rmap.c). Each VMA links, through
 * anon_vma_chain objects on its same_vma list, its own anon_vma and every
 * ancestor's (fork); each anon_vma keeps the chains that link it in rmap
 * traversal order (the kernel's interval tree, reduced to a list: a new
 * link goes after every older one, which is the order move_vma and fork
 * rely on — "rmap will always observe either the old pte, or the new pte").
 * The anon_vma lists are protected by the root anon_vma's rwsem; a VMA's
 * same_vma list by mmap_lock (for write; for read plus page_table_lock in
 * __anon_vma_prepare). Every link pins its anon_vma (the kernel's
 * refcount plus num_active_vmas/num_children, reduced to one count).
 */

/** The root anon_vma of anon_vma `av` (the rwsem every list of the family is under). */
function avRoot(c: MmCtx, av: number): number {
  return c.i32[av + AV_ROOT] - 1;
}

/** anon_vma_lock_write(): the root's rwsem for write. */
export function anonVmaLockWrite(c: MmCtx, av: number): void {
  downWrite(c.t, avRoot(c, av) + AV_LOCK);
}

/** anon_vma_unlock_write(). */
export function anonVmaUnlockWrite(c: MmCtx, av: number): void {
  upWrite(c.t, avRoot(c, av) + AV_LOCK);
}

/** anon_vma_chain_alloc(): 0 on -ENOMEM. */
function avcAlloc(c: MmCtx, spares: number[] | null): number {
  if (spares !== null && spares.length > 0) return spares.pop()!;
  return kmemCacheAlloc(c.t, c.avcSlab);
}

/** anon_vma_chain_free(). Rmap walkers reach a chain only under the anon_vma lock, so no grace period. */
function avcFree(c: MmCtx, avc: number): void {
  slabFreeNow(c.t, c.avcSlab, avc);
}

/** Preallocate `n` chains into `out` (all or nothing). */
export function avcPrealloc(c: MmCtx, n: number, out: number[]): boolean {
  for (let k = 0; k < n; k++) {
    const avc = kmemCacheAlloc(c.t, c.avcSlab);
    if (avc === 0) {
      avcPutSpares(c, out);
      return false;
    }
    out.push(avc);
  }
  return true;
}

/** Return preallocated chains nobody used. */
export function avcPutSpares(c: MmCtx, spares: number[]): void {
  while (spares.length > 0) avcFree(c, spares.pop()!);
}

/**
 * anon_vma_chain_link(): link `vma` to `av` through `avc` — the end of the
 * VMA's same_vma list and of the anon_vma's list, in that order. The caller
 * holds the root anon_vma lock for write (asserted through the list store's
 * owner check).
 */
function anonVmaChainLink(c: MmCtx, vma: number, avc: number, av: number): void {
  const i32 = c.i32;
  i32[avc + AVC_VMA] = vma + 1;
  i32[avc + AVC_VMA_GEN] = Atomics.load(i32, vma + OBJ_GEN);
  i32[avc + AVC_AV] = av + 1;
  i32[avc + AVC_SAME_NEXT] = 0;
  i32[avc + AVC_NEXT] = 0;
  const tail = i32[av + AV_TAIL];
  i32[avc + AVC_PREV] = tail;
  anonVmaAssertWriteLocked(c, av, AH_ANON_VMA_CHAIN_LINK);
  // Publish the initialised chain with one ordered store.
  if (tail === 0) Atomics.store(i32, av + AV_HEAD, avc + 1);
  else Atomics.store(i32, tail - 1 + AVC_NEXT, avc + 1);
  Atomics.store(i32, av + AV_TAIL, avc + 1);
  let last = i32[vma + VMA_AVC];
  if (last === 0) {
    i32[vma + VMA_AVC] = avc + 1;
  } else {
    while (i32[last - 1 + AVC_SAME_NEXT] !== 0) last = i32[last - 1 + AVC_SAME_NEXT];
    i32[last - 1 + AVC_SAME_NEXT] = avc + 1;
  }
}

/** Take `avc` off its anon_vma's list (root lock held for write). */
function avcUnlinkFromAnonVma(c: MmCtx, avc: number, av: number): void {
  const i32 = c.i32;
  const prev = i32[avc + AVC_PREV];
  const next = i32[avc + AVC_NEXT];
  if (prev === 0) Atomics.store(i32, av + AV_HEAD, next);
  else Atomics.store(i32, prev - 1 + AVC_NEXT, next);
  if (next === 0) Atomics.store(i32, av + AV_TAIL, prev);
  else i32[next - 1 + AVC_PREV] = prev;
}

/** Length of the VMA's anon_vma_chain. */
export function anonVmaChainLength(c: MmCtx, vma: number): number {
  let n = 0;
  for (let a = c.i32[vma + VMA_AVC]; a !== 0 && n < 1024; a = c.i32[a - 1 + AVC_SAME_NEXT]) n++;
  return n;
}

/** Does the VMA's anon_vma_chain link anon_vma `target`? */
export function anonVmaChainHas(c: MmCtx, vma: number, target: number): boolean {
  for (let a = c.i32[vma + VMA_AVC], d = 0; a !== 0 && d < 1024; a = c.i32[a - 1 + AVC_SAME_NEXT], d++) {
    if (c.i32[a - 1 + AVC_AV] - 1 === target) return true;
  }
  return false;
}

/** list_is_singular(&vma->anon_vma_chain). */
export function singularChain(c: MmCtx, vma: number): boolean {
  const a = c.i32[vma + VMA_AVC];
  return a !== 0 && c.i32[a - 1 + AVC_SAME_NEXT] === 0;
}

/**
 * anon_vma_clone(): link `dst` to every anon_vma `src` links, in the same
 * order, each under its root's lock, each link pinning its anon_vma. The
 * caller sets dst's anon_vma. `spares` (may be null) are chains allocated
 * beforehand. Returns false on -ENOMEM with nothing linked.
 */
export function anonVmaClone(c: MmCtx, dst: number, src: number, spares: number[] | null): boolean {
  const i32 = c.i32;
  for (let a = i32[src + VMA_AVC]; a !== 0; a = i32[a - 1 + AVC_SAME_NEXT]) {
    const av = i32[a - 1 + AVC_AV] - 1;
    const avc = avcAlloc(c, spares);
    if (avc === 0) {
      unlinkAnonVmas(c, dst);
      return false;
    }
    anonVmaLockWrite(c, av);
    anonVmaChainLink(c, dst, avc, av);
    anonVmaUnlockWrite(c, av);
    getAnonVma(c, av);
  }
  return true;
}

/**
 * anon_vma_fork(): the child VMA links the parent VMA's chain, then an
 * anon_vma of its own (root: the parent's root, which it pins) at the end.
 * Returns false on -ENOMEM.
 */
export function anonVmaFork(c: MmCtx, child: number, parentVma: number, childMm: number): boolean {
  const i32 = c.i32;
  const pav1 = i32[parentVma + VMA_ANON_VMA];
  if (pav1 === 0) return true;
  i32[child + VMA_ANON_VMA] = 0;
  if (!anonVmaClone(c, child, parentVma, null)) return false;
  const avc = kmemCacheAlloc(c.t, c.avcSlab);
  const av = avc === 0 ? 0 : anonVmaAlloc(c, childMm);
  if (av === 0) {
    if (avc !== 0) avcFree(c, avc);
    unlinkAnonVmas(c, child);
    return false;
  }
  const root1 = i32[pav1 - 1 + AV_ROOT];
  getAnonVma(c, root1 - 1);
  i32[av + AV_ROOT] = root1;
  i32[av + AV_MM] = childMm + 1;
  i32[child + VMA_ANON_VMA] = av + 1;
  anonVmaLockWrite(c, av);
  anonVmaChainLink(c, child, avc, av); // the allocation's reference becomes the link's
  anonVmaUnlockWrite(c, av);
  return true;
}

/**
 * find_mergeable_anon_vma() / reusable_anon_vma(): an adjacent VMA of the
 * same kind whose anon_vma can be shared. This looks at *neighbouring* VMAs,
 * which the faulting VMA's own lock does not stabilise: the reason
 * __anon_vma_prepare() needs mmap_lock (B5).
 */
function findMergeableAnonVma(c: MmCtx, mm: number, vma: number): number {
  const i32 = c.i32;
  const start = i32[vma + VMA_START];
  const end = i32[vma + VMA_END];
  const next = findVma(c, mm, end);
  // reusable_anon_vma(): only a neighbour whose chain is its anon_vma alone (list_is_singular).
  if (next !== 0 && neighbourStable(c, next) && i32[next + VMA_START] === end && singularChain(c, next) &&
      i32[next + VMA_FLAGS] === i32[vma + VMA_FLAGS] && i32[next + VMA_MM] === mm + 1) {
    return i32[next + VMA_ANON_VMA] - 1;
  }
  const prev = start > 0 ? findVma(c, mm, start - 1) : 0;
  if (prev !== 0 && prev !== vma && neighbourStable(c, prev) && i32[prev + VMA_END] === start && singularChain(c, prev) &&
      i32[prev + VMA_FLAGS] === i32[vma + VMA_FLAGS] && i32[prev + VMA_MM] === mm + 1) {
    return i32[prev + VMA_ANON_VMA] - 1;
  }
  return -1;
}

/**
 * KASAN at find_mergeable_anon_vma's read of a neighbour: only mmap_lock
 * keeps a VMA that is not our own from being unmapped and freed (or, E3,
 * reused) between the tree walk and the read; the window between them is
 * widened like the others. Returns whether the neighbour is the one found.
 */
function neighbourStable(c: MmCtx, v: number): boolean {
  const gen = c.i32[v + OBJ_GEN];
  delayPoint(c, W_ANON_NEIGHBOUR);
  return kasanCheckGen(c, v, gen, KS_ANON_NEIGHBOUR, false);
}

/**
 * __anon_vma_prepare(): give the VMA an anon_vma, reusing a neighbour's
 * when possible; installed and linked under the anon_vma lock and
 * page_table_lock. Asserts mmap_lock (6.10). Returns false on -ENOMEM.
 */
export function anonVmaPrepare(c: MmCtx, mm: number, vma: number): boolean {
  const i32 = c.i32;
  if (i32[vma + VMA_ANON_VMA] !== 0) return true;
  if ((i32[vma + VMA_FLAGS] & VM_SHARED) !== 0 || i32[vma + VMA_FILE] !== 0) return true;
  mmapAssertLocked(c, mm);
  c.t.count(MC_ANON_VMA_PREPARE);
  const avc = kmemCacheAlloc(c.t, c.avcSlab);
  if (avc === 0) return false;
  let av = findMergeableAnonVma(c, mm, vma);
  if (av >= 0) {
    getAnonVma(c, av);
  } else {
    av = anonVmaAlloc(c, mm);
    if (av === 0) {
      avcFree(c, avc);
      return false;
    }
  }
  anonVmaLockWrite(c, av);
  spinLock(c.t, mm + MM_PAGE_TABLE_LOCK, LC_PAGE_TABLE_LOCK);
  let used = false;
  if (Atomics.load(i32, vma + VMA_ANON_VMA) === 0) {
    anonVmaChainLink(c, vma, avc, av);
    Atomics.store(i32, vma + VMA_ANON_VMA, av + 1);
    used = true;
  }
  spinUnlock(c.t, mm + MM_PAGE_TABLE_LOCK, LC_PAGE_TABLE_LOCK);
  anonVmaUnlockWrite(c, av);
  if (!used) {
    avcFree(c, avc);
    putAnonVma(c, av);
  }
  return true;
}

/**
 * unlink_anon_vmas(): take each of the VMA's chains off its anon_vma's list
 * (under the root lock), then drop the links' references and free the
 * chains; the VMA has no anon_vma afterwards.
 */
export function unlinkAnonVmas(c: MmCtx, vma: number): void {
  const i32 = c.i32;
  const head = i32[vma + VMA_AVC];
  if (head === 0) {
    i32[vma + VMA_ANON_VMA] = 0;
    return;
  }
  for (let a = head; a !== 0; a = i32[a - 1 + AVC_SAME_NEXT]) {
    const av = i32[a - 1 + AVC_AV] - 1;
    anonVmaLockWrite(c, av);
    avcUnlinkFromAnonVma(c, a - 1, av);
    anonVmaUnlockWrite(c, av);
  }
  i32[vma + VMA_AVC] = 0;
  Atomics.store(i32, vma + VMA_ANON_VMA, 0);
  for (let a = head; a !== 0; ) {
    const next = i32[a - 1 + AVC_SAME_NEXT];
    const av = i32[a - 1 + AVC_AV] - 1;
    avcFree(c, a - 1);
    putAnonVma(c, av);
    a = next;
  }
}

// ---------------------------------------------------------------------------
// The rmap walk of reclaim: try_to_unmap() of one anon folio.
// ---------------------------------------------------------------------------

/**
 * folio_lock_anon_vma_read(): the folio's anon_vma with its root locked
 * for read, or -1 if the folio is no longer mapped. anon_vma memory is only
 * stable under RCU, so the walker trylocks the root inside the read-side
 * section and re-checks folio_mapped() (a still-mapped folio's anon_vma is
 * pinned by the VMA that maps it); failing the trylock it pins the anon_vma
 * (atomic_inc_not_zero) before it sleeps on the lock. Caller holds the folio
 * lock.
 */
export function folioLockAnonVmaRead(c: MmCtx, f: number): number {
  const i32 = c.i32;
  rcuReadLock(c.t);
  const av1 = Atomics.load(i32, f + F_ANON_VMA);
  if (av1 === 0 || !folioTestFlag(c, f, PG_ANON) || folioMapcount(c, f) <= 0) {
    rcuReadUnlock(c.t);
    return -1;
  }
  const av = av1 - 1;
  kasanCheck(c, av, KS_RMAP_AV, true);
  const root = avRoot(c, av);
  if (downReadTrylock(c.t, root + AV_LOCK)) {
    if (folioMapcount(c, f) <= 0) {
      upRead(c.t, root + AV_LOCK);
      rcuReadUnlock(c.t);
      return -1;
    }
    rcuReadUnlock(c.t);
    return av;
  }
  if (!refcountIncNotZero(c.t, av + AV_REF)) {
    rcuReadUnlock(c.t);
    return -1;
  }
  rcuReadUnlock(c.t);
  if (folioMapcount(c, f) <= 0) {
    putAnonVma(c, av);
    return -1;
  }
  downRead(c.t, root + AV_LOCK);
  if (refcountDecAndTest(c.t, av + AV_REF, av)) {
    // Unmapped and unlinked while we slept: ours was the last reference.
    upRead(c.t, root + AV_LOCK);
    putAnonVmaLast(c, av);
    return -1;
  }
  return av;
}

/** try_to_unmap_one() results. */
const TTU_SKIP = 0;
const TTU_UNMAPPED = 1;
const TTU_BUSY = -1;

/**
 * try_to_unmap_one() for `vma` (rmap lock held for read, folio locked, in
 * the swap cache): vma_address() of the folio's index, then
 * page_vma_mapped_walk — the PTE table under RCU and its lock, re-checked
 * after locking (pte_offset_map_lock) — and, where the PTE maps the folio,
 * a swap entry instead. An exclusive folio that may be pinned cannot be
 * shared: the PTE is restored and the walk stops (TTU_BUSY).
 */
function tryToUnmapOne(c: MmCtx, f: number, vma: number): number {
  const i32 = c.i32;
  const start = Atomics.load(i32, vma + VMA_START);
  const end = Atomics.load(i32, vma + VMA_END);
  const pgoff = Atomics.load(i32, vma + VMA_PGOFF);
  const index = i32[f + F_INDEX];
  if (index < pgoff || index >= pgoff + (end - start)) return TTU_SKIP; // the interval tree would not return it
  const addr = start + (index - pgoff);
  const mm = i32[vma + VMA_MM] - 1;
  if (mm < 0 || !kasanCheckMm(c, mm, KS_RMAP_MM)) return TTU_SKIP;
  rcuReadLock(c.t);
  const table = pteTable(c, mm, addr);
  if (table === 0 || !kasanCheck(c, table, KS_RMAP_PT, true)) {
    rcuReadUnlock(c.t);
    return TTU_SKIP;
  }
  pteLock(c, table);
  let ret = TTU_SKIP;
  if (pteTable(c, mm, addr) === table) {
    const p = ptep(table, addr);
    const pte = Atomics.load(i32, p);
    if ((pte & PTE_PRESENT) !== 0 && pteFolio(pte) === f) {
      const exclusive = folioTestFlag(c, f, PG_ANON_EXCLUSIVE);
      ptepGetAndClear(c, table, p);
      flushTlbMm(c, mm, addr); // ptep_clear_flush()
      if (exclusive && folioMaybeDmaPinned(c, f)) {
        setPte(c, table, p, pte); // folio_try_share_anon_rmap_pte() failed
        ret = TTU_BUSY;
      } else {
        Atomics.add(i32, f + F_SWAPCOUNT, 1); // swap_duplicate()
        setPte(c, table, p, mkSwapPte(f, (exclusive ? PTE_SWP_EXCLUSIVE : 0) | (pte & PTE_UFFD_WP)));
        if (exclusive) folioClearFlag(c, f, PG_ANON_EXCLUSIVE);
        folioRemoveRmap(c, f);
        ret = TTU_UNMAPPED;
      }
    }
  }
  pteUnlock(c, table);
  rcuReadUnlock(c.t);
  if (ret === TTU_UNMAPPED) {
    folioPut(c, f); // the mapping's reference
    c.t.count(MC_RMAP_UNMAP);
  }
  return ret;
}

/**
 * try_to_unmap() / rmap_walk_anon() (mm/rmap.c): with the folio locked, lock
 * its anon_vma for read and visit every VMA on its list, oldest link first,
 * never taking mmap_lock or a VMA lock. Returns the PTEs unmapped, or -1 if
 * a pinned exclusive mapping stopped the walk. The oracle: a walk that was
 * not stopped leaves the folio unmapped — every path that maps an anon
 * folio either holds its lock (swap-in), holds the rmap lock (links,
 * vma_prepare), or adds its mapping after an earlier one on the list (fork,
 * move_vma); a mapping left behind is one the rmap cannot reach
 * (`BUG: rmap walk misses a mapping`).
 */
export function tryToUnmap(c: MmCtx, f: number): number {
  const i32 = c.i32;
  const av = folioLockAnonVmaRead(c, f);
  if (av < 0) return 0;
  let unmapped = 0;
  let walked = 0;
  let busy = false;
  for (let a = Atomics.load(i32, av + AV_HEAD); a !== 0 && !busy; a = Atomics.load(i32, a - 1 + AVC_NEXT)) {
    if (!kasanCheck(c, a - 1, KS_RMAP_AVC, false)) break;
    const vma = i32[a - 1 + AVC_VMA] - 1;
    if (!kasanCheckGen(c, vma, i32[a - 1 + AVC_VMA_GEN], KS_RMAP_VMA, false)) break;
    const r = tryToUnmapOne(c, f, vma);
    if (r === TTU_UNMAPPED) unmapped++;
    busy = r === TTU_BUSY;
    walked++;
  }
  if (c.t.checks && !busy) {
    const left = folioMapcount(c, f);
    if (left > 0) c.t.violation(Viol.RmapWalkMiss, f, f, av, left, walked);
  }
  upRead(c.t, avRoot(c, av) + AV_LOCK);
  return busy ? -1 : unmapped;
}
