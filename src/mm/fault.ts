import type { MmCtx } from './model.js';
import { spinLock, spinUnlock } from '../sync/spinlock.js';
import { LC_SLAB, LC_PTL } from '../sync/lockclass.js';
import { lockdepAssertHeld, AH_WP_CAN_REUSE } from '../sync/lockdep.js';
import { prepareToWaitEvent, waitEventSlice, wakeUpAll } from '../sync/completion.js';
import { T_KILL } from '../shm/layout.js';
import {
  lockVmaUnderRcu, vmaEndRead, mmapReadLockKillable, mmapReadTrylock, mmapReadUnlock, mmapWriteLockKillable,
  mmapWriteUnlock, mmapWriteDowngrade,
} from './mmap_lock.js';
import { findVma } from './tree.js';
import { pteAlloc, pteTable, ptep, pteLock, pteUnlock, pteFolio, mkPte } from './pgtable.js';
import {
  folioAlloc, folioGet, folioPut, folioAddNewAnonRmap, folioAddFileRmap, folioDupRmap, folioRemoveRmap,
  folioTrylock, folioUnlock, folioWaitLocked, anonVmaPrepare, isZeroFolio, folioTestFlag, folioSetFlag,
  folioClearFlag, folioRefCount,
} from './folio.js';
import { flushTlbMm } from './tlb.js';
import { expandDownwards } from './mmap.js';
import { Viol } from '../shm/kinds.js';
import { vmaAssertLocked } from './mmap_lock.js';
import {
  BUG1_B1_MAYBE_UNLOCK_MMAP, BUG1_B1_CALLER_END_READ, BUG1_B5C_USE_AFTER_RETRY, BUG1_B5_PREPARE_UNDER_VMA_LOCK,
  BUG1_B5A_ANON_CHECK_BEFORE_LOCK, BUG1_B6_COW_REUSE_SHARED,
} from '../shm/bugbits.js';
import { delayPoint, W_FAULT_TO_PTL, EV_FAULT, EV_FAULT_DONE } from './debug.js';
import {
  PT_PTL, VMA_START, VMA_END, VMA_FLAGS, VMA_ANON_VMA, VMA_FILE, VMA_PGOFF, VMA_MM, VMA_UFFD, VM_WRITE, VM_SHARED,
  VM_GROWSDOWN, VM_UFFD_MISSING, VM_UFFD_WP, PTE_PRESENT, PTE_WRITE, PTE_SWAP, PTE_SWP_EXCLUSIVE, PTE_MARKER,
  PTE_UFFD_WP, PTE_DIRTY, PTE_PFN_SHIFT, F_CONTENT, F_CONTENT2, F_FLAGS, F_SWAPCOUNT, F_INDEX, F_MAPPING,
  F_ANON_VMA, PG_ANON_EXCLUSIVE, PG_SWAPCACHE, PG_DIRTY, PG_ANON, MM_UFFD_WQ, MM_UFFD_PENDING, FILE_LOCK,
  FILE_PAGES, MC_FAULTS, MC_VMA_LOCK_SUCCESS, MC_VMA_LOCK_RETRY, MC_MMAP_FAULTS, MC_MMAP_RETRY, MC_SIGSEGV,
  MC_ANON_FAULT, MC_WP_REUSE, MC_WP_COPY, MC_SWAPIN, MC_UFFD_WAIT, MC_ENOMEM, MC_IO_THROTTLE,
} from './layout.js';

// vm_fault_t bits (include/linux/mm_types.h).
export const VM_FAULT_OOM = 0x000001;
export const VM_FAULT_SIGBUS = 0x000002;
export const VM_FAULT_MAJOR = 0x000004;
export const VM_FAULT_SIGSEGV = 0x000040;
export const VM_FAULT_NOPAGE = 0x000100;
export const VM_FAULT_RETRY = 0x000400;
export const VM_FAULT_COMPLETED = 0x004000;
export const VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV;

