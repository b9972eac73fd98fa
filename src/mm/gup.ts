import type { MmCtx } from './model.js';
import { kasanCheck, KS_GUP_FAST_PT, KS_GUP_FAST_FOLIO } from './kasan.js';
import { rawReadSeqcount, readSeqcountRetry } from '../sync/seqcount.js';
import { mmapReadLock, mmapReadUnlock } from './mmap_lock.js';
import { findVma } from './tree.js';
import { pteTable, ptep, pteLock, pteUnlock, pteFolio } from './pgtable.js';
import { folioTryGet, folioPut, folioTestFlag, isZeroFolio } from './folio.js';
import { mmuEnter, mmuExit } from './tlb.js';
import { BUG1_B6_GUP_FAST_NO_SEQ } from '../shm/bugbits.js';
import { delayPoint, W_GUP_FAST, EV_PIN } from './debug.js';
import { ctlPoint, P_REFCOUNT } from '../sync/ctl.js';
import { handleMmFault } from './fault.js';
import {
  VM_FAULT_RETRY, VM_FAULT_COMPLETED, VM_FAULT_ERROR, FAULT_FLAG_WRITE, FAULT_FLAG_UNSHARE,
  FAULT_FLAG_ALLOW_RETRY, FAULT_FLAG_KILLABLE, FAULT_FLAG_REMOTE,
} from './vmf.js';
import {
  MM_WRITE_PROTECT_SEQ, MM_FLAGS, MMF_HAS_PINNED, MM_PINNED, PTE_PRESENT, PTE_WRITE, PG_ANON, PG_ANON_EXCLUSIVE,
  F_REF, F_PINCOUNT, F_CONTENT, GUP_PIN_COUNTING_BIAS, VMA_START, VMA_FLAGS, VM_WRITE, MC_GUP_FAST,
  MC_GUP_FAST_FALLBACK, MC_GUP_SLOW,
} from './layout.js';

/*
 * get_user_pages: GUP-fast (lockless, mm/gup.c gup_fast_pte_range) and the
 * slow path under mmap_lock, with FOLL_PIN accounting
 * (GUP_PIN_COUNTING_BIAS) and the anon-exclusive rules of 5.19.
 */

/** try_grab_folio(FOLL_PIN): refcount += GUP_PIN_COUNTING_BIAS, pincount++. Fails on a dying folio. */
function tryGrabFolioPin(c: MmCtx, f: number): boolean {
  if (!folioTryGet(c, f)) return false;
  Atomics.add(c.i32, f + F_REF, GUP_PIN_COUNTING_BIAS - 1);
  if (c.t.ctl !== 0) ctlPoint(c.t, P_REFCOUNT, f + F_PINCOUNT);
  Atomics.add(c.i32, f + F_PINCOUNT, 1);
  return true;
}

/** unpin_user_page(). */
export function unpinUserPage(c: MmCtx, mm: number, f: number): void {
  Atomics.sub(c.i32, f + F_PINCOUNT, 1);
  Atomics.sub(c.i32, mm + MM_PINNED, 1);
  Atomics.sub(c.i32, f + F_REF, GUP_PIN_COUNTING_BIAS - 1);
  folioPut(c, f);
}

/** gup_must_unshare(): a pin of an anon page needs it exclusive. */
function mustUnshare(c: MmCtx, f: number): boolean {
  return folioTestFlag(c, f, PG_ANON) && !folioTestFlag(c, f, PG_ANON_EXCLUSIVE);
}

/**
 * gup_fast() for one page with FOLL_PIN: sample write_protect_seq (odd:
 * bail), walk with "interrupts disabled", pin, re-check the PTE, verify the
 * sequence. Returns the pinned folio + 1, or 0 to fall back to the slow path.
 */
