import type { Task } from '../shm/task.js';
import { rawSpinLock, rawSpinUnlock } from '../sync/spinlock.js';
import { callRcu, type RcuCallbackFn } from '../sync/rcu.js';
import {
  SL_LOCK, SL_TOP, SL_HEAD, SL_CAP, SL_OBJ_WORDS, SL_OBJS, SL_STACK, SL_TYPESAFE, SL_ALLOCS, SL_FREES, SL_FAILS, SL_WORDS, SL_PRESERVE, SL_OBJ_SIZE,
  OBJ_GEN, OBJ_STATE,
} from './layout.js';
import { T_MAG, MAG_CAP } from '../shm/layout.js';

/*
 * Fixed-size slab caches (mm/slub.c, reduced to what the model needs): a
 * free list under a spinlock; every object carries a generation bumped at
 * allocation so oracles can tell an object from its reincarnation. A
 * SLAB_TYPESAFE_BY_RCU cache hands the most recently freed object out again
 * at once (a LIFO stack: reuse races show soonest); the others free through
 * call_rcu into a FIFO ring, so a freed object waits behind every other free
 * one before it is reused — KASAN's quarantine: a late access finds it dead
 * rather than reincarnated.
 */
export const OBJ_FREE = 0;
export const OBJ_LIVE = 1;
export const OBJ_RCU_FREE = 2;

/** Callback kind for RCU-deferred slab frees (arg0 = slab header, arg1 = object). */
export const CB_SLAB_FREE = 100;

/** Words a slab of `cap` objects of `objWords` needs (header + stack + objects). */
export function slabWords(cap: number, objWords: number): number {
  return SL_WORDS + Math.ceil(cap / 16) * 16 + cap * objWords;
}

/** kmem_cache_create(): lay out a slab at `base` (main thread, before workers start). */
export function slabInit(i32: Int32Array, base: number, cap: number, objWords: number, typesafeByRcu: boolean, preserveWord = -1, objSize = objWords): void {
  if (objWords % 16 !== 0) throw new Error('slab objects must be whole cache lines');
  if (objSize > objWords || objSize < 2) throw new Error(`slab object size ${objSize} outside 2..${objWords}`);
  const stack = base + SL_WORDS;
  const objs = stack + Math.ceil(cap / 16) * 16;
  i32[base + SL_LOCK] = 0;
  i32[base + SL_CAP] = cap;
  i32[base + SL_OBJ_WORDS] = objWords;
  i32[base + SL_OBJS] = objs;
  i32[base + SL_STACK] = stack;
  i32[base + SL_TYPESAFE] = typesafeByRcu ? 1 : 0;
  i32[base + SL_PRESERVE] = preserveWord + 1;
  i32[base + SL_OBJ_SIZE] = objSize;
  for (let k = 0; k < cap; k++) {
    i32[stack + k] = objs + (cap - 1 - k) * objWords;
    i32[objs + k * objWords + OBJ_GEN] = 0;
    i32[objs + k * objWords + OBJ_STATE] = OBJ_FREE;
  }
  i32[base + SL_TOP] = cap;
  i32[base + SL_HEAD] = 0;
}

/** Take a free object off the free list (slab lock held, list not empty). */
function slabPop(i32: Int32Array, slab: number): number {
  const top = i32[slab + SL_TOP] - 1;
  i32[slab + SL_TOP] = top;
  const stack = i32[slab + SL_STACK];
  if (i32[slab + SL_TYPESAFE] !== 0) return i32[stack + top];
  const head = i32[slab + SL_HEAD];
  i32[slab + SL_HEAD] = head + 1 === i32[slab + SL_CAP] ? 0 : head + 1;
  return i32[stack + head];
}

/** Put a free object on the free list (slab lock held). */
function slabPush(i32: Int32Array, slab: number, obj: number): void {
  const top = i32[slab + SL_TOP];
  const stack = i32[slab + SL_STACK];
  if (i32[slab + SL_TYPESAFE] !== 0) {
    i32[stack + top] = obj;
  } else {
    const cap = i32[slab + SL_CAP];
    const at = i32[slab + SL_HEAD] + top;
    i32[stack + (at >= cap ? at - cap : at)] = obj;
  }
  i32[slab + SL_TOP] = top + 1;
}

/** kmem_cache_alloc(): an object's base word, or 0 when the cache is exhausted (-ENOMEM). */
export function kmemCacheAlloc(t: Task, slab: number): number {
  const i32 = t.i32;
  rawSpinLock(t, slab + SL_LOCK);
  const top = i32[slab + SL_TOP];
  if (top === 0) {
    i32[slab + SL_FAILS]++;
    rawSpinUnlock(t, slab + SL_LOCK);
    return 0;
  }
  const obj = slabPop(i32, slab);
  i32[slab + SL_ALLOCS]++;
  rawSpinUnlock(t, slab + SL_LOCK);
  zeroAndPublish(i32, slab, obj);
  return obj;
}

