import { snapStart, snapVma, findVma, mtSnapshot, snapFind } from './tree.js';
import type { MmCtx } from './model.js';
import { T_PF_DISABLE } from '../shm/layout.js';
import {
  lockVmaUnderRcu, vmaEndRead, mmapReadLock, mmapReadUnlock, mmapWriteLockKillable, mmapWriteUnlock, vmaStartWrite,
  vmaStartReadLocked, vmaSetField,
} from './mmap_lock.js';
import { pteAlloc, ptep, pteLock, pteUnlock, mkPte, pteTable, pteFolio, setPte } from './pgtable.js';
import { folioAlloc, folioPut, folioAddNewAnonRmap } from './folio.js';
import { anonVmaPrepare } from './rmap.js';
import { mmuEnter, mmuExit } from './tlb.js';
import { userfaultfdWake } from './userfaultfd.js';
import { userAccess, ACCESS_SEGV } from './access.js';
import {
  VMA_START, VMA_END, VMA_UFFD, VMA_FLAGS, VMA_ANON_VMA, VMA_FILE, VM_SHARED, VM_WRITE, PTE_PRESENT, PTE_MARKER,
  PTE_WRITE, PTE_DIRTY, F_CONTENT,
} from './layout.js';
import { EINVAL, ENOMEM, EEXIST, EFAULT, EINTR, EAGAIN } from '../errno.js';
import { BUG1_B7_COPY_FAULTS_ENABLED } from '../shm/bugbits.js';
import { delayPoint, W_UFFD_COPY, EV_UFFD_COPY } from './debug.js';

/*
 * userfaultfd: registration (which write-locks each VMA through its vm_flags
 * update) and UFFDIO_COPY (mm/userfaultfd.c mfill_atomic, 6.8+ form: the
 * destination VMA is locked with the per-VMA lock, falling back to mmap_lock
 * for a private VMA without anon_vma).
 */
/**
 * userfaultfd_register() for whole VMAs in [start, end): write-lock each and
 * set the registered modes. Returns 0 or -errno.
 */
export function uffdRegister(c: MmCtx, mm: number, start: number, len: number, modes: number): number {
  if (mmapWriteLockKillable(c, mm) !== 0) return EINTR;
  try {
    const s = c.scratch;
    const n = mtSnapshot(c, mm, s);
    let any = false;
    for (let k = snapFind(s, n, start); k < n && snapStart(s, k) < start + len; k++) {
      const vma = snapVma(s, k);
      vmaStartWrite(c, mm, vma);
      vmaSetField(c, mm, vma, VMA_UFFD, modes);
      any = true;
    }
    return any ? 0 : EINVAL;
  } finally {
    mmapWriteUnlock(c, mm);
  }
}

/**
 * copy_from_user() with page faults disabled: a lockless MMU read of the
 * source; -EFAULT if it would have to fault.
 */
export function copyFromUserNofault(c: MmCtx, srcMm: number, srcAddr: number): number {
  const i32 = c.i32;
  mmuEnter(c, srcMm);
  let v = EFAULT;
  const table = pteTable(c, srcMm, srcAddr);
  if (table !== 0) {
    const pte = Atomics.load(i32, ptep(table, srcAddr));
    if ((pte & PTE_PRESENT) !== 0) v = Atomics.load(i32, pteFolio(pte) + F_CONTENT) & 0x7fffffff;
  }
  mmuExit(c);
  return v;
}

/**
 * uffd_lock_vma() (6.8+): the per-VMA lock, or for a private VMA without an
 * anon_vma: mmap_read_lock + anon_vma_prepare + vma_start_read_locked.
 * Returns the read-locked VMA or 0.
 */
function uffdLockVma(c: MmCtx, mm: number, addr: number): number {
  const i32 = c.i32;
  const vma = c.perVma ? lockVmaUnderRcu(c, mm, addr) : 0;
  if (vma !== 0) {
    if ((i32[vma + VMA_FLAGS] & VM_SHARED) !== 0 || i32[vma + VMA_ANON_VMA] !== 0) return vma;
    vmaEndRead(c, vma);
  }
  mmapReadLock(c, mm);
  let v = findVma(c, mm, addr);
  if (v !== 0 && i32[v + VMA_START] > addr) v = 0;
  if (v !== 0 && !anonVmaPrepare(c, mm, v)) v = 0;
  if (v !== 0 && !vmaStartReadLocked(c, mm, v)) v = 0;
  mmapReadUnlock(c, mm);
  return v;
}

/**
 * UFFDIO_COPY of one page: mfill_atomic_pte() with the source read by
 * copy_from_user() under pagefault_disable(); on -EFAULT, drop the locks,
 * copy with faults enabled, re-lock and re-validate. Wakes the faulters.
 * Returns 0 or -errno.
 */
export function uffdioCopy(c: MmCtx, mm: number, dst: number, srcMm: number, srcAddr: number): number {
  const i32 = c.i32;
  let vma = uffdLockVma(c, mm, dst);
  if (vma === 0) return EFAULT;
  let value = -1;
  let folio = 0;
  try {
    for (let attempt = 0; ; attempt++) {
      if (dst < i32[vma + VMA_START] || dst >= i32[vma + VMA_END] || i32[vma + VMA_UFFD] === 0 || i32[vma + VMA_FILE] !== 0) return EINVAL;
      if (folio === 0) {
        folio = folioAlloc(c, mm);
        if (folio === 0) return ENOMEM;
      }
      if (value < 0 && (c.t.bugs1 & BUG1_B7_COPY_FAULTS_ENABLED) !== 0) {
        // Bug (B7): copy_from_user() with page faults enabled, under the lock.
        const v = userAccess(c, srcMm, srcAddr, false, 0);
        value = v < 0 ? EFAULT : v;
      } else if (value < 0) {
        const b = c.t.base + T_PF_DISABLE;
        i32[b]++; // pagefault_disable()
        value = copyFromUserNofault(c, srcMm, srcAddr);
        i32[b]--;
      }
      if (value < 0) {
        if (attempt > 0) return EFAULT;
        // Drop the lock, copy with faults enabled, re-lock, re-validate.
        vmaEndRead(c, vma);
        vma = 0;
        const v = userAccess(c, srcMm, srcAddr, false, 0);
        if (v === ACCESS_SEGV || v < 0) return EFAULT;
        value = v;
        vma = uffdLockVma(c, mm, dst);
        if (vma === 0) return EAGAIN;
        continue;
      }
      break;
    }
    Atomics.store(i32, folio + F_CONTENT, value);
    delayPoint(c, W_UFFD_COPY);
    const table = pteAlloc(c, mm, dst);
    if (table === 0) return ENOMEM;
    const p = ptep(table, dst);
    pteLock(c, table);
    const cur = Atomics.load(i32, p);
    if (cur !== 0 && (cur & PTE_MARKER) === 0) {
      pteUnlock(c, table);
      return EEXIST;
    }
    folioAddNewAnonRmap(c, folio, vma, dst);
    setPte(c, table, p, mkPte(folio, (i32[vma + VMA_FLAGS] & VM_WRITE) !== 0 ? PTE_WRITE | PTE_DIRTY : 0));
    folio = 0; // now owned by the page table
    pteUnlock(c, table);
    if (c.t.tracing) c.t.trace(EV_UFFD_COPY, mm, dst, 0, 0);
    return 0;
  } finally {
    if (folio !== 0) folioPut(c, folio);
    if (vma !== 0) vmaEndRead(c, vma);
    userfaultfdWake(c, mm);
  }
}