// enum fault_flag.
export const FAULT_FLAG_WRITE = 1 << 0;
export const FAULT_FLAG_MKWRITE = 1 << 1;
export const FAULT_FLAG_ALLOW_RETRY = 1 << 2;
export const FAULT_FLAG_RETRY_NOWAIT = 1 << 3;
export const FAULT_FLAG_KILLABLE = 1 << 4;
export const FAULT_FLAG_TRIED = 1 << 5;
export const FAULT_FLAG_USER = 1 << 6;
export const FAULT_FLAG_REMOTE = 1 << 7;
export const FAULT_FLAG_INTERRUPTIBLE = 1 << 9;
export const FAULT_FLAG_UNSHARE = 1 << 10;
export const FAULT_FLAG_VMA_LOCK = 1 << 12;
export const FAULT_FLAG_DEFAULT = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | FAULT_FLAG_INTERRUPTIBLE;

/**
 * struct vm_fault, one per thread (no allocation per fault). Fields are set
 * by handleMmFault and read by the handlers.
 */
export class Vmf {
  mm = 0;
  vma = 0;
  addr = 0;
  flags = 0;
  table = 0;
  origPte = 0;
}

const vmfs = new WeakMap<MmCtx, Vmf>();
// A worker has one MmCtx: remember it so a fault does no map lookup.
let lastCtx: MmCtx | null = null;
let lastVmf: Vmf = new Vmf();
export function vmfOf(c: MmCtx): Vmf {
  if (c === lastCtx) return lastVmf;
  let v = vmfs.get(c);
  if (!v) {
    v = new Vmf();
    vmfs.set(c, v);
  }
  lastCtx = c;
  lastVmf = v;
  return v;
}

/**
 * release_fault_lock() (6.6+): whoever returns RETRY or COMPLETED has already
 * released the fault lock it held: the VMA lock under FAULT_FLAG_VMA_LOCK,
 * else mmap_lock. After this the VMA pointer is dangling.
 */
export function releaseFaultLock(c: MmCtx, vmf: Vmf): void {
  if ((vmf.flags & FAULT_FLAG_VMA_LOCK) !== 0) vmaEndRead(c, vmf.vma);
  else mmapReadUnlock(c, vmf.mm);
}

/** fault_flag_allow_retry_first(). */
function allowRetryFirst(flags: number): boolean {
  return (flags & FAULT_FLAG_ALLOW_RETRY) !== 0 && (flags & FAULT_FLAG_TRIED) === 0;
}

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
  const vmm = Atomics.load(c.i32, vma + VMA_MM) - 1;
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
  if (Atomics.load(c.i32, p) === pte && write) Atomics.store(c.i32, p, pte | PTE_DIRTY);
  pteUnlock(c, table);
  return 0;
}

/**
 * vmf_anon_prepare() (6.10+): under the VMA lock only mmap_read_trylock is
 * allowed; if it fails, release the VMA lock and RETRY under mmap_lock.
 */
