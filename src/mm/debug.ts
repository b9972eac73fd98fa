import type { MmCtx } from './model.js';
import { Viol } from '../shm/kinds.js';
import { T_CTR } from '../shm/layout.js';
import { ctlWindow } from '../sync/ctl.js';
import { OBJ_GEN } from './layout.js';
import { VMA_START, VMA_END, VMA_FLAGS, VMA_MM } from './layout.js';

/*
 * Debug aids of the model, independent of any bug switch (DESIGN.md rule 5):
 * race-window widening delay points, the flight-recorder event names, and
 * the VMA identity record a reader keeps while it holds a VMA read lock.
 */

// Per-thread slots (T_CTR + k): the VMA this thread holds read-locked on the
// fault path, and what it looked like when it was locked.
const S_VMA = T_CTR + 24;
const S_GEN = T_CTR + 25;
const S_MM = T_CTR + 26;
const S_START = T_CTR + 27;
const S_END = T_CTR + 28;
const S_FLAGS = T_CTR + 29;
/** The race window this thread widened last (W_* + 1). */
export const S_WINDOW = T_CTR + 30;

/** Named race windows (delay points). */
export const W_WALK_TO_LOCK = 1; // lock_vma_under_rcu: between mas_walk and vma_start_read
export const W_LOCK_TO_RECHECK = 2; // after vma_start_read, before the range/detached re-check
export const W_ANON_CHECK = 3; // 6.4: between the anon_vma check and vma_start_read
export const W_FAULT_TO_PTL = 4; // handle_pte_fault: between reading the PTE and taking the PTE lock
export const W_COPY_PAGE_RANGE = 5; // dup_mmap: inside copy_page_range
export const W_ZAP_TO_FREE = 6; // munmap: between the zap and freeing the VMAs
export const W_GUP_FAST = 7; // GUP-fast: between reading the PTE and pinning
export const W_DETACH = 8; // between publishing the tree and detaching
export const W_UFFD_COPY = 9; // mfill_atomic_pte: between the copy and installing the PTE
export const W_INC_TO_CHECK = 10; // E3 vma_start_read: around the refcount increment (after the early vm_lock_seq bail-out, before the vm_mm / sequence re-checks)
export const W_RETRY_UNLOCKED = 11; // a fault handler dropped the VMA lock to return VM_FAULT_RETRY, before its caller sees the RETRY
export const W_ANON_NEIGHBOUR = 12; // find_mergeable_anon_vma: between finding a neighbouring VMA and reading it (mmap_lock keeps it)
export const W_TLB_REACH = 13; // the MMU walk: between the translation and the access (a TLB entry lives until the flush reaches this CPU)
export const W_SWAPIN_LOCK = 14; // do_swap_page: between the swap cache lookup (reference taken, PT lock dropped) and the folio lock (where the kernel reads the page in)
export const W_MOVE_PTES = 15; // mremap: between the copy's tree store and moving each extent of page tables into it
export const WINDOW_NAMES = ['', 'walk-to-lock', 'lock-to-recheck', 'anon-vma-check', 'fault-to-ptl', 'copy-page-range', 'zap-to-free', 'gup-fast', 'detach', 'uffd-copy', 'vma-start-read-inc', 'retry-unlocked', 'anon-vma-neighbour', 'tlb-reach', 'swapin-lock', 'move-ptes'];

/** Window draws of at least this many iterations sleep instead of spinning (about 0.2 ms). */
export const DELAY_SLEEP_MIN = 20_000;
/** What one spin iteration costs here (ms), to turn a long draw into a sleep of the same length. */
export const DELAY_ITER_REAL_MS = 1e-5;

/**
 * A delay point: with --jitter N, with the window's seeded probability
 * (Task.delayMask: one in 2 to one in 64 this run) spin for a seeded number
 * of iterations below N, and remember which window was held open.
 */
export function delayPoint(c: MmCtx, w: number): void {
  const t = c.t;
  if (!t.windowed) return; // one branch when neither --jitter nor a controlled schedule is on
  if (t.ctl !== 0) {
    ctlWindow(t, w);
    return;
  }
  if ((t.rand() & t.delayMask[w]) !== 0) return;
  c.i32[t.base + S_WINDOW] = w;
  const n = t.rand() % t.jitter;
  if (n >= DELAY_SLEEP_MIN) {
    // A long window is a preemption, not a computation: sleep through it, so
    // that on an oversubscribed CPU the thread that races it gets the CPU
    // (a spin would keep it off exactly then). Nothing wakes this word; the
    // sleep ends by its timeout (at most --jitter's 10 ms).
    Atomics.wait(c.i32, t.base + S_WINDOW, w, n * DELAY_ITER_REAL_MS);
    return;
  }
  let x = 0;
  for (let k = 0; k < n; k++) x += Atomics.load(c.i32, t.base + S_WINDOW);
  if (x < 0) c.i32[t.base + S_WINDOW] = 0;
}