export function gupFast(c: MmCtx, mm: number, addr: number, write: boolean): number {
  const i32 = c.i32;
  const noSeq = (c.t.bugs1 & BUG1_B6_GUP_FAST_NO_SEQ) !== 0;
  const seq = rawReadSeqcount(i32, mm + MM_WRITE_PROTECT_SEQ);
  if ((seq & 1) !== 0 && !noSeq) return 0;
  mmuEnter(c, mm);
  let got = 0;
  const table = pteTable(c, mm, addr);
  if (table !== 0) {
    kasanCheck(c, table, KS_GUP_FAST_PT, false);
    const p = ptep(table, addr);
    const pte = Atomics.load(i32, p);
    if ((pte & PTE_PRESENT) !== 0 && (!write || (pte & PTE_WRITE) !== 0)) {
      const f = pteFolio(pte);
      kasanCheck(c, f, KS_GUP_FAST_FOLIO, false);
      delayPoint(c, W_GUP_FAST);
      // gup_fast_pte_range(): pin, re-check the PTE, and only then refuse a
      // read-only PTE whose anon folio must be unshared (gup_must_unshare).
      if (!isZeroFolio(c, f) && tryGrabFolioPin(c, f)) {
        if (Atomics.load(i32, p) === pte && ((pte & PTE_WRITE) !== 0 || !mustUnshare(c, f))) got = f + 1;
        else unpinRaw(c, f);
      }
    }
  }
  mmuExit(c);
  if (got !== 0 && !noSeq && readSeqcountRetry(c.t, mm + MM_WRITE_PROTECT_SEQ, seq)) {
    unpinRaw(c, got - 1);
    got = 0;
  }
  return got;
}

function unpinRaw(c: MmCtx, f: number): void {
  Atomics.sub(c.i32, f + F_PINCOUNT, 1);
  Atomics.sub(c.i32, f + F_REF, GUP_PIN_COUNTING_BIAS - 1);
  folioPut(c, f);
}

/**
 * __get_user_pages() for one page with FOLL_PIN under mmap_lock: look the
 * PTE up under its lock; if it is missing, read-only for a write, or shared
 * for a pin, fault it in (FAULT_FLAG_UNSHARE for read pins) and retry. A
 * RETRY/COMPLETED fault dropped mmap_lock: take it again. Returns folio + 1 or 0.
 */
export function pinUserPageSlow(c: MmCtx, mm: number, addr: number, write: boolean): number {
  const i32 = c.i32;
  mmapReadLock(c, mm);
  for (let tries = 0; tries < 16; tries++) {
    const vma = findVma(c, mm, addr);
    if (vma === 0 || i32[vma + VMA_START] > addr || (write && (i32[vma + VMA_FLAGS] & VM_WRITE) === 0)) break;
    const table = pteTable(c, mm, addr);
    if (table !== 0) {
      const p = ptep(table, addr);
      pteLock(c, table);
      const pte = Atomics.load(i32, p);
      if ((pte & PTE_PRESENT) !== 0 && (!write || (pte & PTE_WRITE) !== 0)) {
        const f = pteFolio(pte);
        if (!isZeroFolio(c, f) && !mustUnshare(c, f) && tryGrabFolioPin(c, f)) {
          pteUnlock(c, table);
          mmapReadUnlock(c, mm);
          return f + 1;
        }
      }
      pteUnlock(c, table);
    }
    // faultin_page(): a missing page is faulted in for write (a pinned anon
    // page must be exclusive); a present shared page of a read pin is unshared.
    const cur = table === 0 ? 0 : Atomics.load(i32, ptep(table, addr));
    let flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE | FAULT_FLAG_REMOTE;
    if (write || (cur & PTE_PRESENT) === 0 || isZeroFolio(c, pteFolio(cur))) flags |= FAULT_FLAG_WRITE;
    else flags |= FAULT_FLAG_UNSHARE;
    const ret = handleMmFault(c, mm, vma, addr, flags);
    if ((ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)) !== 0) {
      mmapReadLock(c, mm);
      continue;
    }
    if ((ret & VM_FAULT_ERROR) !== 0) break;
  }
  mmapReadUnlock(c, mm);
  return 0;
}

/**
 * pin_user_pages_fast() for one page: set MMF_HAS_PINNED, try GUP-fast,
 * else the slow path. Returns the pinned folio + 1, or 0.
 */
export function pinUserPage(c: MmCtx, mm: number, addr: number, write: boolean): number {
  Atomics.or(c.i32, mm + MM_FLAGS, MMF_HAS_PINNED);
  let f1 = gupFast(c, mm, addr, write);
  if (f1 !== 0) {
    c.t.count(MC_GUP_FAST);
  } else {
    c.t.count(MC_GUP_FAST_FALLBACK);
    f1 = pinUserPageSlow(c, mm, addr, write);
    if (f1 !== 0) c.t.count(MC_GUP_SLOW);
  }
  if (f1 !== 0) Atomics.add(c.i32, mm + MM_PINNED, 1);
  if (c.t.tracing) c.t.trace(EV_PIN, mm, addr, f1 - 1, 0);
  return f1;
}

/** A device (DMA) write through a FOLL_PIN|FOLL_WRITE pin: no page tables involved. */
export function deviceWrite(c: MmCtx, f: number, value: number): void {
  Atomics.store(c.i32, f + F_CONTENT, value);
}
