import type { MmCtx } from './model.js';
import { spinLock, spinUnlock } from '../sync/spinlock.js';
import { LC_SLAB } from '../sync/lockclass.js';
import { T_KILL } from '../shm/layout.js';
import {
  lockVmaUnderRcu, vmaEndRead, mmapReadLockKillable, mmapReadTrylock, mmapReadUnlock, mmapWriteLockKillable,
  mmapWriteUnlock, mmapWriteDowngrade, vmaAssertLocked,
} from './mmap_lock.js';
import { findVma } from './tree.js';
import { pteAlloc, pteTable, ptep, pteLock, pteUnlock, mkPte, setPte } from './pgtable.js';
import { folioAlloc, folioGet, folioPut, folioAddNewAnonRmap, folioAddFileRmap } from './folio.js';
import { expandDownwards } from './mmap.js';
import { kasanCheckMm, kasanCheck, KS_FAULT_MM, KS_HUGETLB_VMA_UNLOCK } from './kasan.js';
import { Viol } from '../shm/kinds.js';
import {
  Vmf, vmfOf, vmfAnonPrepare, VM_FAULT_OOM, VM_FAULT_SIGBUS, VM_FAULT_MAJOR, VM_FAULT_SIGSEGV, VM_FAULT_RETRY,
  VM_FAULT_COMPLETED, FAULT_FLAG_WRITE, FAULT_FLAG_USER, FAULT_FLAG_VMA_LOCK, FAULT_FLAG_DEFAULT, FAULT_FLAG_TRIED,
  FAULT_FLAG_UNSHARE, vmfPteLockSame,
} from './vmf.js';
import { doWpPage, faultDirtySharedPage } from './wp.js';
import { doSwapPage } from './swap.js';
import { handleUserfault } from './userfaultfd.js';
import { BUG1_B1_CALLER_END_READ, BUG1_B5C_USE_AFTER_RETRY } from '../shm/bugbits.js';
import { delayPoint, W_FAULT_TO_PTL, EV_FAULT, EV_FAULT_DONE } from './debug.js';
import {
  VMA_START, VMA_END, VMA_FLAGS, VMA_FILE, VMA_PGOFF, VMA_MM, VMA_UFFD, VM_WRITE, VM_SHARED, VM_GROWSDOWN,
  VM_UFFD_MISSING, VM_UFFD_WP, PTE_PRESENT, PTE_WRITE, PTE_MARKER, PTE_UFFD_WP, PTE_DIRTY, F_INDEX, F_MAPPING,
  FILE_LOCK, FILE_PAGES, MC_FAULTS, MC_VMA_LOCK_SUCCESS, MC_VMA_LOCK_RETRY, MC_MMAP_FAULTS, MC_MMAP_RETRY, MC_SIGSEGV,
  MC_ANON_FAULT, MC_ENOMEM,
} from './layout.js';

/** The fault's address-space is going away or the task was killed. */
function fatalSignalPending(c: MmCtx): boolean {
  return c.i32[c.t.base + T_KILL] !== 0 || c.t.stopRequested();
}

function accessError(c: MmCtx, vma: number, write: boolean): boolean {
  return write && (c.i32[vma + VMA_FLAGS] & VM_WRITE) === 0;
}

/**
 * do_user_addr_fault() (arch/x86/mm/fault.c, 6.6+ shape): try the per-VMA
 * lock once, fall back to lock_mm_and_find_vma() + mmap_lock, follow the
 * RETRY/COMPLETED contract. Returns the final vm_fault_t.
 */
export function doUserAddrFault(c: MmCtx, mm: number, addr: number, write: boolean): number {
  const t = c.t;
  t.count(MC_FAULTS);
  if (t.tracing) t.trace(EV_FAULT, mm, addr, write ? 1 : 0, c.mmSlot(mm));
  kasanCheckMm(c, mm, KS_FAULT_MM);
  let flags = FAULT_FLAG_DEFAULT | FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0);
  let fault = 0;
  if (c.perVma) {
    const vma = lockVmaUnderRcu(c, mm, addr);
    if (vma !== 0) {
      if (accessError(c, vma, write)) {
        vmaEndRead(c, vma);
        t.count(MC_VMA_LOCK_SUCCESS);
        t.count(MC_SIGSEGV);
        return VM_FAULT_SIGSEGV;
      }
      fault = handleMmFault(c, mm, vma, addr, flags | FAULT_FLAG_VMA_LOCK);
      // Since 6.6 the callee already released the VMA lock on RETRY/COMPLETED.
      if ((fault & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)) === 0 || (t.bugs1 & BUG1_B1_CALLER_END_READ) !== 0) vmaEndRead(c, vma);
      if (t.tracing) t.trace(EV_FAULT_DONE, vma, addr, fault, 1);
      if ((fault & VM_FAULT_RETRY) === 0) {
        t.count(MC_VMA_LOCK_SUCCESS);
        return fault;
      }
      t.count(MC_VMA_LOCK_RETRY);
      if ((fault & VM_FAULT_MAJOR) !== 0) flags |= FAULT_FLAG_TRIED;
      if (fatalSignalPending(c)) return fault;
    }
  }
  for (;;) {
    const vma = lockMmAndFindVma(c, mm, addr);
    if (vma === 0) {
      t.count(MC_SIGSEGV);
      return VM_FAULT_SIGSEGV;
    }
    if (accessError(c, vma, write)) {
      mmapReadUnlock(c, mm);
      t.count(MC_SIGSEGV);
      return VM_FAULT_SIGSEGV;
    }
    fault = handleMmFault(c, mm, vma, addr, flags);
    if ((fault & VM_FAULT_COMPLETED) !== 0) {
      t.count(MC_MMAP_FAULTS);
      return fault;
    }
    if ((fault & VM_FAULT_RETRY) !== 0) {
      t.count(MC_MMAP_RETRY);
      if (fatalSignalPending(c)) return fault;
      flags |= FAULT_FLAG_TRIED;
      continue;
    }
    mmapReadUnlock(c, mm);
    t.count(MC_MMAP_FAULTS);
    return fault;
  }
}

