import type { Arena } from '../shm/arena.js';
import {
  MH_MAGIC, MODEL_MAGIC, MH_MM_BASE, MH_MAX_MMS, MH_MM_WORDS, MH_VMA_SLAB, MH_NODE_SLAB, MH_PT_SLAB, MH_FOLIO_SLAB, MH_AV_SLAB, MH_AVC_SLAB,
  MM_MMAP_LOCK, MM_PGD_BASE, VMA_LOCK, VMA_ALLOC_TID, VMA_FREE_TID, OBJ_GEN, OBJ_STATE,
} from '../mm/layout.js';
import { slabObjects } from '../mm/slab.js';
import { SL_LOCK } from '../mm/layout.js';
import { RW_WORDS } from '../shm/layout.js';

/*
 * Names for arena addresses in reports, as a kernel developer reads them:
 * mm#1, mm#1->mmap_lock, vma#12, vma#12->vm_lock, folio#88, anon_vma#3;
 * and the object an address belongs to, so a report's event tail can pick
 * the events that touched the objects of the violation.
 */

export interface NamedObject {
  /** The object's first word (the identity used to match events). */
  base: number;
  kind: 'mm' | 'vma' | 'maple_node' | 'pte_table' | 'folio' | 'anon_vma' | 'anon_vma_chain';
  index: number;
  /** The field the address points at, when it is a named one (mmap_lock, vm_lock). */
  field: string | null;
}

export interface ObjectNamer {
  objectOf(addr: number): NamedObject | null;
  name(addr: number): string;
  /** Object state now: allocation generation, and for a VMA the tasks that allocated and freed it last. */
  describe(addr: number): string | null;
  vmaTasks(addr: number): { alloc: number; free: number } | null;
}

const SLABS: [number, NamedObject['kind']][] = [
  [MH_VMA_SLAB, 'vma'], [MH_NODE_SLAB, 'maple_node'], [MH_PT_SLAB, 'pte_table'], [MH_FOLIO_SLAB, 'folio'], [MH_AV_SLAB, 'anon_vma'], [MH_AVC_SLAB, 'anon_vma_chain'],
];

/** The namer of an arena; for arenas without the mm model every address is @N. */
export function objectNamer(arena: Arena): ObjectNamer {
  const i32 = arena.i32;
  const mb = arena.scenBase;
  const hasModel = mb > 0 && mb + MH_AVC_SLAB < i32.length && i32[mb + MH_MAGIC] === MODEL_MAGIC;
  const ranges: { lo: number; hi: number; words: number; kind: NamedObject['kind'] }[] = [];
  /** The slabs' own locks (kmem_cache's), by address. */
  const slabLocks = new Map<number, string>();
  if (hasModel) {
    const mmBase = i32[mb + MH_MM_BASE];
    const mw = i32[mb + MH_MM_WORDS];
    ranges.push({ lo: mmBase, hi: mmBase + i32[mb + MH_MAX_MMS] * mw, words: mw, kind: 'mm' });
    for (const [hw, kind] of SLABS) {
      const slab = i32[mb + hw];
      if (!slab) continue;
      slabLocks.set(slab + SL_LOCK, `${kind}_cache->lock`);
      const o = slabObjects(i32, slab);
      ranges.push({ lo: o.base, hi: o.base + o.cap * o.words, words: o.words, kind });
    }
  }
  const objectOf = (addr: number): NamedObject | null => {
    for (const r of ranges) {
      if (addr < r.lo || addr >= r.hi) continue;
      const index = Math.floor((addr - r.lo) / r.words);
      const base = r.lo + index * r.words;
      const off = addr - base;
      let field: string | null = null;
      if (r.kind === 'mm' && off >= MM_MMAP_LOCK && off < MM_MMAP_LOCK + RW_WORDS) field = 'mmap_lock';
      else if (r.kind === 'mm' && off >= MM_PGD_BASE) field = 'pgd';
      else if (r.kind === 'vma' && off >= VMA_LOCK && off < VMA_LOCK + RW_WORDS) field = 'vm_lock';
      return { base, kind: r.kind, index, field };
    }
    return null;
  };
  const name = (addr: number): string => {
    const o = objectOf(addr);
    if (!o) return slabLocks.get(addr) ?? `@${addr}`;
    return `${o.kind}#${o.index}${o.field ? `->${o.field}` : ''}`;
  };
  return {
    objectOf,
    name,
    describe(addr) {
      const o = objectOf(addr);
      if (!o || o.kind === 'mm') return null;
      const state = ['free', 'allocated', 'freed, waiting for an RCU grace period'][i32[o.base + OBJ_STATE]] ?? `state ${i32[o.base + OBJ_STATE]}`;
      return `${o.kind}#${o.index}: ${state}, allocation generation ${i32[o.base + OBJ_GEN]}`;
    },
    vmaTasks(addr) {
      const o = objectOf(addr);
      if (!o || o.kind !== 'vma') return null;
      return { alloc: i32[o.base + VMA_ALLOC_TID], free: i32[o.base + VMA_FREE_TID] };
    },
  };
}
