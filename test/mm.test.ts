import { EEXIST, EFAULT, EINVAL, ENOMEM } from '../src/errno.js';
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { makeModel } from './helpers/model.js';
import { decodeViolations, violationCount } from '../src/harness/collect.js';
import { rcuBarrier } from '../src/sync/rcu.js';
import { checkAddressSpaces, checkNoLeaks } from '../src/check/invariants.js';
import { heldLocks } from '../src/check/waitgraph.js';
import type { MmCtx } from '../src/mm/model.js';
import { doMmap, doMunmap, exitMmap, mmFree, mmAlloc, setrlimitStack } from '../src/mm/mmap.js';
import { doMprotect } from '../src/mm/mprotect.js';
import { doMremap } from '../src/mm/mremap.js';
import { doMadviseDontneed } from '../src/mm/madvise.js';
import { mtSnapshot, mtWalk, findVma } from '../src/mm/tree.js';
import { userAccess, ACCESS_SEGV } from '../src/mm/access.js';
import { pteGet, handleMmFault, doUserAddrFault } from '../src/mm/fault.js';
import { FAULT_FLAG_VMA_LOCK, FAULT_FLAG_WRITE, FAULT_FLAG_DEFAULT, FAULT_FLAG_USER, VM_FAULT_RETRY, VM_FAULT_COMPLETED } from '../src/mm/vmf.js';
import { lockVmaUnderRcu, vmaStartRead, vmaEndRead, vmaStartWrite, mmapWriteLock, mmapWriteUnlock, mmapReadLock, mmapReadUnlock, vmaIsAttached, vmaSetField, VMA_READ_OK, VMA_READ_FAIL } from '../src/mm/mmap_lock.js';
import { AH_FIND_VMA, AH_SET_PTE, AH_VMA_SET_RANGE } from '../src/sync/lockdep.js';
import { pteFolio, pteTable, ptep, pteLock, pteUnlock, setPte } from '../src/mm/pgtable.js';
import { flushTlbMm } from '../src/mm/tlb.js';
import { dupMmap } from '../src/mm/fork.js';
import { anonVmaAlloc, putAnonVma, folioTrylock, folioUnlock, folioRefCount, folioGet, pageCheckAnonRmap } from '../src/mm/folio.js';
import { OBJ_LIVE } from '../src/mm/slab.js';
import { pinUserPage, unpinUserPage, deviceWrite, gupFast } from '../src/mm/gup.js';
import { swapOutPage, reclaimFolio } from '../src/mm/swap.js';
import { kasanCheck, KS_MMU_WALK_FOLIO } from '../src/mm/kasan.js';
import { uffdRegister, uffdioCopy } from '../src/mm/uffd.js';
import { writeSeqcountBegin, writeSeqcountEnd } from '../src/sync/seqcount.js';
import {
  VM_READ, VM_WRITE, VM_SHARED, VM_GROWSDOWN, VM_UFFD_MISSING, VMA_WRITE_STARTED, VMA_ANON_VMA, VMA_FLAGS,
  PTE_PRESENT, PTE_WRITE, PTE_SWAP, PTE_SWP_EXCLUSIVE, F_FLAGS, F_MAPCOUNT, PG_ANON_EXCLUSIVE, MM_MAP_COUNT,
  MM_WRITE_PROTECT_SEQ, MC_VMA_LOCK_SUCCESS, MC_MMAP_FAULTS, MM_MT, VMA_REFCNT, F_INDEX, F_ANON_VMA, AV_HEAD, AV_TAIL,
  AVC_VMA, AVC_NEXT, AVC_PREV, VMA_START, VMA_PGOFF, PG_SWAPCACHE, OBJ_STATE, MC_FAULTS, F_CONTENT,
} from '../src/mm/layout.js';
import { T_CTR } from '../src/shm/layout.js';

const RW = VM_READ | VM_WRITE;
const ERAS = [1, 2, 3] as const;

function vmas(c: MmCtx, mm: number): [number, number][] {
  const s = new Int32Array(c.maxVmas * 3 + 3);
  const n = mtSnapshot(c, mm, s);
  return Array.from({ length: n }, (_, k) => [s[k * 3], s[k * 3 + 1]] as [number, number]);
}

function vmaAt(c: MmCtx, mm: number, addr: number): number {
  return mtWalk(c, mm, addr);
}

function ctr(c: MmCtx, k: number): number {
  return c.i32[c.t.base + T_CTR + k];
}

function settle(c: MmCtx): void {
  rcuBarrier(c.t, c.rcuFn);
}

/**
 * Start a helper thread of test/helpers (it attaches to the arena, takes a
 * PT lock and sets flag word 0 to 1; word 1 is the test's "done") and wait,
 * at most 5 s, until it has signalled. Resolves with its one message.
 */
function startHelper<T>(name: string, data: Record<string, unknown>): { f: Int32Array; worker: Worker; exited: Promise<T> } {
  const flag = new SharedArrayBuffer(8);
  const f = new Int32Array(flag);
  const worker = new Worker(new URL(`./helpers/${name}.mjs`, import.meta.url), { workerData: { ...data, flag } });
  const exited = new Promise<T>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  Atomics.wait(f, 0, 0, 5000);
  return { f, worker, exited };
}

/** Every test ends with the quiescent invariants and no violation. */
function assertClean(c: MmCtx): void {
  expect(decodeViolations(c.t.arena)).toEqual([]);
  expect(checkAddressSpaces(c)).toEqual([]);
}

/** Page 3 of an anonymous VMA written with 33, forked, and the folio reclaimed from both PTEs through the rmap. */
function reclaimedForked(era: 1 | 2 | 3): { c: MmCtx; mm: number; child: number; f: number } {
  const { c, mm } = makeModel({ era });
  doMmap(c, mm, 0, 8, { flags: RW });
  userAccess(c, mm, 3, true, 33);
  const child = dupMmap(c, mm);
  const f = pteFolio(pteGet(c, mm, 3));
  expect(reclaimFolio(c, f, 0)).toBe(2);
  return { c, mm, child, f };
}