export function vmfAnonPrepare(c: MmCtx, vmf: Vmf): number {
  const vma = vmf.vma;
  if (c.i32[vma + VMA_ANON_VMA] !== 0) return 0;
  let underVmaLock = (vmf.flags & FAULT_FLAG_VMA_LOCK) !== 0;
  if (underVmaLock && (c.t.bugs1 & (BUG1_B5_PREPARE_UNDER_VMA_LOCK | BUG1_B5A_ANON_CHECK_BEFORE_LOCK)) !== 0) {
    underVmaLock = false; // bug: prepare under the VMA lock alone (6.4 trusted its early check)
  } else if (underVmaLock && !mmapReadTrylock(c, vmf.mm)) {
    vmaEndRead(c, vma);
    return VM_FAULT_RETRY;
  }
  const ok = anonVmaPrepare(c, vmf.mm, vma);
  if (underVmaLock) mmapReadUnlock(c, vmf.mm);
  return ok ? 0 : VM_FAULT_OOM;
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
    if (Atomics.load(i32, p) === vmf.origPte) Atomics.store(i32, p, mkPte(c.zeroFolio(), 0));
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
  pteLock(c, vmf.table);
  if (Atomics.load(i32, p) !== vmf.origPte) {
    pteUnlock(c, vmf.table);
    folioPut(c, folio);
    return 0;
  }
  if (uffdMissing) {
    pteUnlock(c, vmf.table);
    folioPut(c, folio);
    return handleUserfault(c, vmf, VM_UFFD_MISSING);
  }
  folioAddNewAnonRmap(c, folio, vma);
  i32[folio + F_INDEX] = vmf.addr;
  const w = (i32[vma + VMA_FLAGS] & VM_WRITE) !== 0 ? PTE_WRITE | PTE_DIRTY : 0;
  Atomics.store(i32, p, mkPte(folio, w));
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
  pteLock(c, vmf.table);
  if (Atomics.load(i32, p) !== vmf.origPte) {
    pteUnlock(c, vmf.table);
    folioPut(c, folio);
    return 0;
  }
  folioAddFileRmap(c, folio);
  Atomics.store(i32, p, mkPte(folio, write ? PTE_WRITE | PTE_DIRTY : 0)); // the PTE keeps our reference
  pteUnlock(c, vmf.table);
  if (write) return faultDirtySharedPage(c, vmf, folio);
  return 0;
}

/**
 * maybe_unlock_mmap_for_io() (mm/internal.h, after the B1 fix): drop the fault
 * lock before waiting on I/O if a retry is allowed. Returns true if dropped.
 */
export function maybeUnlockMmapForIo(c: MmCtx, vmf: Vmf): boolean {
  if (!allowRetryFirst(vmf.flags) || (vmf.flags & FAULT_FLAG_RETRY_NOWAIT) !== 0) return false;
  // B1: before the fix this dropped mmap_lock whatever the fault held.
  if ((c.t.bugs1 & BUG1_B1_MAYBE_UNLOCK_MMAP) !== 0) mmapReadUnlock(c, vmf.mm);
  else releaseFaultLock(c, vmf);
  return true;
}

/** hugetlb_vma_unlock_read(): touches the VMA, so it asserts the VMA is still locked. */
function hugetlbVmaUnlockRead(c: MmCtx, vmf: Vmf): void {
  vmaAssertLocked(c, vmf.mm, vmf.vma);
}

/**
 * fault_dirty_shared_page(): mark the folio dirty; if it was clean, drop the
 * fault lock for balance_dirty_pages and report COMPLETED.
 */
export function faultDirtySharedPage(c: MmCtx, vmf: Vmf, folio: number): number {
  const was = Atomics.or(c.i32, folio + F_FLAGS, PG_DIRTY);
  if ((was & PG_DIRTY) !== 0) return 0;
  if (!maybeUnlockMmapForIo(c, vmf)) return 0;
  c.t.count(MC_IO_THROTTLE);
  // balance_dirty_pages_ratelimited(): the writer is throttled without locks.
  for (let k = 0; k < 64; k++) Atomics.load(c.i32, folio + F_FLAGS);
  // Writeback cleans the folio again, so later first-writes throttle too.
  Atomics.and(c.i32, folio + F_FLAGS, ~PG_DIRTY);
  return VM_FAULT_COMPLETED;
}

/**
 * do_wp_page(): write to a read-only present PTE. Shared mappings become
 * writable (wp_page_shared); an exclusive anon folio is reused; a folio we
 * are the only user of is made exclusive and reused
 * (wp_can_reuse_anon_folio); anything else is copied (wp_page_copy).
 */
