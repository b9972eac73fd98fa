import type { MmCtx } from './model.js';
import { kasanCheck, kasanCheckGen, KS_MMU_WALK_PT, KS_MMU_WALK_FOLIO, KS_TLB_HIT } from './kasan.js';
import { delayPoint, W_TLB_REACH } from './debug.js';
import { pteTable, ptep, pteFolio } from './pgtable.js';
import { mmuEnter, mmuExit, tlbGenWord, TLB_ENTRIES, TLB_WORDS, TLB_MM, TLB_ADDR, TLB_FOLIO, TLB_WRITE, TLB_GEN, TLB_FGEN } from './tlb.js';
import { doUserAddrFault } from './fault.js';
import { VM_FAULT_SIGSEGV, VM_FAULT_SIGBUS, VM_FAULT_OOM, VM_FAULT_RETRY } from './vmf.js';
import { PTE_PRESENT, PTE_WRITE, F_CONTENT, OBJ_GEN, MM_ZAPPING } from './layout.js';
import { T_PF_DISABLE } from '../shm/layout.js';
import { mightFault } from '../sync/lockdep.js';

/*
 * A userspace load or store: the MMU translates through the page tables
 * without locks (inside mmuEnter/mmuExit, so TLB shootdowns wait for it);
 * a missing or insufficient translation raises a page fault, after which the
 * access is retried — exactly as a CPU restarts the faulting instruction.
 */
export const ACCESS_SEGV = -1;
export const ACCESS_OOM = -2;
export const ACCESS_BUS = -3;
export const ACCESS_STUCK = -4;
const MAX_FAULTS = 64;

/**
 * Store `value` (write) or load (read) at page `addr` of `mm`. Returns the
 * value read (or written), or a negative ACCESS_* code.
 */
export function userAccess(c: MmCtx, mm: number, addr: number, write: boolean, value: number): number {
  const i32 = c.i32;
  if (i32[c.t.base + T_PF_DISABLE] === 0) mightFault(c.t);
  const tlb = c.tlb;
  const e = ((addr + (mm >> 4)) & (TLB_ENTRIES - 1)) * TLB_WORDS; // set index from the page and the mm, so a parent and its child do not evict each other
  for (let faults = 0; faults < MAX_FAULTS; faults++) {
    mmuEnter(c, mm);
    // Read before the PTE: a flush after our walk makes what we fill stale.
    const gen = Atomics.load(i32, tlbGenWord(c, mm, addr));
    if (tlb[e + TLB_MM] === mm + 1 && tlb[e + TLB_ADDR] === addr && tlb[e + TLB_GEN] === gen && (!write || tlb[e + TLB_WRITE] !== 0)) {
      // A TLB hit, no walk: the folio must still be the allocation the
      // translation was filled with — nothing frees it before a flush.
      const f = tlb[e + TLB_FOLIO];
      kasanCheckGen(c, f, tlb[e + TLB_FGEN], KS_TLB_HIT, false);
      const v = accessFolio(i32, f, write, value);
      mmuExit(c);
      return v;
    }
    const table = pteTable(c, mm, addr);
    if (table !== 0) {
      kasanCheck(c, table, KS_MMU_WALK_PT, false);
      const pte = Atomics.load(i32, ptep(table, addr));
      if ((pte & PTE_PRESENT) !== 0 && (!write || (pte & PTE_WRITE) !== 0)) {
        const f = pteFolio(pte);
        kasanCheck(c, f, KS_MMU_WALK_FOLIO, false);
        const fgen = c.t.checks ? Atomics.load(i32, f + OBJ_GEN) : 0;
        // The translation is in this CPU's TLB until a flush reaches it, which
        // waits for us (mmuExit): whoever clears the PTE must flush before the
        // folio can be freed, so it is the same allocation at the access. The
        // window opens only while a zap runs in this mm (nothing else can
        // free the folio under a walker), so other accesses do not pay it.
        if (c.t.windowed && Atomics.load(i32, mm + MM_ZAPPING) !== 0) {
          delayPoint(c, W_TLB_REACH);
          kasanCheckGen(c, f, fgen, KS_MMU_WALK_FOLIO, false);
        }
        tlb[e + TLB_MM] = mm + 1;
        tlb[e + TLB_ADDR] = addr;
        tlb[e + TLB_FOLIO] = f;
        tlb[e + TLB_WRITE] = (pte & PTE_WRITE) !== 0 ? 1 : 0;
        tlb[e + TLB_GEN] = gen;
        tlb[e + TLB_FGEN] = fgen;
        const v = accessFolio(i32, f, write, value);
        mmuExit(c);
        return v;
      }
    }
    mmuExit(c);
    const r = doUserAddrFault(c, mm, addr, write);
    if ((r & VM_FAULT_SIGSEGV) !== 0) return ACCESS_SEGV;
    if ((r & VM_FAULT_OOM) !== 0) return ACCESS_OOM;
    if ((r & VM_FAULT_SIGBUS) !== 0) return ACCESS_BUS;
    // A fault that still says RETRY gave up because the task is being stopped.
    if ((r & VM_FAULT_RETRY) !== 0 && c.t.stopRequested()) return ACCESS_STUCK;
  }
  return ACCESS_STUCK;
}

/** The load or store itself, through a translation to folio `f`. */
function accessFolio(i32: Int32Array, f: number, write: boolean, value: number): number {
  if (write) {
    Atomics.store(i32, f + F_CONTENT, value);
    return value;
  }
  return Atomics.load(i32, f + F_CONTENT);
}
