import { snapStart, snapEnd, snapVma, mtSnapshot } from '../mm/tree.js';
import type { MmCtx } from '../mm/model.js';
import { slabInUse, slabLive, slabObjects, OBJ_LIVE } from '../mm/slab.js';
import { pteFolio, pteSwapFolio } from '../mm/pgtable.js';
import { linearPageIndex } from '../mm/folio.js';
import { anonVmaChainHas } from '../mm/rmap.js';
import { vmaIsAttached } from '../mm/mmap_lock.js';
import { rwsemWriteOwner } from '../sync/rwsem.js';
import {
  MM_USERS, MM_PGD, MM_MAP_COUNT, PT_MM, PT_ENTRIES, PTRS_PER_PTE, PTE_PRESENT, PTE_SWAP, F_MAPCOUNT, F_REF,
  F_PINCOUNT, F_FLAGS, F_ANON_VMA, F_SWAPCOUNT, F_MAPPING, PG_ZERO, PG_ANON, PG_SWAPCACHE, VMA_ANON_VMA, VMA_MM, VMA_PGOFF, F_INDEX, VMA_AVC, AVC_VMA, AVC_AV, AVC_SAME_NEXT, AVC_NEXT, AV_HEAD,
  OBJ_STATE, GUP_PIN_COUNTING_BIAS, FILE_PAGES, MM_MMAP_LOCK, MM_LOCK_SEQ, VMA_LOCK_SEQ,
} from '../mm/layout.js';

/**
 * Quiescent address-space invariants (run with every actor parked, or at
 * the end): the checks a kernel developer would write as VM_BUG_ONs over a
 * stopped machine. Each problem names the invariant and the objects.
 */
export interface Problem {
  kind: 'pte-outside-vma' | 'pte-table-owner' | 'mapcount' | 'refcount' | 'rmap-walk-miss' | 'anon-vma-freed' | 'swapcount' | 'map-count' | 'leak' | 'vma-write-locked' | 'vma-detached-in-tree';
  detail: string;
  obj: number;
}

