import type { MmCtx } from './model.js';
import { T_CTR } from '../shm/layout.js';
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
 */

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
 * flush_tlb_mm_range(): after a PTE was changed, wait until every walk of
 * `mm` that might have read the old value has finished.
 */
export function flushTlbMm(c: MmCtx, mm: number): void {
  const a = c.t.arena;
  const i32 = c.i32;
  const me = c.t.tid;
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