/** Remember the VMA this thread just read-locked and its identity (an oracle: nothing under --no-check, so vmaIdentityCheck finds no record). */
export function vmaIdentityRecord(c: MmCtx, vma: number): void {
  if (!c.t.checks) return;
  const i32 = c.i32;
  const b = c.t.base;
  // Plain reads (DESIGN.md rule 3c): just after the read lock's RMW, of
  // fields a correct writer changes only under the VMA write lock our read
  // lock excludes. A buggy writer's racing store is read either side of it;
  // vmaIdentityCheck re-reads with Atomics, which V8 never folds into these.
  i32[b + S_VMA] = vma + 1;
  i32[b + S_GEN] = i32[vma + OBJ_GEN];
  i32[b + S_MM] = i32[vma + VMA_MM];
  i32[b + S_START] = i32[vma + VMA_START];
  i32[b + S_END] = i32[vma + VMA_END];
  i32[b + S_FLAGS] = i32[vma + VMA_FLAGS];
}

/**
 * Check, while still holding the read lock (or just before dropping it), that
 * nothing about the VMA changed: not its identity (slab generation, vm_mm)
 * nor the fields writers may only change after write-locking it.
 */
export function vmaIdentityCheck(c: MmCtx, vma: number): void {
  const i32 = c.i32;
  const b = c.t.base;
  if (i32[b + S_VMA] !== vma + 1) return;
  i32[b + S_VMA] = 0;
  const gen = Atomics.load(i32, vma + OBJ_GEN);
  let field = 0;
  if (gen !== i32[b + S_GEN]) field = 1;
  else if (Atomics.load(i32, vma + VMA_MM) !== i32[b + S_MM]) field = 2;
  else if (Atomics.load(i32, vma + VMA_START) !== i32[b + S_START]) field = 3;
  else if (Atomics.load(i32, vma + VMA_END) !== i32[b + S_END]) field = 4;
  else if (Atomics.load(i32, vma + VMA_FLAGS) !== i32[b + S_FLAGS]) field = 5;
  if (field !== 0) c.t.violation(Viol.VmaReusedWhileLocked, vma, vma, i32[b + S_GEN], gen, field);
}

/** Forget the record (the lock is released through a path that cannot check). */
export function vmaIdentityClear(c: MmCtx): void {
  c.i32[c.t.base + S_VMA] = 0;
}

// Flight-recorder event ids.
export const EV_FAULT = 1;
export const EV_VMA_LOCKED = 2;
export const EV_VMA_LOCK_FAIL = 3;
export const EV_VMA_END_READ = 4;
export const EV_START_WRITE = 5;
export const EV_DETACH = 6;
export const EV_ATTACH = 7;
export const EV_VMA_FREE = 8;
export const EV_MMAP = 9;
export const EV_MUNMAP = 10;
export const EV_MPROTECT = 11;
export const EV_MREMAP = 12;
export const EV_FORK = 13;
export const EV_PIN = 14;
export const EV_SWAPOUT = 15;
export const EV_UFFD_COPY = 16;
export const EV_FAULT_DONE = 17;
export const EV_MMAP_LOCK = 18;
export const EV_MMAP_UNLOCK = 19;
export const EV_RMAP_WALK = 20;
export const EVENT_NAMES: Record<number, [string, string, string, string]> = {
  [EV_FAULT]: ['fault', 'addr', 'write', 'mm'],
  [EV_VMA_LOCKED]: ['vma_start_read ok', 'addr', 'gen', 'mm'],
  [EV_VMA_LOCK_FAIL]: ['lock_vma_under_rcu abort', 'addr', '', 'mm'],
  [EV_VMA_END_READ]: ['vma_end_read', '', '', ''],
  [EV_START_WRITE]: ['vma_start_write', 'vm_start', 'vm_end', 'mm_lock_seq'],
  [EV_DETACH]: ['vma_mark_detached', 'vm_start', 'vm_end', 'refcnt'],
  [EV_ATTACH]: ['vma_mark_attached', 'vm_start', 'vm_end', 'mm'],
  [EV_VMA_FREE]: ['vm_area_free', 'gen', '', ''],
  [EV_MMAP]: ['mmap', 'addr', 'len', 'ret'],
  [EV_MUNMAP]: ['munmap', 'addr', 'len', 'ret'],
  [EV_MPROTECT]: ['mprotect', 'addr', 'len', 'flags'],
  [EV_MREMAP]: ['mremap', 'old', 'new', 'len'],
  [EV_FORK]: ['fork', 'child mm', '', ''],
  [EV_PIN]: ['pin_user_pages', 'addr', 'folio', 'fast'],
  [EV_SWAPOUT]: ['swap out', 'addr', 'folio', ''],
  [EV_UFFD_COPY]: ['UFFDIO_COPY', 'dst', 'ret', ''],
  [EV_FAULT_DONE]: ['fault done', 'addr', 'vm_fault_t', 'path'],
  [EV_MMAP_LOCK]: ['mmap_lock', 'mode', '', ''],
  [EV_MMAP_UNLOCK]: ['mmap_unlock', 'mode', '', ''],
  [EV_RMAP_WALK]: ['try_to_unmap', 'mapcount', 'unmapped', 'anon_vma'],
};