/** Return an object to the free stack now. */
export function slabFreeNow(t: Task, slab: number, obj: number): void {
  const i32 = t.i32;
  Atomics.store(i32, obj + OBJ_STATE, OBJ_FREE);
  rawSpinLock(t, slab + SL_LOCK);
  slabPush(i32, slab, obj);
  i32[slab + SL_FREES]++;
  rawSpinUnlock(t, slab + SL_LOCK);
}

/**
 * kmem_cache_free(): immediately for SLAB_TYPESAFE_BY_RCU caches, else after
 * a grace period (the callback `fn` must route CB_SLAB_FREE to slabFreeNow).
 */
export function kmemCacheFree(t: Task, slab: number, obj: number, fn: RcuCallbackFn): void {
  if (t.i32[slab + SL_TYPESAFE] !== 0) {
    slabFreeNow(t, slab, obj);
  } else {
    Atomics.store(t.i32, obj + OBJ_STATE, OBJ_RCU_FREE);
    callRcu(t, CB_SLAB_FREE, slab, obj, fn);
  }
}

// ---------------------------------------------------------------------------
// Per-thread magazines (per-CPU caches) for the hottest slab: a fault
// allocates and frees folios without touching the shared free stack.
// ---------------------------------------------------------------------------

/**
 * kmem_cache_zalloc(): zero the object (its size, not the slot's padding,
 * which nothing writes) except its generation, bump the
 * generation, publish. The zeroing is plain stores (a memset, as the
 * kernel's): no other thread may use the object before the ordered stores
 * of its generation and state publish it; a stale reader of a
 * SLAB_TYPESAFE_BY_RCU object re-validates after taking its reference, and
 * the word such readers touch (vm_refcnt) is never cleared here.
 */
function zeroAndPublish(i32: Int32Array, slab: number, obj: number): void {
  const words = i32[slab + SL_OBJ_SIZE];
  const gen = i32[obj + OBJ_GEN] + 1;
  const keep = i32[slab + SL_PRESERVE] - 1;
  // A loop of plain stores: TypedArray#fill on a shared buffer is a runtime
  // call that cost 9 % of a fault (profile, 2026-12-07) for ~20 words.
  const end = obj + words;
  const kept = keep < 2 ? -1 : obj + keep;
  for (let w = obj + 2; w < end; w++) if (w !== kept) i32[w] = 0;
  i32[obj + OBJ_GEN] = gen; // published with the zeroed words by the ordered STATE store
  Atomics.store(i32, obj + OBJ_STATE, OBJ_LIVE);
}

/** kmem_cache_alloc() through this thread's magazine (refilled half-full from the slab). */
export function kmemCacheAllocCpu(t: Task, slab: number): number {
  const i32 = t.i32;
  const m = t.base + T_MAG;
  let n = i32[m];
  if (n === 0) {
    rawSpinLock(t, slab + SL_LOCK);
    while (n < MAG_CAP / 2 && i32[slab + SL_TOP] > 0) i32[m + 16 + n++] = slabPop(i32, slab);
    if (n === 0) i32[slab + SL_FAILS]++;
    else i32[slab + SL_ALLOCS] += n;
    rawSpinUnlock(t, slab + SL_LOCK);
    if (n === 0) return 0;
  }
  const obj = i32[m + 16 + --n];
  i32[m] = n;
  zeroAndPublish(i32, slab, obj);
  return obj;
}

/** kmem_cache_free() into this thread's magazine (half of a full one goes back to the slab). */
export function kmemCacheFreeCpu(t: Task, slab: number, obj: number): void {
  const i32 = t.i32;
  const m = t.base + T_MAG;
  Atomics.store(i32, obj + OBJ_STATE, OBJ_FREE);
  let n = i32[m];
  if (n === MAG_CAP) {
    rawSpinLock(t, slab + SL_LOCK);
    while (n > MAG_CAP / 2) slabPush(i32, slab, i32[m + 16 + --n]);
    i32[slab + SL_FREES] += MAG_CAP / 2;
    rawSpinUnlock(t, slab + SL_LOCK);
  }
  i32[m + 16 + n] = obj;
  i32[m] = n + 1;
}

/** Live objects of a slab (by state: objects parked in magazines are free). */
export function slabLive(i32: Int32Array, slab: number): number {
  const base = i32[slab + SL_OBJS];
  const words = i32[slab + SL_OBJ_WORDS];
  const cap = i32[slab + SL_CAP];
  let n = 0;
  for (let k = 0; k < cap; k++) if (i32[base + k * words + OBJ_STATE] !== OBJ_FREE) n++;
  return n;
}

/** Objects currently allocated (quiescent checks). */
export function slabInUse(i32: Int32Array, slab: number): number {
  return i32[slab + SL_CAP] - i32[slab + SL_TOP];
}

export function slabObjects(i32: Int32Array, slab: number): { base: number; cap: number; words: number } {
  return { base: i32[slab + SL_OBJS], cap: i32[slab + SL_CAP], words: i32[slab + SL_OBJ_WORDS] };
}