function teardown(c: MmCtx, mms: number[]): void {
  for (const mm of mms) {
    exitMmap(c, mm);
    mmFree(c, mm);
  }
  settle(c);
  expect(checkNoLeaks(c)).toEqual([]);
  expect(violationCount(c.t.arena)).toBe(0);
}

for (const era of ERAS) {
  describe(`mm model, era E${era}`, () => {
    it('mmap write-locks the new VMA before it is visible and attaches it', () => {
      const { c, mm } = makeModel({ era });
      expect(doMmap(c, mm, 100, 10, { flags: RW, merge: false })).toBe(0);
      const v = vmaAt(c, mm, 105);
      expect(v).toBeGreaterThan(0);
      expect(c.i32[v + VMA_WRITE_STARTED]).toBe(1);
      expect(vmaIsAttached(c, v)).toBe(true);
      expect(vmas(c, mm)).toEqual([[100, 110]]);
      expect(c.i32[mm + MM_MAP_COUNT]).toBe(1);
      expect(doMmap(c, mm, 105, 10, { flags: RW })).toBe(EEXIST);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('mmap next to a compatible VMA merges; an incompatible one does not', () => {
      const { c, mm } = makeModel({ era });
      expect(doMmap(c, mm, 100, 10, { flags: RW })).toBe(0);
      expect(doMmap(c, mm, 110, 10, { flags: RW })).toBe(0);
      expect(vmas(c, mm)).toEqual([[100, 120]]);
      expect(doMmap(c, mm, 120, 10, { flags: VM_READ })).toBe(0);
      expect(vmas(c, mm)).toEqual([[100, 120], [120, 130]]);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('a write fault takes the per-VMA path, prepares the anon_vma and maps an exclusive folio', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 200, 16, { flags: RW });
      expect(userAccess(c, mm, 203, true, 0x1234)).toBe(0x1234);
      const pte = pteGet(c, mm, 203);
      expect(pte & (PTE_PRESENT | PTE_WRITE)).toBe(PTE_PRESENT | PTE_WRITE);
      const f = pteFolio(pte);
      expect(c.i32[f + F_FLAGS] & PG_ANON_EXCLUSIVE).toBe(PG_ANON_EXCLUSIVE);
      expect(c.i32[f + F_MAPCOUNT]).toBe(1);
      expect(c.i32[vmaAt(c, mm, 203) + VMA_ANON_VMA]).not.toBe(0);
      expect(ctr(c, MC_VMA_LOCK_SUCCESS)).toBe(1);
      expect(userAccess(c, mm, 203, false, 0)).toBe(0x1234);
      expect(heldLocks(c.t.arena, 0)).toEqual([]);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('with per-VMA locking off every fault takes mmap_lock', () => {
      const { c, mm } = makeModel({ era, perVmaLock: false });
      doMmap(c, mm, 200, 16, { flags: RW });
      userAccess(c, mm, 201, true, 5);
      userAccess(c, mm, 202, false, 0);
      expect(ctr(c, MC_VMA_LOCK_SUCCESS)).toBe(0);
      expect(ctr(c, MC_MMAP_FAULTS)).toBe(2);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('a read fault maps the zero page; the write after it copies into a fresh folio', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 300, 4, { flags: RW });
      expect(userAccess(c, mm, 300, false, 0)).toBe(0);
      const zero = pteFolio(pteGet(c, mm, 300));
      expect(zero).toBe(c.zeroFolio());
      expect(pteGet(c, mm, 300) & PTE_WRITE).toBe(0);
      userAccess(c, mm, 300, true, 77);
      expect(pteFolio(pteGet(c, mm, 300))).not.toBe(zero);
      expect(userAccess(c, mm, 300, false, 0)).toBe(77);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('munmap of the middle splits the VMA, write-locks and detaches what it removes, zaps and frees', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 128, { flags: RW });
      for (let a = 0; a < 128; a += 8) userAccess(c, mm, a, true, a + 1);
      const victim = vmaAt(c, mm, 10);
      expect(doMunmap(c, mm, 40, 50)).toBe(0);
      expect(vmas(c, mm)).toEqual([[0, 40], [90, 128]]);
      for (let a = 40; a < 90; a++) expect(pteGet(c, mm, a)).toBe(0);
      expect(userAccess(c, mm, 32, false, 0)).toBe(33);
      expect(userAccess(c, mm, 96, false, 0)).toBe(97);
      expect(userAccess(c, mm, 48, false, 0)).toBe(ACCESS_SEGV);
      expect(c.i32[victim + VMA_WRITE_STARTED]).toBeGreaterThan(1);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('mprotect splits, write-protects the PTEs, and merges back', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 64, { flags: RW });
      for (let a = 0; a < 64; a++) userAccess(c, mm, a, true, 1000 + a);
      expect(doMprotect(c, mm, 16, 16, VM_READ)).toBe(0);
      expect(vmas(c, mm)).toEqual([[0, 16], [16, 32], [32, 64]]);
      expect(pteGet(c, mm, 20) & PTE_WRITE).toBe(0);
      expect(pteGet(c, mm, 40) & PTE_WRITE).toBe(PTE_WRITE);
      expect(userAccess(c, mm, 20, true, 1)).toBe(ACCESS_SEGV);
      expect(doMprotect(c, mm, 16, 16, RW)).toBe(0);
      expect(vmas(c, mm)).toEqual([[0, 64]]);
      // Exclusive anon pages are reused on the next write fault (no copy).
      const f = pteFolio(pteGet(c, mm, 20));
      userAccess(c, mm, 20, true, 2);
      expect(pteFolio(pteGet(c, mm, 20))).toBe(f);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('mremap moves and grows a VMA with its page tables', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 100, 8, { flags: RW });
      for (let a = 100; a < 108; a++) userAccess(c, mm, a, true, a);
      expect(doMremap(c, mm, 100, 8, 500, 16)).toBe(0);
      expect(vmas(c, mm)).toEqual([[500, 516]]);
      for (let a = 0; a < 8; a++) expect(userAccess(c, mm, 500 + a, false, 0)).toBe(100 + a);
      expect(userAccess(c, mm, 100, false, 0)).toBe(ACCESS_SEGV);
      expect(userAccess(c, mm, 515, true, 9)).toBe(9); // the grown part faults in
      assertClean(c);
      teardown(c, [mm]);
    });

    it('mremap moves a PTE an rmap walk holds cleared under its PT lock (move_ptes tests pte_none under the lock)', async () => {
      const { c, arena, mm } = makeModel({ era });
      doMmap(c, mm, 0, 4, { flags: RW });
      doMmap(c, mm, 8, 4, { flags: RW | VM_SHARED, file: 1 }); // keeps the source's PTE table in use
      userAccess(c, mm, 2, true, 77);
      const pte = pteGet(c, mm, 2);
      const { f, worker, exited } = startHelper<{ pte: number }>('unmap-walker', { sab: arena.sab, tid: 1, mm, addr: 2, holdMs: 300 });
      expect(Atomics.load(f, 0)).toBe(1); // the walker holds the PTE cleared
      // A lockless pte_none() here would skip page 2 and leave the restored PTE in a range no VMA covers.
      expect(doMremap(c, mm, 0, 4, 32, 4)).toBe(0);
      Atomics.store(f, 1, 1);
      Atomics.notify(f, 1);
      expect((await exited).pte).toBe(pte);
      await worker.terminate();
      expect(pteGet(c, mm, 2)).toBe(0);
      expect(pteFolio(pteGet(c, mm, 34))).toBe(pteFolio(pte));
      expect(userAccess(c, mm, 34, false, 0)).toBe(77);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('mremap stores the copy, write-locked, in the tree before it moves the page tables (copy_vma -> vma_link)', async () => {
      const { c, arena, mm } = makeModel({ era });
      doMmap(c, mm, 0, 4, { flags: RW });
      doMmap(c, mm, 8, 4, { flags: RW | VM_SHARED, file: 1 }); // keeps the source's PTE table in use
      userAccess(c, mm, 2, true, 77);
      const { f, worker, exited } = startHelper<{ seen: boolean; writeLocked: boolean }>('mremap-watcher', { sab: arena.sab, tid: 1, mm, addr: 2, watch: 33, holdMs: 3000 });
      expect(Atomics.load(f, 0)).toBe(1); // the watcher holds the source table's PT lock
      expect(doMremap(c, mm, 0, 4, 32, 4)).toBe(0); // stops in move_ptes() until the watcher lets go
      const r = await exited;
      await worker.terminate();
      // The kernel's per-VMA faults on the destination are kept off only by this write lock.
      expect(r).toEqual({ seen: true, writeLocked: true });
      expect(userAccess(c, mm, 34, false, 0)).toBe(77);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('fork does not copy the page tables of a VMA without anon_vma (vma_needs_copy): the child faults the zero page again', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 4, { flags: RW });
      expect(userAccess(c, mm, 1, false, 0)).toBe(0); // the zero page, no anon_vma
      expect(c.i32[vmaAt(c, mm, 0) + VMA_ANON_VMA]).toBe(0);
      expect(pteGet(c, mm, 1)).not.toBe(0);
      const child = dupMmap(c, mm);
      expect(child).toBeGreaterThanOrEqual(0);
      expect(pteGet(c, child, 1)).toBe(0);
      expect(userAccess(c, child, 1, false, 0)).toBe(0);
      assertClean(c);
      teardown(c, [mm, child]);
    });

    it('__page_check_anon_rmap: a folio mapped by a VMA whose anon_vma does not reach it is reported', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 4, { flags: RW });
      doMmap(c, mm, 8, 4, { flags: RW | VM_SHARED, file: 1 }); // keeps the two VMAs apart
      doMmap(c, mm, 16, 4, { flags: RW });
      userAccess(c, mm, 1, true, 5);
      const folio = pteFolio(pteGet(c, mm, 1));
      pageCheckAnonRmap(c, folio, vmaAt(c, mm, 0), 1); // its own mapping: consistent
      expect(decodeViolations(c.t.arena)).toEqual([]);
      pageCheckAnonRmap(c, folio, vmaAt(c, mm, 0), 2); // another index there
      pageCheckAnonRmap(c, folio, vmaAt(c, mm, 16), 17); // a VMA without anon_vma
      userAccess(c, mm, 17, true, 6); // now with an anon_vma of another root
      pageCheckAnonRmap(c, folio, vmaAt(c, mm, 16), 17);
      const v = decodeViolations(c.t.arena);
      expect(v.map((x) => x.kind)).toEqual(['anon-rmap-mismatch', 'anon-rmap-mismatch', 'anon-rmap-mismatch']);
      expect(v[1].args['VMA anon_vma (-1 none)']).toBe(-1);
    });

    it('mremap of a range that runs past its VMA is -EFAULT and moves nothing (vma_to_resize)', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 100, 4, { flags: RW });
      doMmap(c, mm, 104, 4, { flags: RW | VM_SHARED, file: 1 }); // a neighbour that cannot merge
      userAccess(c, mm, 100, true, 7);
      expect(doMremap(c, mm, 100, 8, 500, 8)).toBe(EFAULT);
      expect(doMremap(c, mm, 100, 2, 500, 8)).toBe(EINVAL); // a partial move would split: not modelled
      expect(vmas(c, mm)).toEqual([[100, 104], [104, 108]]);
      expect(userAccess(c, mm, 100, false, 0)).toBe(7);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('mremap(MREMAP_DONTUNMAP) keeps an empty source VMA without anon_vma', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 100, 8, { flags: RW });
      userAccess(c, mm, 100, true, 5);
      expect(doMremap(c, mm, 100, 8, 300, 8, true)).toBe(0);
      expect(vmas(c, mm)).toEqual([[100, 108], [300, 308]]);
      expect(c.i32[vmaAt(c, mm, 100) + VMA_ANON_VMA]).toBe(0);
      expect(userAccess(c, mm, 300, false, 0)).toBe(5);
      expect(userAccess(c, mm, 100, false, 0)).toBe(0);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('madvise(MADV_DONTNEED) zaps every VMA in the range; a hole is -ENOMEM after the VMAs around it were zapped (madvise_walk_vmas)', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 4, { flags: RW });
      doMmap(c, mm, 4, 4, { flags: RW | VM_SHARED, file: 1 });
      doMmap(c, mm, 12, 4, { flags: RW });
      for (const a of [1, 5, 13]) userAccess(c, mm, a, true, 40 + a);
      expect(doMadviseDontneed(c, mm, 0, 8)).toBe(0); // two VMAs, no hole
      expect(pteGet(c, mm, 1)).toBe(0);
      expect(pteGet(c, mm, 5)).toBe(0);
      expect(userAccess(c, mm, 5, false, 0)).toBe(45); // the shared page stays in the page cache
      for (const a of [1, 13]) userAccess(c, mm, a, true, 50 + a);
      expect(doMadviseDontneed(c, mm, 0, 16)).toBe(ENOMEM); // [8, 12) is a hole
      expect(pteGet(c, mm, 1)).toBe(0);
      expect(pteGet(c, mm, 13)).toBe(0);
      expect(userAccess(c, mm, 13, false, 0)).toBe(0);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('madvise(MADV_DONTNEED) zaps the range and the next read sees zeroes', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 16, { flags: RW });
      userAccess(c, mm, 3, true, 42);
      expect(doMadviseDontneed(c, mm, 0, 16)).toBe(0);
      expect(pteGet(c, mm, 3)).toBe(0);
      expect(userAccess(c, mm, 3, false, 0)).toBe(0);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('a fault below a VM_GROWSDOWN VMA expands the stack under the mmap write lock', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 900, 10, { flags: RW | VM_GROWSDOWN });
      expect(userAccess(c, mm, 895, true, 3)).toBe(3);
      expect(vmas(c, mm)).toEqual([[895, 910]]);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('the stack grows no further than RLIMIT_STACK (acct_stack_growth), and a child inherits the limit', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 900, 10, { flags: RW | VM_GROWSDOWN });
      setrlimitStack(c, mm, 16);
      expect(userAccess(c, mm, 893, true, 3)).toBe(ACCESS_SEGV); // 17 pages
      expect(vmas(c, mm)).toEqual([[900, 910]]);
      expect(userAccess(c, mm, 894, true, 4)).toBe(4); // 16 pages
      expect(vmas(c, mm)).toEqual([[894, 910]]);
      const child = dupMmap(c, mm);
      expect(child).toBeGreaterThan(0);
      expect(userAccess(c, child, 893, true, 5)).toBe(ACCESS_SEGV);
      expect(vmas(c, child)).toEqual([[894, 910]]);
      assertClean(c);
      teardown(c, [mm, child]);
    });

    it('fork: the child sees the fork-time snapshot; later writes on either side stay private', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 32, { flags: RW });
      for (let a = 0; a < 32; a++) userAccess(c, mm, a, true, 100 + a);
      const parentVma = vmaAt(c, mm, 0);
      const started = c.i32[parentVma + VMA_WRITE_STARTED];
      const child = dupMmap(c, mm);
      expect(child).toBeGreaterThan(0);
      expect(c.i32[parentVma + VMA_WRITE_STARTED]).toBeGreaterThan(started); // parent VMAs write-locked
      const f = pteFolio(pteGet(c, mm, 5));
      expect(pteFolio(pteGet(c, child, 5))).toBe(f);
      expect(c.i32[f + F_FLAGS] & PG_ANON_EXCLUSIVE).toBe(0);
      expect(pteGet(c, mm, 5) & PTE_WRITE).toBe(0);
      expect(c.i32[f + F_MAPCOUNT]).toBe(2);
      userAccess(c, mm, 5, true, 555);
      userAccess(c, child, 6, true, 666);
      expect(userAccess(c, child, 5, false, 0)).toBe(105);
      expect(userAccess(c, mm, 5, false, 0)).toBe(555);
      expect(userAccess(c, mm, 6, false, 0)).toBe(106);
      expect(userAccess(c, child, 6, false, 0)).toBe(666);
      assertClean(c);
      teardown(c, [child, mm]);
    });

    it('fork copies a pinned exclusive page for the child; device writes reach the parent only', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      userAccess(c, mm, 2, true, 7);
      const f1 = pinUserPage(c, mm, 2, true);
      expect(f1).toBeGreaterThan(0);
      const child = dupMmap(c, mm);
      expect(pteFolio(pteGet(c, mm, 2))).toBe(f1 - 1);
      expect(pteFolio(pteGet(c, child, 2))).not.toBe(f1 - 1);
      expect(c.i32[f1 - 1 + F_FLAGS] & PG_ANON_EXCLUSIVE).toBe(PG_ANON_EXCLUSIVE);
      expect(pteGet(c, mm, 2) & PTE_WRITE).toBe(PTE_WRITE);
      deviceWrite(c, f1 - 1, 99);
      expect(userAccess(c, mm, 2, false, 0)).toBe(99);
      expect(userAccess(c, child, 2, false, 0)).toBe(7);
      assertClean(c);
      unpinUserPage(c, mm, f1 - 1);
      assertClean(c);
      teardown(c, [child, mm]);
    });

    it('GUP-fast bails out while fork write-protects (odd write_protect_seq)', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      userAccess(c, mm, 1, true, 1);
      writeSeqcountBegin(c.i32, mm + MM_WRITE_PROTECT_SEQ);
      expect(gupFast(c, mm, 1, true)).toBe(0);
      writeSeqcountEnd(c.i32, mm + MM_WRITE_PROTECT_SEQ);
      const f1 = gupFast(c, mm, 1, true);
      expect(f1).toBe(pteFolio(pteGet(c, mm, 1)) + 1);
      unpinUserPage(c, mm, f1 - 1);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('swap-out keeps content and exclusivity; swap-in maps the folio back', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      userAccess(c, mm, 4, true, 31337);
      expect(swapOutPage(c, mm, 4, 10)).toBe(true);
      const pte = pteGet(c, mm, 4);
      expect(pte & (PTE_PRESENT | PTE_SWAP | PTE_SWP_EXCLUSIVE)).toBe(PTE_SWAP | PTE_SWP_EXCLUSIVE);
      assertClean(c);
      expect(userAccess(c, mm, 4, true, 31338)).toBe(31338);
      expect(pteGet(c, mm, 4) & (PTE_PRESENT | PTE_WRITE)).toBe(PTE_PRESENT | PTE_WRITE);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('swap-out, fork, swap-in and a write in the parent: the parent copies, the child swaps in the fork-time value', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      userAccess(c, mm, 4, true, 4242);
      expect(swapOutPage(c, mm, 4, 0)).toBe(true);
      const child = dupMmap(c, mm);
      expect(child).toBeGreaterThan(0);
      expect(pteGet(c, child, 4) & PTE_SWAP).toBe(PTE_SWAP); // the child holds a swap entry too
      expect(userAccess(c, mm, 4, false, 0)).toBe(4242); // parent swaps in (read)
      // wp_can_reuse_anon_folio: the swap cache cannot be freed while the
      // child's swap PTE names it, so the folio is not the parent's alone.
      expect(userAccess(c, mm, 4, true, 777)).toBe(777);
      expect(userAccess(c, child, 4, false, 0)).toBe(4242);
      expect(userAccess(c, mm, 4, false, 0)).toBe(777);
      assertClean(c);
      teardown(c, [child, mm]);
    });

    it('KASAN: a folio the MMU walk reaches is live; the same check on a freed folio is a slab-use-after-free', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      userAccess(c, mm, 3, true, 9);
      const f = pteFolio(pteGet(c, mm, 3));
      expect(kasanCheck(c, f, KS_MMU_WALK_FOLIO, false)).toBe(true);
      assertClean(c);
      doMadviseDontneed(c, mm, 3, 1); // zap: the folio is freed
      expect(kasanCheck(c, f, KS_MMU_WALK_FOLIO, false)).toBe(false);
      const v = decodeViolations(c.t.arena);
      expect(v.map((x) => x.kind)).toEqual(['kasan-use-after-free']);
      expect(v[0].args.site).toBe(KS_MMU_WALK_FOLIO);
      exitMmap(c, mm);
      mmFree(c, mm);
      settle(c);
      expect(checkNoLeaks(c)).toEqual([]);
    });

    it('set_pte_at asserts the PTE lock: a PTE store without it is lock-not-held in set_pte_at', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      userAccess(c, mm, 2, true, 5);
      const table = pteTable(c, mm, 2);
      const p = ptep(table, 2);
      const pte = Atomics.load(c.i32, p);
      pteLock(c, table);
      setPte(c, table, p, pte);
      pteUnlock(c, table);
      assertClean(c);
      setPte(c, table, p, pte);
      const v = decodeViolations(c.t.arena);
      expect(v.map((x) => x.kind)).toEqual(['lock-not-held']);
      expect(v[0].args.caller).toBe(AH_SET_PTE);
      exitMmap(c, mm);
      mmFree(c, mm);
    });

    it('a pinned page is never swapped out', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      userAccess(c, mm, 4, true, 1);
      const f1 = pinUserPage(c, mm, 4, true);
      expect(swapOutPage(c, mm, 4, 0)).toBe(false);
      unpinUserPage(c, mm, f1 - 1);
      expect(swapOutPage(c, mm, 4, 0)).toBe(true);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('vma_start_read never succeeds while the VMA is write-locked', () => {
      const { c, c1, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      const v = vmaAt(c, mm, 0);
      mmapWriteLock(c1, mm);
      expect(vmaStartRead(c, mm, v)).toBe(VMA_READ_OK); // not marked yet: readers may enter
      vmaEndRead(c, v);
      vmaStartWrite(c1, mm, v);
      expect(vmaStartRead(c, mm, v)).toBe(VMA_READ_FAIL);
      expect(lockVmaUnderRcu(c, mm, 3)).toBe(0);
      mmapWriteUnlock(c1, mm);
      const got = lockVmaUnderRcu(c, mm, 3);
      expect(got).toBe(v);
      vmaEndRead(c, v);
      expect(heldLocks(c.t.arena, 0)).toEqual([]);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('a field store to an attached VMA asserts vma_assert_write_locked; an unattached one and a write-locked one do not', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      const v = vmaAt(c, mm, 0);
      mmapWriteLock(c, mm);
      vmaStartWrite(c, mm, v);
      vmaSetField(c, mm, v, VMA_FLAGS, RW); // legal: mmap_lock for write, VMA write-locked
      mmapWriteUnlock(c, mm);
      expect(decodeViolations(c.t.arena)).toEqual([]);
      mmapWriteLock(c, mm); // a new write section: the VMA is no longer write-locked
      vmaSetField(c, mm, v, VMA_FLAGS, RW); // the forgotten vma_start_write()
      mmapWriteUnlock(c, mm);
      expect(decodeViolations(c.t.arena).map((x) => x.kind)).toEqual(['vma-assert-write-locked']);
    });

    it('find_vma asserts that its caller holds mmap_lock', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      mmapReadLock(c, mm);
      expect(findVma(c, mm, 0)).toBe(vmaAt(c, mm, 0));
      mmapReadUnlock(c, mm);
      expect(decodeViolations(c.t.arena)).toEqual([]);
      findVma(c, mm, 0);
      const v = decodeViolations(c.t.arena);
      expect(v.map((x) => x.kind)).toEqual(['lock-not-held']);
      expect(v[0].args).toMatchObject({ caller: AH_FIND_VMA });
    });

    it('RETRY from vmf_anon_prepare leaves no lock held and none released twice', () => {
      const { c, c1, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      const v = lockVmaUnderRcu(c, mm, 1);
      expect(v).toBeGreaterThan(0);
      mmapWriteLock(c1, mm); // mmap_read_trylock under the VMA lock will fail
      const r = handleMmFault(c, mm, v, 1, FAULT_FLAG_DEFAULT | FAULT_FLAG_USER | FAULT_FLAG_WRITE | FAULT_FLAG_VMA_LOCK);
      expect(r & VM_FAULT_RETRY).toBe(VM_FAULT_RETRY);
      expect(heldLocks(c.t.arena, 0)).toEqual([]); // the callee released the VMA lock
      mmapWriteUnlock(c1, mm);
      expect(userAccess(c, mm, 1, true, 3)).toBe(3);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('a shared write fault that throttles for I/O returns COMPLETED with the fault lock released', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW | VM_SHARED, file: 1, pgoff: 0 });
      const r = doUserAddrFault(c, mm, 2, true);
      expect(r & VM_FAULT_COMPLETED).toBe(VM_FAULT_COMPLETED);
      expect(heldLocks(c.t.arena, 0)).toEqual([]);
      expect(userAccess(c, mm, 2, true, 8)).toBe(8);
      const child = dupMmap(c, mm);
      expect(userAccess(c, child, 2, false, 0)).toBe(8); // shared: the child sees the same page
      assertClean(c);
      teardown(c, [child, mm]);
    });

    it('userfaultfd: a missing fault waits and RETRYs; UFFDIO_COPY installs the page', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      doMmap(c, mm, 64, 8, { flags: RW });
      userAccess(c, mm, 64, true, 4242); // the source page
      expect(uffdRegister(c, mm, 0, 8, VM_UFFD_MISSING)).toBe(0);
      const v = lockVmaUnderRcu(c, mm, 3);
      const r = handleMmFault(c, mm, v, 3, FAULT_FLAG_DEFAULT | FAULT_FLAG_USER | FAULT_FLAG_WRITE | FAULT_FLAG_VMA_LOCK);
      expect(r & VM_FAULT_RETRY).toBe(VM_FAULT_RETRY);
      expect(heldLocks(c.t.arena, 0)).toEqual([]);
      expect(uffdioCopy(c, mm, 3, mm, 64)).toBe(0);
      expect(uffdioCopy(c, mm, 3, mm, 64)).toBe(EEXIST);
      expect(userAccess(c, mm, 3, false, 0)).toBe(4242);
      // A source that is not mapped yet: copy_from_user with faults disabled fails, the fallback faults it in.
      doMmap(c, mm, 128, 8, { flags: RW });
      expect(uffdioCopy(c, mm, 4, mm, 130)).toBe(0);
      expect(userAccess(c, mm, 4, false, 0)).toBe(0);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('rmap: a folio faulted in a parent stays reachable from a grandchild after the parent and the child exit', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 16, { flags: RW });
      for (let a = 0; a < 16; a++) userAccess(c, mm, a, true, a);
      const child = dupMmap(c, mm);
      userAccess(c, child, 1, true, 11); // the child's own folio, in the child's anon_vma
      const grandchild = dupMmap(c, child);
      for (const x of [mm, child]) {
        exitMmap(c, x);
        mmFree(c, x);
      }
      settle(c);
      // The grandchild still maps the parent's folios: their anon_vma is linked by its chain and alive.
      expect(checkAddressSpaces(c)).toEqual([]);
      expect(userAccess(c, grandchild, 2, false, 0)).toBe(2);
      expect(userAccess(c, grandchild, 1, false, 0)).toBe(11);
      teardown(c, [grandchild]);
    });

    it('rmap: a folio whose index or anon_vma the VMA does not account for is a mapping the rmap walk misses', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 100, 8, { flags: RW });
      userAccess(c, mm, 100, true, 1);
      expect(doMremap(c, mm, 100, 8, 300, 8)).toBe(0);
      userAccess(c, mm, 301, true, 2); // faulted after the move: index from vm_pgoff, not the address
      expect(checkAddressSpaces(c)).toEqual([]);
      const f = pteFolio(pteGet(c, mm, 301));
      expect(c.i32[f + F_INDEX]).toBe(101);
      c.i32[f + F_INDEX] = 301; // as if indexed by address
      expect(checkAddressSpaces(c).map((p) => p.kind)).toEqual(['rmap-walk-miss']);
      c.i32[f + F_INDEX] = 101;
      const other = anonVmaAlloc(c, mm);
      const av1 = c.i32[f + F_ANON_VMA];
      c.i32[f + F_ANON_VMA] = other + 1; // an anon_vma no VMA of this mm links
      expect(checkAddressSpaces(c).map((p) => p.kind)).toEqual(['rmap-walk-miss']);
      c.i32[f + F_ANON_VMA] = av1;
      putAnonVma(c, other);
      assertClean(c);
      teardown(c, [mm]);
    });

    it('reclaim through the rmap unmaps a folio from parent and child without their locks; swap-in brings the data back', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      userAccess(c, mm, 3, true, 33);
      const child = dupMmap(c, mm);
      const f = pteFolio(pteGet(c, mm, 3));
      expect(pteFolio(pteGet(c, child, 3))).toBe(f);
      expect(reclaimFolio(c, f, 0)).toBe(2);
      expect(pteGet(c, mm, 3) & PTE_PRESENT).toBe(0);
      expect(pteGet(c, child, 3) & PTE_SWAP).not.toBe(0);
      expect(c.i32[f + F_MAPCOUNT]).toBe(0);
      expect(checkAddressSpaces(c)).toEqual([]);
      expect(userAccess(c, child, 3, false, 0)).toBe(33);
      expect(userAccess(c, mm, 3, false, 0)).toBe(33);
      assertClean(c);
      teardown(c, [mm, child]);
    });

    it('a zap of the last swap PTE drops the swap cache only under the folio lock: a locked folio stays for reclaim, which frees it later', () => {
      const { c, mm, child, f } = reclaimedForked(era);
      // Another thread holds the folio lock (a reclaimer still walking the rmap, writeback).
      expect(folioTrylock(c, f)).toBe(true);
      expect(doMunmap(c, mm, 0, 8)).toBe(0);
      expect(doMunmap(c, child, 0, 8)).toBe(0);
      expect(c.i32[f + F_FLAGS] & PG_SWAPCACHE).toBe(PG_SWAPCACHE);
      expect(folioRefCount(c, f)).toBe(1); // the swap cache's, still held
      folioUnlock(c, f);
      expect(checkAddressSpaces(c)).toEqual([]); // reclaimable, not leaked
      expect(reclaimFolio(c, f, 0)).toBe(0);
      expect(c.i32[f + OBJ_STATE]).not.toBe(OBJ_LIVE); // folio_free_swap() dropped the last reference
      assertClean(c);
      teardown(c, [mm, child]);
    });

    it('reclaim unmaps a folio that is mapped and already in the swap cache (no second add_to_swap)', () => {
      const { c, mm, child, f } = reclaimedForked(era);
      expect(userAccess(c, mm, 3, false, 0)).toBe(33); // the parent swaps in; the child's swap PTE keeps the cache
      expect(c.i32[f + F_FLAGS] & PG_SWAPCACHE).toBe(PG_SWAPCACHE);
      expect(reclaimFolio(c, f, 0)).toBe(1);
      expect(pteGet(c, mm, 3) & PTE_SWAP).toBe(PTE_SWAP);
      assertClean(c);
      expect(userAccess(c, child, 3, false, 0)).toBe(33);
      expect(userAccess(c, mm, 3, false, 0)).toBe(33);
      assertClean(c);
      teardown(c, [mm, child]);
    });

    it('folio_get() on a freed folio is reported (refcount_t: addition on 0)', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      userAccess(c, mm, 3, true, 33);
      const f = pteFolio(pteGet(c, mm, 3));
      expect(doMunmap(c, mm, 0, 8)).toBe(0);
      settle(c);
      expect(c.i32[f + OBJ_STATE]).not.toBe(OBJ_LIVE);
      folioGet(c, f);
      expect(decodeViolations(c.t.arena).map((v) => v.kind)).toEqual(['refcount-addition-on-0']);
    });

    it('a VMA missing from its anon_vma\'s list is a mapping try_to_unmap leaves behind: rmap-walk-miss, live and quiescent', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      userAccess(c, mm, 3, true, 33);
      const child = dupMmap(c, mm);
      const f = pteFolio(pteGet(c, mm, 3));
      const av = c.i32[f + F_ANON_VMA] - 1;
      const cv = vmaAt(c, child, 3);
      // Take the child's link off the folio's anon_vma list, as a path that forgot anon_vma_chain_link would.
      let a = c.i32[av + AV_HEAD];
      while (a !== 0 && c.i32[a - 1 + AVC_VMA] !== cv + 1) a = c.i32[a - 1 + AVC_NEXT];
      expect(a).not.toBe(0);
      const prev = c.i32[a - 1 + AVC_PREV];
      const next = c.i32[a - 1 + AVC_NEXT];
      if (prev === 0) c.i32[av + AV_HEAD] = next; else c.i32[prev - 1 + AVC_NEXT] = next;
      if (next === 0) c.i32[av + AV_TAIL] = prev; else c.i32[next - 1 + AVC_PREV] = prev;
      expect(checkAddressSpaces(c).map((p) => p.kind)).toContain('rmap-walk-miss');
      expect(reclaimFolio(c, f, 0)).toBe(1); // the parent's PTE only
      const v = decodeViolations(c.t.arena);
      expect(v.map((x) => x.kind)).toEqual(['rmap-walk-miss']);
      expect(v[0].args.mapcount).toBe(1);
      expect(c.i32[cv + VMA_START]).toBe(0);
    });

    it('the range of an attached VMA with an anon_vma changes only under anon_vma_lock_write: lock-not-held in vma_set_range', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 8, { flags: RW });
      doMmap(c, mm, 20, 8, { flags: RW });
      userAccess(c, mm, 1, true, 1);
      expect(doMprotect(c, mm, 2, 2, VM_READ)).toBe(0); // splits under the lock: no report
      expect(decodeViolations(c.t.arena)).toEqual([]);
      mmapWriteLock(c, mm);
      const v = vmaAt(c, mm, 1);
      vmaStartWrite(c, mm, v);
      vmaSetField(c, mm, v, VMA_PGOFF, c.i32[v + VMA_PGOFF]);
      const w = vmaAt(c, mm, 21); // no anon_vma yet: nothing to hold
      vmaStartWrite(c, mm, w);
      vmaSetField(c, mm, w, VMA_PGOFF, c.i32[w + VMA_PGOFF]);
      mmapWriteUnlock(c, mm);
      const got = decodeViolations(c.t.arena);
      expect(got.map((x) => x.kind)).toEqual(['lock-not-held']);
      expect(got[0].args.caller).toBe(AH_VMA_SET_RANGE);
    });

    it('exit_mmap tears everything down: no folio, page table, VMA or anon_vma is left', () => {
      const { c, mm } = makeModel({ era });
      doMmap(c, mm, 0, 200, { flags: RW });
      for (let a = 0; a < 200; a += 3) userAccess(c, mm, a, true, a);
      const child = dupMmap(c, mm);
      userAccess(c, child, 9, true, 1);
      expect(c.i32[mm + MM_MT]).not.toBe(0);
      teardown(c, [mm, child]);
    });
  });
}

