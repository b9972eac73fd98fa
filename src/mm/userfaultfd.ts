import type { MmCtx } from './model.js';
import { prepareToWaitEvent, waitEventSlice, wakeUpAll } from '../sync/completion.js';
import { ptep } from './pgtable.js';
import { VM_UFFD_MISSING, PTE_PRESENT, PTE_UFFD_WP, MM_UFFD_WQ, MM_UFFD_PENDING, MC_UFFD_WAIT } from './layout.js';
import { Vmf, releaseFaultLock, VM_FAULT_RETRY, FAULT_FLAG_RETRY_NOWAIT } from './vmf.js';

/*
 * The userfaultfd side a faulting thread meets (fs/userfaultfd.c
 * handle_userfault, userfaultfd_wake, userfaultfd_register). UFFDIO_COPY,
 * which resolves the fault, is in uffd.ts (mm/userfaultfd.c).
 */

/**
 * handle_userfault() (6.6+): queue the fault for the manager, re-check, then
 * release_fault_lock() and wait; always returns RETRY (the manager normally
 * resolved it with UFFDIO_COPY meanwhile).
 */
export function handleUserfault(c: MmCtx, vmf: Vmf, reason: number): number {
  const i32 = c.i32;
  const mm = vmf.mm;
  if ((vmf.flags & FAULT_FLAG_RETRY_NOWAIT) !== 0) return VM_FAULT_RETRY;
  const wq = mm + MM_UFFD_WQ;
  const snap = prepareToWaitEvent(i32, wq);
  Atomics.add(i32, mm + MM_UFFD_PENDING, 1);
  // userfaultfd_must_wait(): still missing (or still write-protected)?
  const cur = Atomics.load(i32, ptep(vmf.table, vmf.addr));
  const mustWait = reason === VM_UFFD_MISSING ? (cur & PTE_PRESENT) === 0 : (cur & PTE_UFFD_WP) !== 0;
  releaseFaultLock(c, vmf);
  if (mustWait) {
    c.t.count(MC_UFFD_WAIT);
    // TASK_KILLABLE until userfaultfd_wake(); the harness kicks it when it pauses the world, so the faulter parks.
    waitEventSlice(c.t, wq, snap, Infinity);
  }
  Atomics.sub(i32, mm + MM_UFFD_PENDING, 1);
  // No lock is held here: a stop-the-world check may park this faulter.
  c.t.parkIfPaused();
  return VM_FAULT_RETRY;
}

/** Wake every faulter waiting on the mm's userfaultfd (UFFDIO_WAKE / end of UFFDIO_COPY). */
export function userfaultfdWake(c: MmCtx, mm: number): void {
  wakeUpAll(c.i32, mm + MM_UFFD_WQ);
}