/**
 * lock_mm_and_find_vma() (mm/memory.c, 6.5+): mmap_read_trylock, else the
 * killable lock; find_vma; a VM_GROWSDOWN neighbour is expanded under the
 * write lock (there is no atomic upgrade), then downgraded. Returns the VMA
 * with mmap_lock held for read, or 0 with no lock held.
 */
export function lockMmAndFindVma(c: MmCtx, mm: number, addr: number): number {
  const i32 = c.i32;
  if (!mmapReadTrylock(c, mm)) {
    if (mmapReadLockKillable(c, mm) !== 0) return 0;
  }
  let vma = findVma(c, mm, addr);
  if (vma !== 0 && i32[vma + VMA_START] <= addr) return vma;
  if (vma === 0 || (i32[vma + VMA_FLAGS] & VM_GROWSDOWN) === 0) {
    mmapReadUnlock(c, mm);
    return 0;
  }
  mmapReadUnlock(c, mm);
  if (mmapWriteLockKillable(c, mm) !== 0) return 0;
  vma = findVma(c, mm, addr);
  if (vma === 0) {
    mmapWriteUnlock(c, mm);
    return 0;
  }
  if (i32[vma + VMA_START] > addr) {
    if ((i32[vma + VMA_FLAGS] & VM_GROWSDOWN) === 0 || !expandDownwards(c, mm, vma, addr)) {
      mmapWriteUnlock(c, mm);
      return 0;
    }
  }
  mmapWriteDowngrade(c, mm);
  return vma;
}

/**
 * handle_mm_fault() → __handle_mm_fault() → handle_pte_fault(): allocate the
 * PTE table, read the PTE without its lock and dispatch.
 */
export function handleMmFault(c: MmCtx, mm: number, vma: number, addr: number, flags: number): number {
  const vmf = vmfOf(c);
  // Oracles on the fault's own view: the locked VMA is of this mm and covers addr.
  const vmm = c.i32[vma + VMA_MM] - 1; // set before the VMA was published; we hold its lock
  if (vmm !== mm) c.t.violation(Viol.VmaWrongMm, vma, vma, c.mmSlot(mm), vmm >= 0 ? c.mmSlot(vmm) : -1, 0);
  else if (addr < c.i32[vma + VMA_START] || addr >= c.i32[vma + VMA_END]) c.t.violation(Viol.FaultOutsideVma, vma, addr, c.i32[vma + VMA_START], c.i32[vma + VMA_END], 0);
  vmf.mm = mm;
  vmf.vma = vma;
  vmf.addr = addr;
  vmf.flags = flags;
  const table = pteAlloc(c, mm, addr);
  if (table === 0) {
    c.t.count(MC_ENOMEM);
    return VM_FAULT_OOM;
  }
  vmf.table = table;
  const pte = Atomics.load(c.i32, ptep(table, addr));
  vmf.origPte = pte;
  delayPoint(c, W_FAULT_TO_PTL);
  if (pte === 0 || (pte & PTE_MARKER) !== 0) {
    if (c.i32[vma + VMA_FILE] !== 0) return doFault(c, vmf);
    return doAnonymousPage(c, vmf);
  }
  if ((pte & PTE_PRESENT) === 0) return doSwapPage(c, vmf);
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  if (write && (pte & PTE_UFFD_WP) !== 0 && (c.i32[vma + VMA_UFFD] & VM_UFFD_WP) !== 0) {
    return handleUserfault(c, vmf, VM_UFFD_WP);
  }
  if ((write && (pte & PTE_WRITE) === 0) || (flags & FAULT_FLAG_UNSHARE) !== 0) return doWpPage(c, vmf);
  // Spurious fault: only the accessed/dirty bits need updating.
  pteLock(c, table);
  const p = ptep(table, addr);
  if (Atomics.load(c.i32, p) === pte && write) setPte(c, table, p, pte | PTE_DIRTY);
  pteUnlock(c, table);
  return 0;
}