describe('E3 SLAB_TYPESAFE_BY_RCU', () => {
  it('a VMA freed by one mm and reused by another fails a stale reader\'s vm_mm check', () => {
    const { c, mm } = makeModel({ era: 3 });
    doMmap(c, mm, 0, 8, { flags: RW });
    const stale = vmaAt(c, mm, 0);
    doMunmap(c, mm, 0, 8);
    // The object goes straight back to the slab; a new mm's mmap gets it.
    const other = mmAlloc(c);
    expect(doMmap(c, other, 0, 8, { flags: RW })).toBe(0);
    expect(vmaAt(c, other, 0)).toBe(stale);
    // A reader of the first mm that found `stale` before the reuse:
    expect(vmaStartRead(c, mm, stale)).toBe(VMA_READ_FAIL);
    expect(heldLocks(c.t.arena, 0)).toEqual([]);
    expect(c.i32[stale + VMA_REFCNT]).toBe(1); // vm_refcnt back to "attached, no readers"
    expect(c.mmPins[c.mmSlot(other)]).toBe(0); // the other mm was grabbed around the put, then dropped
    assertClean(c);
    teardown(c, [mm, other]);
  });

  it('dropping that reference without mmgrab() of the other mm is reported (mm-not-pinned), whether or not a writer waits', () => {
    const { c, mm } = makeModel({ era: 3 }, 2, ['b3-foreign-mm-no-grab']);
    doMmap(c, mm, 0, 8, { flags: RW });
    const stale = vmaAt(c, mm, 0);
    doMunmap(c, mm, 0, 8);
    const other = mmAlloc(c);
    expect(doMmap(c, other, 0, 8, { flags: RW })).toBe(0);
    expect(vmaStartRead(c, mm, stale)).toBe(VMA_READ_FAIL);
    const v = decodeViolations(c.t.arena);
    expect(v.map((x) => x.kind)).toEqual(['mm-not-pinned']);
    expect(v[0].obj).toBe(other);
  });
});

