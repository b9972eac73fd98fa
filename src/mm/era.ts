import type { MmCtx } from './model.js';
import { MM_LOCK_SEQ } from './layout.js';

/*
 * Eras of the per-VMA lock (KERNEL.md §0) and the one table each era's lock
 * implementation fills in. An era is chosen once, when a thread builds its
 * MmCtx (`c.vl`); nothing outside the ops and the slab layout asks which era
 * it is. The kernel does the same with one implementation per configuration
 * of include/linux/mmap_lock.h; locktorture with one lock_torture_ops per
 * lock type.
 */

/** E1: 6.4–6.12 rwsem + vm_lock_seq; E2: E1 with mm_lock_seq a seqcount (6.13–6.14); E3: vm_refcnt (6.15+; madvise under the VMA lock as in 6.16). */
export type Era = 1 | 2 | 3;
export const ERA_E1 = 1;
export const ERA_E2 = 2;
export const ERA_E3 = 3;
/** The CLI's names of the eras. */
export const ERA_NAMES: Readonly<Record<string, Era>> = { e1: ERA_E1, e2: ERA_E2, e3: ERA_E3 };

/** vma_start_read() results. */
export const VMA_READ_OK = 1;
export const VMA_READ_FAIL = 0; // fall back to mmap_lock
export const VMA_READ_EAGAIN = -1; // E3: detached (count 0): re-walk the tree

/**
 * One era's per-VMA lock: the era-specific half of include/linux/mmap_lock.h
 * and mm/mmap_lock.c. The era-neutral half (assertions, tracing, the write
 * mark's sequence, attach/detach bookkeeping) is in mmap_lock.ts and calls
 * these.
 */
export interface VmaLockOps {
  readonly era: Era;
  readonly name: string;
  /** The VMA's lock word, as lockdep and the quiescent check name it. */
  readonly lockWord: number;
  /** The lock word's value with no reader and no writer on an attached VMA. */
  readonly lockIdle: number;
  /** Does the VMA slab keep the lock word across reuse (SLAB_TYPESAFE_BY_RCU)? */
  readonly typesafeSlab: boolean;
  /** mmap_write_lock() opens an mm_lock_seq write section (E2+: mm_lock_seqcount_begin()). */
  readonly mmSeqcount: boolean;
  /** madvise(MADV_DONTNEED) of a range inside one VMA runs under its read lock (6.16's try_vma_read_lock; E3). */
  readonly madviseVmaLock: boolean;
  /** vma_lock_init() on a fresh allocation from vm_area_alloc(). */
  initLock(c: MmCtx, vma: number): void;
  /** vma_start_read(): VMA_READ_OK, VMA_READ_FAIL or VMA_READ_EAGAIN. */
  startRead(c: MmCtx, mm: number, vma: number): number;
  /** vma_start_read_locked(): the caller holds mmap_lock for read. */
  startReadLocked(c: MmCtx, mm: number, vma: number): boolean;
  /** vma_end_read(). */
  endRead(c: MmCtx, vma: number): void;
  /** The draining half of vma_start_write(): wait out readers, store `seq` in vm_lock_seq. */
  startWrite(c: MmCtx, mm: number, vma: number, seq: number): void;
  /** Is the VMA attached (in the tree)? */
  isAttached(c: MmCtx, vma: number): boolean;
  /** The store of vma_mark_attached(). */
  markAttached(c: MmCtx, vma: number): void;
  /** The era-specific part of vma_mark_detached() (the caller holds the write mark). */
  markDetached(c: MmCtx, mm: number, vma: number): void;
  /** lock_vma_under_rcu(): the VMA covering `addr`, read-locked, or 0. */
  lockVmaUnderRcu(c: MmCtx, mm: number, addr: number): number;
}

/** The current write-lock sequence of the mm (the value writers store in vm_lock_seq). */
export function mmLockSeq(c: MmCtx, mm: number): number {
  return Atomics.load(c.i32, mm + MM_LOCK_SEQ);
}