/** do_anonymous_page(): zero page for reads, a fresh exclusive folio for writes. */
export function doAnonymousPage(c: MmCtx, vmf: Vmf): number {
  const i32 = c.i32;
  const vma = vmf.vma;
  const p = ptep(vmf.table, vmf.addr);
  const uffdMissing = (i32[vma + VMA_UFFD] & VM_UFFD_MISSING) !== 0;
  if ((vmf.flags & FAULT_FLAG_WRITE) === 0) {
    if (uffdMissing) return handleUserfault(c, vmf, VM_UFFD_MISSING);
    pteLock(c, vmf.table);
    if (Atomics.load(i32, p) === vmf.origPte) setPte(c, vmf.table, p, mkPte(c.zeroFolio(), 0));
    pteUnlock(c, vmf.table);
    return 0;
  }
  const ret = vmfAnonPrepare(c, vmf);
  if (ret !== 0) {
    // Bug (B5c): the caller still uses the VMA after vmf_anon_prepare() dropped its lock.
    if ((ret & VM_FAULT_RETRY) !== 0 && (c.t.bugs1 & BUG1_B5C_USE_AFTER_RETRY) !== 0) hugetlbVmaUnlockRead(c, vmf);
    return ret;
  }
  const folio = folioAlloc(c, vmf.mm);
  if (folio === 0) {
    c.t.count(MC_ENOMEM);
    return VM_FAULT_OOM;
  }
  if (!vmfPteLockSame(c, vmf)) {
    folioPut(c, folio);
    return 0;
  }
  if (uffdMissing) {
    pteUnlock(c, vmf.table);
    folioPut(c, folio);
    return handleUserfault(c, vmf, VM_UFFD_MISSING);
  }
  folioAddNewAnonRmap(c, folio, vma, vmf.addr);
  const w = (i32[vma + VMA_FLAGS] & VM_WRITE) !== 0 ? PTE_WRITE | PTE_DIRTY : 0;
  setPte(c, vmf.table, p, mkPte(folio, w));
  pteUnlock(c, vmf.table);
  c.t.count(MC_ANON_FAULT);
  return 0;
}

/** filemap_fault() for the shmem model: find or create the page-cache folio; returns it with a reference. */
function filemapFault(c: MmCtx, vmf: Vmf): number {
  const i32 = c.i32;
  const vma = vmf.vma;
  const file = c.file(i32[vma + VMA_FILE] - 1);
  const pgoff = i32[vma + VMA_PGOFF] + (vmf.addr - i32[vma + VMA_START]);
  if (pgoff < 0 || pgoff >= c.filePages) return 0;
  spinLock(c.t, file + FILE_LOCK, LC_SLAB);
  let f1 = i32[file + FILE_PAGES + pgoff];
  if (f1 === 0) {
    const f = folioAlloc(c, vmf.mm);
    if (f !== 0) {
      i32[f + F_MAPPING] = i32[vma + VMA_FILE];
      i32[f + F_INDEX] = pgoff;
      i32[file + FILE_PAGES + pgoff] = f + 1; // the page cache's reference
      f1 = f + 1;
    }
  }
  if (f1 !== 0) folioGet(c, f1 - 1);
  spinUnlock(c.t, file + FILE_LOCK, LC_SLAB);
  return f1 === 0 ? 0 : f1;
}

/**
 * do_fault() for shared file VMAs (do_read_fault / do_shared_fault): map the
 * page-cache folio; a write maps it writable and dirties it, which may drop
 * the fault lock for I/O throttling (fault_dirty_shared_page).
 */
export function doFault(c: MmCtx, vmf: Vmf): number {
  const i32 = c.i32;
  const f1 = filemapFault(c, vmf);
  if (f1 === 0) return VM_FAULT_SIGBUS;
  const folio = f1 - 1;
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0 && (i32[vmf.vma + VMA_FLAGS] & VM_SHARED) !== 0;
  const p = ptep(vmf.table, vmf.addr);
  if (!vmfPteLockSame(c, vmf)) {
    folioPut(c, folio);
    return 0;
  }
  folioAddFileRmap(c, folio);
  setPte(c, vmf.table, p, mkPte(folio, write ? PTE_WRITE | PTE_DIRTY : 0)); // the PTE keeps our reference
  pteUnlock(c, vmf.table);
  if (write) return faultDirtySharedPage(c, vmf, folio);
  return 0;
}

/**
 * hugetlb_vma_unlock_read(): reads vma->vm_flags and vm_private_data, so it
 * asserts the VMA is still locked; the read itself is KASAN-checked (a VMA
 * nothing pins may be freed, or queued for its RCU free, under it).
 */
function hugetlbVmaUnlockRead(c: MmCtx, vmf: Vmf): void {
  vmaAssertLocked(c, vmf.mm, vmf.vma);
  kasanCheck(c, vmf.vma, KS_HUGETLB_VMA_UNLOCK, false);
}

/** Read the PTE for addr without locks (0 if no table). */
export function pteGet(c: MmCtx, mm: number, addr: number): number {
  const table = pteTable(c, mm, addr);
  return table === 0 ? 0 : Atomics.load(c.i32, ptep(table, addr));
}

