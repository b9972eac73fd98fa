import { delayPoint, W_RETRY_UNLOCKED } from './debug.js';
import type { MmCtx } from './model.js';
import { pteLock, pteUnlock, ptep } from './pgtable.js';
import { vmaEndRead, mmapReadTrylock, mmapReadUnlock } from './mmap_lock.js';
import { folioTrylock, folioWaitLocked } from './folio.js';
import { anonVmaPrepare } from './rmap.js';
import { BUG1_B1_MAYBE_UNLOCK_MMAP, BUG1_B5_PREPARE_UNDER_VMA_LOCK, BUG1_B5A_ANON_CHECK_BEFORE_LOCK } from '../shm/bugbits.js';
import { VMA_ANON_VMA } from './layout.js';

/*
 * struct vm_fault and the fault-lock contract (include/linux/mm_types.h,
 * mm/internal.h, mm/memory.c, mm/filemap.c): who holds which lock while a
 * handler runs, and the helpers that drop it on RETRY or COMPLETED. Every
 * fault handler follows it; the B1/B5 entries break it here.
 */

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
export function allowRetryFirst(flags: number): boolean {
  return (flags & FAULT_FLAG_ALLOW_RETRY) !== 0 && (flags & FAULT_FLAG_TRIED) === 0;
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
    delayPoint(c, W_RETRY_UNLOCKED); // nothing holds the VMA now: a writer may detach and free it
    return VM_FAULT_RETRY;
  }
  const ok = anonVmaPrepare(c, vmf.mm, vma);
  if (underVmaLock) mmapReadUnlock(c, vmf.mm);
  return ok ? 0 : VM_FAULT_OOM;
}

/**
 * folio_lock_or_retry() (6.6+, takes the vmf): if the folio is locked and
 * retry is allowed, release the fault lock, wait for the unlock, RETRY.
 */
export function folioLockOrRetry(c: MmCtx, vmf: Vmf, folio: number): number {
  if (folioTrylock(c, folio)) return 0;
  if (!allowRetryFirst(vmf.flags)) {
    // No retry allowed, or this is the retry (FAULT_FLAG_TRIED): sleep on
    // the folio lock with the fault lock still held.
    while (!folioTrylock(c, folio)) folioWaitLocked(c, folio);
    return 0;
  }
  if ((vmf.flags & FAULT_FLAG_RETRY_NOWAIT) !== 0) return VM_FAULT_RETRY;
  releaseFaultLock(c, vmf);
  folioWaitLocked(c, folio);
  return VM_FAULT_RETRY;
}

/**
 * pte_offset_map_lock() + pte_same(): take the fault's PTE lock and check
 * the PTE is still the one the fault read without it (vmf->orig_pte). On a
 * change, drop the lock and return false: someone else handled the fault.
 */
export function vmfPteLockSame(c: MmCtx, vmf: Vmf): boolean {
  pteLock(c, vmf.table);
  // ptep_get() under the PT lock, which every PTE writer holds; the lock's RMW orders the read.
  if (c.i32[ptep(vmf.table, vmf.addr)] === vmf.origPte) return true;
  pteUnlock(c, vmf.table);
  return false;
}