describe('the TLB', () => {
  it('a write-protect that is not flushed leaves the old writable translation in use; the flush of its range ends it', () => {
    const { c, mm } = makeModel();
    doMmap(c, mm, 0, 8, { flags: RW });
    expect(userAccess(c, mm, 3, true, 5)).toBe(5); // fault, then the translation is cached writable
    const faults = ctr(c, MC_FAULTS);
    const table = pteTable(c, mm, 3);
    const p = ptep(table, 3);
    const f = pteFolio(c.i32[p]);
    pteLock(c, table);
    setPte(c, table, p, c.i32[p] & ~PTE_WRITE); // as a write-protect without its flush
    pteUnlock(c, table);
    expect(userAccess(c, mm, 3, true, 6)).toBe(6);
    expect(ctr(c, MC_FAULTS)).toBe(faults); // no fault: the stale writable entry was used
    expect(c.i32[f + F_CONTENT]).toBe(6);
    flushTlbMm(c, mm, 3);
    expect(userAccess(c, mm, 3, true, 7)).toBe(7);
    expect(ctr(c, MC_FAULTS)).toBe(faults + 1); // the write-protect fault the flush made visible
    settle(c);
    assertClean(c);
    teardown(c, [mm]);
  });
});

describe('E3 madvise(MADV_DONTNEED) under the VMA lock (6.16)', () => {
  it('zaps a range inside one VMA under its read lock while mmap_lock is held for write; a range across VMAs falls back', () => {
    const { c, mm } = makeModel({ era: 3 });
    doMmap(c, mm, 0, 8, { flags: RW });
    doMmap(c, mm, 8, 8, { flags: VM_READ });
    userAccess(c, mm, 3, true, 33);
    mmapWriteLock(c, mm); // a writer that has not write-locked this VMA does not stop the zap
    expect(doMadviseDontneed(c, mm, 2, 4)).toBe(0);
    mmapWriteUnlock(c, mm);
    expect(pteGet(c, mm, 3)).toBe(0);
    expect(heldLocks(c.t.arena, 0)).toEqual([]);
    userAccess(c, mm, 3, true, 34);
    expect(doMadviseDontneed(c, mm, 0, 16)).toBe(0); // two VMAs: mmap_lock for read
    expect(pteGet(c, mm, 3)).toBe(0);
    assertClean(c);
    teardown(c, [mm]);
  });
});