export function checkAddressSpaces(c: MmCtx): Problem[] {
  const i32 = c.i32;
  const out: Problem[] = [];
  const maps = new Map<number, number>(); // folio -> PTEs mapping it
  const swaps = new Map<number, number>(); // folio -> swap PTEs referring to it
  const s = new Int32Array(c.maxVmas * 3 + 3);
  for (let k = 0; k < c.maxMms; k++) {
    const mm = c.mm(k);
    if (Atomics.load(i32, mm + MM_USERS) === 0) continue;
    const n = mtSnapshot(c, mm, s);
    if (i32[mm + MM_MAP_COUNT] !== n) out.push({ kind: 'map-count', detail: `mm ${k}: map_count ${i32[mm + MM_MAP_COUNT]} but ${n} VMAs in the tree`, obj: mm });
    // With no mmap writer, every VMA's write mark must have ended (vma_end_write_all),
    // and every VMA in the tree must be attached.
    if (rwsemWriteOwner(i32, mm + MM_MMAP_LOCK) < 0) {
      const seq = Atomics.load(i32, mm + MM_LOCK_SEQ);
      for (let j = 0; j < n; j++) {
        const v = snapVma(s, j);
        if (Atomics.load(i32, v + VMA_LOCK_SEQ) === seq) out.push({ kind: 'vma-write-locked', detail: `mm ${k}: VMA @${v} [${snapStart(s, j)}, ${snapEnd(s, j)}) still write-locked (vm_lock_seq ${seq}) with no mmap writer`, obj: v });
        if (!vmaIsAttached(c, v)) out.push({ kind: 'vma-detached-in-tree', detail: `mm ${k}: VMA @${v} is in the tree but detached`, obj: v });
      }
    }
    const vmaAt = (addr: number): number => {
      for (let j = 0; j < n; j++) if (addr >= snapStart(s, j) && addr < snapEnd(s, j)) return snapVma(s, j);
      return -1;
    };
    for (let j = 0; j < n; j++) {
      const v = snapVma(s, j);
      const p = chainProblem(c, k, v);
      if (p) out.push(p);
    }
    const pgd = i32[mm + MM_PGD];
    for (let e = 0; e < c.mmPages / PTRS_PER_PTE; e++) {
      const t1 = Atomics.load(i32, pgd + e);
      if (t1 === 0) continue;
      const table = t1 - 1;
      if (i32[table + PT_MM] !== mm + 1) out.push({ kind: 'pte-table-owner', detail: `mm ${k}: PTE table @${table} belongs to mm slot ${c.mmSlot(i32[table + PT_MM] - 1)}`, obj: table });
      for (let x = 0; x < PTRS_PER_PTE; x++) {
        const pte = Atomics.load(i32, table + PT_ENTRIES + x);
        if (pte === 0) continue;
        const addr = e * PTRS_PER_PTE + x;
        const vma = vmaAt(addr);
        if ((pte & PTE_PRESENT) !== 0) {
          const f = pteFolio(pte);
          if (vma < 0) out.push({ kind: 'pte-outside-vma', detail: `mm ${k}: present PTE at page ${addr} (folio @${f}) lies in no VMA`, obj: f });
          if ((i32[f + F_FLAGS] & PG_ZERO) !== 0) continue;
          maps.set(f, (maps.get(f) ?? 0) + 1);
          if (vma >= 0 && (i32[f + F_FLAGS] & PG_ANON) !== 0) {
            const p = rmapReaches(c, k, vma, f, addr);
            if (p) out.push(p);
          }
        } else if ((pte & PTE_SWAP) !== 0) {
          const f = pteSwapFolio(pte);
          if (vma < 0) out.push({ kind: 'pte-outside-vma', detail: `mm ${k}: swap PTE at page ${addr} lies in no VMA`, obj: f });
          swaps.set(f, (swaps.get(f) ?? 0) + 1);
        }
        if (vma >= 0 && i32[vma + VMA_MM] !== mm + 1) out.push({ kind: 'pte-outside-vma', detail: `mm ${k}: VMA @${vma} in the tree belongs to another mm`, obj: vma });
      }
    }
  }
  // Page-cache references.
  const cached = new Set<number>();
  for (let k = 0; k < c.nfiles; k++) {
    const file = c.file(k);
    for (let p = 0; p < c.filePages; p++) {
      const f1 = i32[file + FILE_PAGES + p];
      if (f1 !== 0) cached.add(f1 - 1);
    }
  }
  const fo = slabObjects(i32, c.folioSlab);
  for (let k = 0; k < fo.cap; k++) {
    const f = fo.base + k * fo.words;
    if (i32[f + OBJ_STATE] !== OBJ_LIVE || (i32[f + F_FLAGS] & PG_ZERO) !== 0) continue;
    const mapped = maps.get(f) ?? 0;
    const mc = i32[f + F_MAPCOUNT];
    if (mc !== mapped) out.push({ kind: 'mapcount', detail: `folio @${f}: mapcount ${mc} but ${mapped} PTEs map it`, obj: f });
    const swapped = swaps.get(f) ?? 0;
    const swapcache = (i32[f + F_FLAGS] & PG_SWAPCACHE) !== 0 ? 1 : 0;
    if (swapcache && i32[f + F_SWAPCOUNT] !== swapped) out.push({ kind: 'swapcount', detail: `folio @${f}: swap count ${i32[f + F_SWAPCOUNT]} but ${swapped} swap PTEs`, obj: f });
    const expected = mapped + swapcache + (cached.has(f) ? 1 : 0) + i32[f + F_PINCOUNT] * GUP_PIN_COUNTING_BIAS;
    if (i32[f + F_REF] !== expected) out.push({ kind: 'refcount', detail: `folio @${f}: refcount ${i32[f + F_REF]}, expected ${expected} (maps ${mapped}, swapcache ${swapcache}, pins ${i32[f + F_PINCOUNT]}${cached.has(f) ? ', page cache 1' : ''})`, obj: f });
    // A folio only the swap cache holds is reclaimable, not leaked (a
    // free_swap_and_cache() whose trylock lost leaves it for reclaim).
    if (mapped === 0 && swapped === 0 && !swapcache && !cached.has(f) && i32[f + F_PINCOUNT] === 0) out.push({ kind: 'leak', detail: `folio @${f} is allocated but unreachable`, obj: f });
  }
  void F_MAPPING;
  return out;
}

/**
 * A VMA's anon_vma_chain: its own anon_vma among the links, every linked
 * anon_vma alive, and every link on its anon_vma's list (where the rmap
 * walk finds the VMA) naming this VMA.
 */
