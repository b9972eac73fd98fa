import type { MmCtx } from './model.js';
import { MM_MT, MM_MMAP_LOCK, ND_COUNT, ND_ENTRIES, ND_ENTRY_WORDS, OBJ_GEN } from './layout.js';
import { kasanCheckGen, KS_MAS_WALK, KS_FIND_VMA } from './kasan.js';
import { lockdepAssertHeld, AH_FIND_VMA } from '../sync/lockdep.js';
import { LC_MMAP_LOCK } from '../sync/lockclass.js';
import { kmemCacheAlloc, kmemCacheFree } from './slab.js';

/*
 * The VMA index (stand-in for the maple tree, mm->mm_mt with
 * MT_FLAGS_USE_RCU): a sorted array of (start, end, vma) published with one
 * atomic store. Writers (under mmap_lock write) build a new node and free the
 * old one after a grace period, so an RCU walker may still see an old node
 * holding a VMA that has since been detached — exactly like mas_walk().
 *
 * Writers edit an "iterator" — a scratch array of triplets — and publish it.
 */

/** mas_walk() under RCU (or any lock): the VMA whose tree range covers addr, or 0. */
export function mtWalk(c: MmCtx, mm: number, addr: number): number {
  const i32 = c.i32;
  const node1 = Atomics.load(i32, mm + MM_MT);
  if (node1 === 0) return 0;
  const node = node1 - 1;
  const gen = c.t.checks ? i32[node + OBJ_GEN] : 0; // KASAN's snapshot: plain, after the ordered load of mm_mt; kasanCheckGen re-reads with Atomics
  let lo = 0;
  // A node is immutable once published; the acquire of mm_mt ordered its words.
  let hi = i32[node + ND_COUNT] - 1;
  let vma = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const e = node + ND_ENTRIES + mid * ND_ENTRY_WORDS;
    if (addr < i32[e]) hi = mid - 1;
    else if (addr >= i32[e + 1]) lo = mid + 1;
    else {
      vma = i32[e + 2] - 1;
      break;
    }
  }
  // An RCU walker may read a node whose free is pending, never a freed one.
  kasanCheckGen(c, node, gen, KS_MAS_WALK, true);
  return vma;
}

/** find_vma(): the first VMA with vm_end > addr, or 0; asserts the caller holds mmap_lock (mmap_assert_locked). */
export function findVma(c: MmCtx, mm: number, addr: number): number {
  const i32 = c.i32;
  lockdepAssertHeld(c.t, mm + MM_MMAP_LOCK, LC_MMAP_LOCK, AH_FIND_VMA);
  const node1 = Atomics.load(i32, mm + MM_MT);
  if (node1 === 0) return 0;
  const node = node1 - 1;
  const gen = c.t.checks ? Atomics.load(i32, node + OBJ_GEN) : 0;
  const n = i32[node + ND_COUNT];
  let vma = 0;
  for (let k = 0; k < n; k++) {
    const e = node + ND_ENTRIES + k * ND_ENTRY_WORDS;
    if (i32[e + 1] > addr) {
      vma = i32[e + 2] - 1;
      break;
    }
  }
  // Under mmap_lock the tree cannot change: the node must still be the live one.
  kasanCheckGen(c, node, gen, KS_FIND_VMA, false);
  return vma;
}

/** Number of VMAs in the index. */
export function mtCount(c: MmCtx, mm: number): number {
  const node1 = Atomics.load(c.i32, mm + MM_MT);
  return node1 === 0 ? 0 : c.i32[node1 - 1 + ND_COUNT];
}

/** Copy the index into `out` as triplets (start, end, vma); returns the count. */
export function mtSnapshot(c: MmCtx, mm: number, out: Int32Array): number {
  const i32 = c.i32;
  const node1 = Atomics.load(i32, mm + MM_MT);
  if (node1 === 0) return 0;
  const node = node1 - 1;
  const n = i32[node + ND_COUNT];
  for (let k = 0; k < n * ND_ENTRY_WORDS; k++) out[k] = i32[node + ND_ENTRIES + k];
  return n;
}

/*
 * The VMA iterator's view (vma_iter / for_each_vma over a snapshot): entry k
 * of a snapshot is (vm_start, vm_end, VMA + 1) in ND_ENTRY_WORDS words.
 */

/** vm_start of snapshot entry k. */
export function snapStart(s: Int32Array, k: number): number {
  return s[k * ND_ENTRY_WORDS];
}

/** vm_end of snapshot entry k. */
export function snapEnd(s: Int32Array, k: number): number {
  return s[k * ND_ENTRY_WORDS + 1];
}

/** The VMA of snapshot entry k. */
export function snapVma(s: Int32Array, k: number): number {
  return s[k * ND_ENTRY_WORDS + 2] - 1;
}

/** A writer moved entry k's start (vma_iter_store_overwrite of a shrunk or grown VMA). */
export function snapSetStart(s: Int32Array, k: number, start: number): void {
  s[k * ND_ENTRY_WORDS] = start;
}

/** A writer moved entry k's end. */
export function snapSetEnd(s: Int32Array, k: number, end: number): void {
  s[k * ND_ENTRY_WORDS + 1] = end;
}

/** Index k of the first entry with end > addr in a snapshot, or n. */
export function snapFind(s: Int32Array, n: number, addr: number): number {
  for (let k = 0; k < n; k++) if (s[k * 3 + 1] > addr) return k;
  return n;
}

/** Insert (start, end, vma) at position k of a snapshot; returns the new count. */
export function snapInsert(s: Int32Array, n: number, k: number, start: number, end: number, vma: number): number {
  for (let j = n * 3 - 1; j >= k * 3; j--) s[j + 3] = s[j];
  s[k * 3] = start;
  s[k * 3 + 1] = end;
  s[k * 3 + 2] = vma + 1;
  return n + 1;
}

/** Remove entry k of a snapshot; returns the new count. */
export function snapRemove(s: Int32Array, n: number, k: number): number {
  for (let j = k * 3; j < (n - 1) * 3; j++) s[j] = s[j + 3];
  return n - 1;
}

/** Preallocate a node for the next publish (vma_iter_prealloc); 0 on -ENOMEM. */
export function mtPrealloc(c: MmCtx): number {
  return kmemCacheAlloc(c.t, c.nodeSlab);
}

/**
 * Publish a snapshot as the mm's index (rcu_assign_pointer), using the
 * preallocated `node`; the old node is freed after a grace period.
 */
export function mtPublish(c: MmCtx, mm: number, s: Int32Array, n: number, node: number): void {
  const i32 = c.i32;
  if (n > c.maxVmas) throw new Error(`mm index overflow: ${n} > ${c.maxVmas}`);
  i32[node + ND_COUNT] = n;
  for (let k = 0; k < n * ND_ENTRY_WORDS; k++) i32[node + ND_ENTRIES + k] = s[k];
  const old1 = Atomics.exchange(i32, mm + MM_MT, n === 0 ? 0 : node + 1);
  if (n === 0) kmemCacheFree(c.t, c.nodeSlab, node, c.rcuFn);
  if (old1 !== 0) kmemCacheFree(c.t, c.nodeSlab, old1 - 1, c.rcuFn);
}

/** Release a preallocated node that was not used. */
export function mtFreePrealloc(c: MmCtx, node: number): void {
  if (node !== 0) kmemCacheFree(c.t, c.nodeSlab, node, c.rcuFn);
}
