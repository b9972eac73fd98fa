import type { MmCtx } from './model.js';
import { T_CTR } from '../shm/layout.js';
import { MM_PGD_BASE, PTE_SHIFT } from './layout.js';
import { checkAbort } from '../sync/sched.js';
import { ctlWait } from '../sync/ctl.js';

/*
 * The "MMU": userspace loads and stores translate through the page tables
 * without any lock, and a TLB shootdown (flush_tlb_range, an IPI to every
 * CPU) guarantees that once a PTE change is flushed no CPU still uses the old
 * translation. GUP-fast relies on the same IPI by walking with interrupts
 * disabled. The model: a thread marks T_MMU (the mm it is translating for)
 * while it walks and accesses; flushTlbMm() waits until no other thread is
 * inside a walk of that mm. Sequentially consistent Atomics give the
 * store-then-load ordering on both sides.
 *
 * Each thread also keeps a small TLB of its own (MmCtx.tlb): a translation
 * it used stays there and is used again without a walk until a flush of
 * its range bumps the generation of its PTE table's range (x86's tlb_gen,
 * kept per PTE table here, as a ranged flush invalidates only its pages), so
 * a PTE change that is not flushed goes on being seen through the old
 * translation, as on hardware.
 */

/** The TLB generation word of the PTE table covering `addr` (after the mm's top-level table). */
export function tlbGenWord(c: MmCtx, mm: number, addr: number): number {
  return mm + MM_PGD_BASE + (c.mmPages >> PTE_SHIFT) + (addr >> PTE_SHIFT);
}

/** Translations a thread's TLB holds (direct-mapped by page address and mm). */
export const TLB_ENTRIES = 64;
/** Words per entry: mm + 1, address, folio, writable, the PTE table's TLB generation at fill, folio generation at fill. */
export const TLB_WORDS = 6;
export const TLB_MM = 0;
export const TLB_ADDR = 1;
export const TLB_FOLIO = 2;
export const TLB_WRITE = 3;
export const TLB_GEN = 4;
export const TLB_FGEN = 5;

/** Per-thread word: mm + 1 while the thread is inside an MMU walk (T_CTR slot 31). */
export const T_MMU = T_CTR + 31;

/** local_irq_disable() for a walk of `mm`. */
export function mmuEnter(c: MmCtx, mm: number): void {
  Atomics.store(c.i32, c.t.base + T_MMU, mm + 1);
}

/** local_irq_enable(). */
export function mmuExit(c: MmCtx): void {
  Atomics.store(c.i32, c.t.base + T_MMU, 0);
}

/**
 * flush_tlb_mm_range() for the PTE table covering `addr`: after a PTE there
 * was changed, make every TLB's translations of that range stale and wait
 * until every walk of `mm` that might have read the old value has finished.
 */
export function flushTlbMm(c: MmCtx, mm: number, addr: number): void {
  const a = c.t.arena;
  const i32 = c.i32;
  const me = c.t.tid;
  // Every TLB's entries for the range, this thread's too, are stale from
  // here on; a walk that read the old PTE before this is waited for below.
  Atomics.add(i32, tlbGenWord(c, mm, addr), 1);
  for (let k = 0; k < a.nthreads; k++) {
    if (k === me) continue;
    const w = a.pt(k) + T_MMU;
    for (let spins = 0; Atomics.load(i32, w) === mm + 1; spins++) {
      if (c.t.ctl !== 0) ctlWait(c.t, w, mm + 1, Infinity);
      else if ((spins & 255) === 255) {
        checkAbort(c.t);
        Atomics.wait(i32, w, mm + 1, 0.05);
      }
    }
  }
}