function chainProblem(c: MmCtx, k: number, v: number): Problem | null {
  const i32 = c.i32;
  const own = i32[v + VMA_ANON_VMA];
  let sawOwn = own === 0;
  for (let a = i32[v + VMA_AVC], d = 0; a !== 0 && d < 1024; a = i32[a - 1 + AVC_SAME_NEXT], d++) {
    const avc = a - 1;
    const av = i32[avc + AVC_AV] - 1;
    if (i32[avc + OBJ_STATE] !== OBJ_LIVE || i32[avc + AVC_VMA] !== v + 1) return { kind: 'rmap-walk-miss', detail: `mm ${k}: VMA @${v}'s anon_vma_chain @${avc} is ${i32[avc + OBJ_STATE] !== OBJ_LIVE ? 'freed' : `another VMA's (@${i32[avc + AVC_VMA] - 1})`}`, obj: v };
    if (i32[av + OBJ_STATE] !== OBJ_LIVE) return { kind: 'anon-vma-freed', detail: `mm ${k}: VMA @${v} links anon_vma @${av}, which is ${i32[av + OBJ_STATE] === 0 ? 'free' : 'RCU-freed'}`, obj: av };
    let onList = false;
    for (let b = i32[av + AV_HEAD], e = 0; b !== 0 && e < 1 << 16; b = i32[b - 1 + AVC_NEXT], e++) {
      if (b === a) {
        onList = true;
        break;
      }
    }
    if (!onList) return { kind: 'rmap-walk-miss', detail: `mm ${k}: VMA @${v} links anon_vma @${av} through chain @${avc}, which is not on the anon_vma's list: rmap walks never visit the VMA`, obj: v };
    if (av + 1 === own) sawOwn = true;
  }
  if (!sawOwn) return { kind: 'rmap-walk-miss', detail: `mm ${k}: VMA @${v}'s anon_vma @${own - 1} is not on its own anon_vma_chain`, obj: v };
  return null;
}

/**
 * What an rmap walk (rmap_walk_anon: the folio's anon_vma, its interval tree
 * of VMAs, vma_address from folio->index) needs to find the mapping of anon
 * folio `f` at `addr` in `vma`: the folio's anon_vma alive, linked by the
 * VMA's chain, and the folio's index the one the VMA maps at `addr`. A
 * mapping that fails any of these is invisible to reclaim, migration and
 * KSM: they would unmap, move or merge the folio and leave this PTE behind.
 */
function rmapReaches(c: MmCtx, k: number, vma: number, f: number, addr: number): Problem | null {
  const i32 = c.i32;
  const av1 = i32[f + F_ANON_VMA];
  if (av1 === 0) return { kind: 'rmap-walk-miss', detail: `mm ${k}: anon folio @${f} mapped at page ${addr} has no anon_vma`, obj: f };
  if (i32[av1 - 1 + OBJ_STATE] !== OBJ_LIVE) return { kind: 'anon-vma-freed', detail: `mm ${k}: folio @${f} mapped at page ${addr} points to anon_vma @${av1 - 1}, which is freed`, obj: av1 - 1 };
  if (!anonVmaChainHas(c, vma, av1 - 1)) {
    return { kind: 'rmap-walk-miss', detail: `mm ${k}: folio @${f} at page ${addr} belongs to anon_vma @${av1 - 1}, which VMA @${vma}'s anon_vma_chain (own anon_vma @${i32[vma + VMA_ANON_VMA] - 1}) does not link: rmap cannot reach this mapping`, obj: f };
  }
  const want = linearPageIndex(c, vma, addr);
  if (i32[f + F_INDEX] !== want) {
    return { kind: 'rmap-walk-miss', detail: `mm ${k}: folio @${f} at page ${addr} has index ${i32[f + F_INDEX]}, but VMA @${vma} (vm_pgoff ${i32[vma + VMA_PGOFF]}) maps index ${want} there: rmap looks for it at another address`, obj: f };
  }
  return null;
}

/**
 * Teardown check: with every mm exited and RCU callbacks run, nothing but the
 * zero page and page-cache folios may remain allocated.
 */
export function checkNoLeaks(c: MmCtx): Problem[] {
  const i32 = c.i32;
  const out: Problem[] = [];
  let cached = 0;
  for (let k = 0; k < c.nfiles; k++) for (let p = 0; p < c.filePages; p++) if (i32[c.file(k) + FILE_PAGES + p] !== 0) cached++;
  const folios = slabLive(i32, c.folioSlab) - 1 - cached;
  if (folios !== 0) out.push({ kind: 'leak', detail: `${folios} folios still allocated after teardown`, obj: 0 });
  for (const [name, slab] of [['vm_area_struct', c.vmaSlab], ['PTE table', c.ptSlab], ['anon_vma', c.avSlab], ['anon_vma_chain', c.avcSlab], ['maple node', c.nodeSlab]] as const) {
    const n = slabInUse(i32, slab);
    if (n !== 0) out.push({ kind: 'leak', detail: `${n} ${name} objects still allocated after teardown`, obj: slab });
  }
  return out;
}
