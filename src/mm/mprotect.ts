import { snapStart, snapVma, snapFind, mtPublish, mtFreePrealloc } from './tree.js';
import type { MmCtx } from './model.js';
import { mmapWriteUnlock, vmaStartWrite, vmaSetField } from './mmap_lock.js';
import { pteTable, ptep, pteLock, pteUnlock, pmdAddrEnd, setPte } from './pgtable.js';
import { flushTlbMm } from './tlb.js';
import { VMA_START, VMA_END, VMA_FLAGS, PTE_PRESENT, PTE_WRITE } from './layout.js';
import { BUG1_NO_START_WRITE, BUG1_MPROTECT_NO_FLUSH } from '../shm/bugbits.js';
import { EV_MPROTECT } from './debug.js';
import { ENOMEM } from '../errno.js';
import { splitEdges, mergeRange, freeDead, mmapWriteBegin, vmaIterPrealloc } from './vma.js';

/* mprotect (mm/mprotect.c mprotect_fixup, change_protection). */

/**
 * mprotect_fixup(): split at the edges, write-lock and change vm_flags
 * (vm_flags_reset), write-protect PTEs when write permission goes away, then
 * merge with neighbours. Returns 0 or -errno.
 */
export function doMprotect(c: MmCtx, mm: number, start: number, len: number, newFlags: number): number {
  const i32 = c.i32;
  const end = start + len;
  const err = mmapWriteBegin(c, mm, start, len);
  if (err !== 0) return err;
  try {
    const s = c.scratch;
    let n = c.snapN;
    const k = snapFind(s, n, start);
    if (k >= n || snapStart(s, k) > start) return ENOMEM; // unmapped hole at the start
    const node = vmaIterPrealloc(c, n, 2);
    if (node === 0) return ENOMEM;
    const sp = splitEdges(c, mm, s, n, k, start, end);
    if (sp < 0) {
      mtFreePrealloc(c, node);
      return ENOMEM;
    }
    n = sp;
    const first = c.edgeFirst;
    const last = c.edgeLast;
    for (let j = first; j <= last; j++) {
      const vma = snapVma(s, j);
      const old = i32[vma + VMA_FLAGS];
      const nf = (old & ~(0x7)) | (newFlags & 0x7);
      if ((c.t.bugs1 & BUG1_NO_START_WRITE) === 0) vmaStartWrite(c, mm, vma); // vm_flags_reset() write-locks
      vmaSetField(c, mm, vma, VMA_FLAGS, nf);
      if ((nf & 2) === 0) changeProtection(c, mm, i32[vma + VMA_START], i32[vma + VMA_END]);
    }
    const dead = c.deadVmas;
    dead.length = 0;
    n = mergeRange(c, mm, s, n, first - 1, last, dead);
    mtPublish(c, mm, s, n, node);
    freeDead(c, dead);
    if (c.t.tracing) c.t.trace(EV_MPROTECT, mm, start, len, newFlags);
    return 0;
  } finally {
    mmapWriteUnlock(c, mm);
  }
}

/** change_protection(): clear the write bit of present PTEs in [start, end), then flush. */
export function changeProtection(c: MmCtx, mm: number, start: number, end: number): void {
  const i32 = c.i32;
  const flush = (c.t.bugs1 & BUG1_MPROTECT_NO_FLUSH) === 0; // bug: writable translations outlive the change
  for (let a = start; a < end; ) {
    const tableEnd = pmdAddrEnd(a, end);
    const table = pteTable(c, mm, a);
    if (table !== 0) {
      pteLock(c, table);
      let changed = false;
      for (let x = a; x < tableEnd; x++) {
        const p = ptep(table, x);
        const pte = Atomics.load(i32, p);
        if ((pte & PTE_PRESENT) !== 0 && (pte & PTE_WRITE) !== 0) {
          setPte(c, table, p, pte & ~PTE_WRITE);
          changed = true;
        }
      }
      if (changed && flush) flushTlbMm(c, mm, a);
      pteUnlock(c, table);
    }
    a = tableEnd;
  }
}