describe('free_pgtables oracle', () => {
  it('a fault that lands in a range munmap has already zapped is reported when the table is freed (pgtable-free-in-use)', () => {
    // The race, one step at a time: a fault holds the VMA read lock; munmap
    // (switched to skip vma_start_write) detaches, zaps and frees without
    // waiting; the fault then installs its PTE where no VMA is any more.
    const { c, c1, mm, arena } = makeModel({ era: 1 }, 2, ['detach-without-write-lock']);
    expect(doMmap(c, mm, 100, 10, { flags: RW, merge: false })).toBe(0);
    const v = lockVmaUnderRcu(c, mm, 105);
    expect(v).toBeGreaterThan(0);
    expect(doMunmap(c1, mm, 100, 10)).toBe(0);
    const r = handleMmFault(c, mm, v, 105, FAULT_FLAG_DEFAULT | FAULT_FLAG_USER | FAULT_FLAG_WRITE | FAULT_FLAG_VMA_LOCK);
    expect(r & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)).toBe(0);
    vmaEndRead(c, v);
    expect(pteGet(c, mm, 105) & PTE_PRESENT).toBe(PTE_PRESENT);
    expect(decodeViolations(arena).map((x) => x.kind)).not.toContain('pgtable-free-in-use');
    // The next unmap in that table frees it: the oracle sees the stray entry.
    expect(doMmap(c1, mm, 120, 4, { flags: RW, merge: false })).toBe(0);
    expect(doMunmap(c1, mm, 120, 4)).toBe(0);
    const found = decodeViolations(arena).filter((x) => x.kind === 'pgtable-free-in-use');
    expect(found.length).toBe(1);
    expect(found[0].args.addr).toBe(105);
  });

  it('a clean munmap after faults frees its tables without a report', () => {
    const { c, mm } = makeModel({ era: 1 });
    expect(doMmap(c, mm, 100, 10, { flags: RW, merge: false })).toBe(0);
    for (let a = 100; a < 110; a++) expect(userAccess(c, mm, a, true, a)).toBe(a);
    expect(doMunmap(c, mm, 100, 10)).toBe(0);
    expect(pteTable(c, mm, 100)).toBe(0);
    assertClean(c);
    teardown(c, [mm]);
  });
});