export function doWpPage(c: MmCtx, vmf: Vmf): number {
  const i32 = c.i32;
  const vma = vmf.vma;
  const pte = vmf.origPte;
  const folio = pteFolio(pte);
  const p = ptep(vmf.table, vmf.addr);
  const unshare = (vmf.flags & FAULT_FLAG_UNSHARE) !== 0;
  if ((i32[vma + VMA_FLAGS] & VM_SHARED) !== 0 && !isZeroFolio(c, folio)) {
    // wp_page_shared()
    folioGet(c, folio);
    pteLock(c, vmf.table);
    if (Atomics.load(i32, p) !== pte) {
      pteUnlock(c, vmf.table);
      folioPut(c, folio);
      return 0;
    }
    Atomics.store(i32, p, pte | PTE_WRITE | PTE_DIRTY);
    pteUnlock(c, vmf.table);
    const ret = faultDirtySharedPage(c, vmf, folio);
    folioPut(c, folio);
    return ret;
  }
  if (!isZeroFolio(c, folio) && folioTestFlag(c, folio, PG_ANON)) {
    pteLock(c, vmf.table);
    if (Atomics.load(i32, p) !== pte) {
      pteUnlock(c, vmf.table);
      return 0;
    }
    const reuseAny = (c.t.bugs1 & BUG1_B6_COW_REUSE_SHARED) !== 0; // bug: pre-5.19 reuse without exclusivity
    if (reuseAny || folioTestFlag(c, folio, PG_ANON_EXCLUSIVE) || wpCanReuseAnonFolio(c, folio, vma, vmf.table)) {
      // wp_page_reuse()
      if (!unshare) Atomics.store(i32, p, pte | PTE_WRITE | PTE_DIRTY);
      pteUnlock(c, vmf.table);
      c.t.count(MC_WP_REUSE);
      return 0;
    }
    pteUnlock(c, vmf.table);
  }
  return wpPageCopy(c, vmf);
}

/**
 * wp_can_reuse_anon_folio(): no other reference (allowing for the swap
 * cache), the folio lock can be taken, re-check; then it becomes exclusive
 * (folio_move_anon_rmap). Asserts the caller holds the PTE lock of `table`.
 */
function wpCanReuseAnonFolio(c: MmCtx, folio: number, vma: number, table: number): boolean {
  lockdepAssertHeld(c.t, table + PT_PTL, LC_PTL, AH_WP_CAN_REUSE);
  const swapcache = folioTestFlag(c, folio, PG_SWAPCACHE) ? 1 : 0;
  if (folioRefCount(c, folio) > 1 + swapcache) return false;
  if (!folioTrylock(c, folio)) return false;
  const ok = folioRefCount(c, folio) <= 1 + swapcache;
  if (ok) {
    c.i32[folio + F_ANON_VMA] = c.i32[vma + VMA_ANON_VMA];
    folioSetFlag(c, folio, PG_ANON_EXCLUSIVE);
  }
  folioUnlock(c, folio);
  return ok;
}

/** wp_page_copy(): copy-on-write into a fresh exclusive folio. */
export function wpPageCopy(c: MmCtx, vmf: Vmf): number {
  const i32 = c.i32;
  const ret = vmfAnonPrepare(c, vmf);
  if (ret !== 0) return ret;
  const old = pteFolio(vmf.origPte);
  const folio = folioAlloc(c, vmf.mm);
  if (folio === 0) {
    c.t.count(MC_ENOMEM);
    return VM_FAULT_OOM;
  }
  Atomics.store(i32, folio + F_CONTENT, Atomics.load(i32, old + F_CONTENT));
  Atomics.store(i32, folio + F_CONTENT2, Atomics.load(i32, old + F_CONTENT2));
  const p = ptep(vmf.table, vmf.addr);
  pteLock(c, vmf.table);
  if (Atomics.load(i32, p) !== vmf.origPte) {
    pteUnlock(c, vmf.table);
    folioPut(c, folio);
    return 0;
  }
  // The copy must be of the content at the time the PTE was still the same.
  Atomics.store(i32, folio + F_CONTENT, Atomics.load(i32, old + F_CONTENT));
  Atomics.store(i32, folio + F_CONTENT2, Atomics.load(i32, old + F_CONTENT2));
  folioAddNewAnonRmap(c, folio, vmf.vma);
  i32[folio + F_INDEX] = vmf.addr;
  const unshare = (vmf.flags & FAULT_FLAG_UNSHARE) !== 0;
  const w = !unshare && (i32[vmf.vma + VMA_FLAGS] & VM_WRITE) !== 0 ? PTE_WRITE | PTE_DIRTY : 0;
  Atomics.store(i32, p, mkPte(folio, w));
  flushTlbMm(c, vmf.mm);
  folioRemoveRmap(c, old);
  pteUnlock(c, vmf.table);
  folioPut(c, old);
  c.t.count(MC_WP_COPY);
  return 0;
}

/**
 * folio_lock_or_retry() (6.6+, takes the vmf): if the folio is locked and
 * retry is allowed, release the fault lock, wait for the unlock, RETRY.
 */
export function folioLockOrRetry(c: MmCtx, vmf: Vmf, folio: number): number {
  if (folioTrylock(c, folio)) return 0;
  if ((vmf.flags & FAULT_FLAG_ALLOW_RETRY) === 0) {
    while (!folioTrylock(c, folio)) folioWaitLocked(c, folio);
    return 0;
  }
  if ((vmf.flags & FAULT_FLAG_RETRY_NOWAIT) !== 0) return VM_FAULT_RETRY;
  releaseFaultLock(c, vmf);
  folioWaitLocked(c, folio);
  return VM_FAULT_RETRY;
}

/**
 * do_swap_page() (6.6+, under the VMA lock): the folio is still in the swap
 * cache; lock it (or RETRY), re-check the PTE, map it back, exclusive if the
 * swap entry says so, and drop the swap slot.
 */
export function doSwapPage(c: MmCtx, vmf: Vmf): number {
  const i32 = c.i32;
  const pte = vmf.origPte;
  if ((pte & PTE_SWAP) === 0) return VM_FAULT_SIGBUS;
  const folio = (pte >>> PTE_PFN_SHIFT) - 1;
  const p = ptep(vmf.table, vmf.addr);
  // lookup_swap_cache(): take a reference while the entry is still there.
  pteLock(c, vmf.table);
  if (Atomics.load(i32, p) !== pte) {
    pteUnlock(c, vmf.table);
    return 0;
  }
  folioGet(c, folio);
  pteUnlock(c, vmf.table);
  const r = folioLockOrRetry(c, vmf, folio);
  if (r !== 0) {
    folioPut(c, folio);
    return r | VM_FAULT_MAJOR;
  }
  pteLock(c, vmf.table);
  if (Atomics.load(i32, p) !== pte) {
    pteUnlock(c, vmf.table);
    folioUnlock(c, folio);
    folioPut(c, folio);
    return 0;
  }
  const exclusive = (pte & PTE_SWP_EXCLUSIVE) !== 0;
  const write = (vmf.flags & FAULT_FLAG_WRITE) !== 0 && exclusive && (i32[vmf.vma + VMA_FLAGS] & VM_WRITE) !== 0;
  if (exclusive) folioSetFlag(c, folio, PG_ANON_EXCLUSIVE);
  folioDupRmap(c, folio); // the reference we took becomes the mapping's
  Atomics.store(i32, p, mkPte(folio, write ? PTE_WRITE | PTE_DIRTY : 0));
  // swap_free(): one swap PTE fewer; the last one frees the swap cache's reference.
  const left = Atomics.sub(i32, folio + F_SWAPCOUNT, 1) - 1;
  let dropCache = false;
  if (left <= 0 && folioTestFlag(c, folio, PG_SWAPCACHE)) {
    folioClearFlag(c, folio, PG_SWAPCACHE);
    dropCache = true;
  }
  pteUnlock(c, vmf.table);
  folioUnlock(c, folio);
  if (dropCache) folioPut(c, folio);
  c.t.count(MC_SWAPIN);
  return 0;
}

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
    waitEventSlice(c.t, wq, snap, c.t.now() + 50);
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

/** Read the PTE for addr without locks (0 if no table). */
export function pteGet(c: MmCtx, mm: number, addr: number): number {
  const table = pteTable(c, mm, addr);
  return table === 0 ? 0 : Atomics.load(c.i32, ptep(table, addr));
}

