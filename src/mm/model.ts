import { TLB_ENTRIES, TLB_WORDS } from './tlb.js';
import type { Arena } from '../shm/arena.js';
import type { Task } from '../shm/task.js';
import { initRwsem } from '../sync/rwsem.js';
import { LC_MMAP_LOCK } from '../sync/lockclass.js';
import type { RcuCallbackFn } from '../sync/rcu.js';
import {
  MH_MAGIC, MH_MM_PAGES, MH_MAX_MMS, MH_MM_BASE, MH_VMA_SLAB, MH_NODE_SLAB, MH_PT_SLAB, MH_FOLIO_SLAB, MH_AV_SLAB, MH_AVC_SLAB, AVC_WORDS,
  MH_MAX_VMAS, MH_ERA, MH_PER_VMA, MH_ZERO_FOLIO, MH_FILE_BASE, MH_NFILES, MH_FILE_PAGES, MH_MM_WORDS, MH_NODE_WORDS,
  MH_WORDS, MH_END, MODEL_MAGIC, PTRS_PER_PTE, MM_PGD_BASE, VMA_WORDS, PT_WORDS, FOLIO_WORDS, FOLIO_SIZE, AV_WORDS, ND_ENTRIES,
  ND_ENTRY_WORDS, MM_MMAP_LOCK, MM_ID, MM_PGD, F_FLAGS, F_REF, PG_ZERO, PG_UPTODATE, FILE_PAGES,
} from './layout.js';
import { slabInit, slabWords, kmemCacheAlloc, slabFreeNow, CB_SLAB_FREE } from './slab.js';

import { ERA_E1, ERA_E2, ERA_E3, type Era, type VmaLockOps } from './era.js';
import { VMA_LOCK_E1, VMA_LOCK_E2 } from './vma_lock_rwsem.js';
import { VMA_LOCK_E3 } from './vma_lock_refcnt.js';

export { ERA_E1, ERA_E2, ERA_E3, type Era };

/** The per-VMA lock implementation of each era. */
export function vmaLockOps(era: Era): VmaLockOps {
  if (era === ERA_E1) return VMA_LOCK_E1;
  if (era === ERA_E2) return VMA_LOCK_E2;
  if (era === ERA_E3) return VMA_LOCK_E3;
  throw new Error(`mm model: no era ${String(era)}`);
}

export interface ModelConfig {
  era: Era;
  perVmaLock: boolean;
  /** Address-space size in pages (power of two, multiple of PTRS_PER_PTE). */
  mmPages: number;
  maxMms: number;
  /** VMA index capacity per mm (the largest map_count). */
  maxVmasPerMm: number;
  vmas: number;
  nodes: number;
  pageTables: number;
  folios: number;
  anonVmas: number;
  files: number;
  filePages: number;
}

export const DEFAULT_MODEL: ModelConfig = {
  era: 1, perVmaLock: true, mmPages: 1024, maxMms: 8, maxVmasPerMm: 48, vmas: 512, nodes: 1024,
  pageTables: 512, folios: 8192, anonVmas: 512, files: 4, filePages: 256,
};

/**
 * The model's default sizes for a run of `threads` threads: DEFAULT_MODEL,
 * grown so that every thread can own its share (a page-fault region of up to
 * 64 pages plus a gap, a VMA, folios for its pages and page tables for its
 * region) whatever the thread count. Flags the user gives override these.
 */
export function modelDefaults(threads: number): ModelConfig {
  const n = Math.max(1, threads);
  let mmPages = DEFAULT_MODEL.mmPages;
  while (mmPages < n * 128 + 128) mmPages *= 2;
  const vmasPerMm = Math.max(DEFAULT_MODEL.maxVmasPerMm, n + 32);
  return {
    ...DEFAULT_MODEL,
    mmPages,
    maxVmasPerMm: vmasPerMm,
    vmas: Math.max(DEFAULT_MODEL.vmas, 2 * n + 256),
    nodes: Math.max(DEFAULT_MODEL.nodes, 4 * n),
    pageTables: Math.max(DEFAULT_MODEL.pageTables, 4 * n + 64),
    folios: Math.max(DEFAULT_MODEL.folios, 128 * n + 2048),
    anonVmas: Math.max(DEFAULT_MODEL.anonVmas, 2 * n + 256),
  };
}

function round16(n: number): number {
  return Math.ceil(n / 16) * 16;
}

function mmWords(mmPages: number): number {
  return round16(MM_PGD_BASE + 2 * (mmPages / PTRS_PER_PTE)); // the top-level table, then a TLB generation per PTE table (tlb.ts)
}

function nodeWords(maxVmas: number): number {
  return round16(ND_ENTRIES + maxVmas * ND_ENTRY_WORDS);
}

function fileWords(filePages: number): number {
  return round16(FILE_PAGES + filePages);
}

/**
 * anon_vma_chain slab size: every VMA with an anon_vma links its own and
 * each ancestor's (fork depth); four links per VMA covers the deepest chains
 * the scenarios build (a fork's child: two) with room for a VMA being split.
 */
function avcCap(c: ModelConfig): number {
  return 4 * c.vmas + 256;
}

/** Words the model needs for `c` (placed first in the scenario region). */
export function modelWords(c: ModelConfig): number {
  return 16 + MH_WORDS + c.maxMms * mmWords(c.mmPages) + slabWords(c.vmas, VMA_WORDS) +
    slabWords(c.nodes, nodeWords(c.maxVmasPerMm)) + slabWords(c.pageTables, PT_WORDS) +
    slabWords(c.folios, FOLIO_WORDS) + slabWords(c.anonVmas, AV_WORDS) + slabWords(avcCap(c), AVC_WORDS) +
    c.files * fileWords(c.filePages);
}

/**
 * Lay out the model at `base` (main thread): the mm records, the slabs, the
 * zero page and the shmem files. Returns the base.
 */
export function modelInit(arena: Arena, base: number, c: ModelConfig): number {
  if ((c.mmPages & (c.mmPages - 1)) !== 0 || c.mmPages < PTRS_PER_PTE) throw new Error(`mmPages must be a power of two >= ${PTRS_PER_PTE}`);
  const i32 = arena.i32;
  let at = base + MH_WORDS;
  const h = (k: number, v: number) => {
    i32[base + k] = v;
  };
  h(MH_MAGIC, MODEL_MAGIC);
  h(MH_MM_PAGES, c.mmPages);
  h(MH_MAX_MMS, c.maxMms);
  h(MH_MAX_VMAS, c.maxVmasPerMm);
  h(MH_ERA, c.era);
  h(MH_PER_VMA, c.perVmaLock ? 1 : 0);
  const mw = mmWords(c.mmPages);
  h(MH_MM_WORDS, mw);
  h(MH_MM_BASE, at);
  for (let k = 0; k < c.maxMms; k++) {
    const mm = at + k * mw;
    i32[mm + MM_ID] = k;
    i32[mm + MM_PGD] = mm + MM_PGD_BASE;
    initRwsem(i32, mm + MM_MMAP_LOCK, LC_MMAP_LOCK);
  }
  at += c.maxMms * mw;
  /** Lay a slab out at `at`, record its base in header word `hw`, advance. */
  const slab = (hw: number, cap: number, words: number, typesafe: boolean, preserve = -1, size = words) => {
    h(hw, at);
    slabInit(i32, at, cap, words, typesafe, preserve, size);
    at += slabWords(cap, words);
  };
  // E3: SLAB_TYPESAFE_BY_RCU (vm_refcnt survives reuse); E1/E2: freed through call_rcu.
  const vl = vmaLockOps(c.era);
  slab(MH_VMA_SLAB, c.vmas, VMA_WORDS, vl.typesafeSlab, vl.typesafeSlab ? vl.lockWord : -1);
  const nw = nodeWords(c.maxVmasPerMm);
  h(MH_NODE_WORDS, nw);
  slab(MH_NODE_SLAB, c.nodes, nw, false);
  slab(MH_PT_SLAB, c.pageTables, PT_WORDS, false);
  slab(MH_FOLIO_SLAB, c.folios, FOLIO_WORDS, false, -1, FOLIO_SIZE);
  slab(MH_AV_SLAB, c.anonVmas, AV_WORDS, false);
  slab(MH_AVC_SLAB, avcCap(c), AVC_WORDS, false);
  h(MH_FILE_BASE, at);
  h(MH_NFILES, c.files);
  h(MH_FILE_PAGES, c.filePages);
  at += c.files * fileWords(c.filePages);
  if (at - base > modelWords(c)) throw new Error('mm model: layout overflow');
  h(MH_END, round16(modelWords(c)));
  return base;
}

/**
 * Per-thread handle on the model: the Task plus every base the operations
 * need, read once from the model header.
 */
export class MmCtx {
  readonly t: Task;
  readonly i32: Int32Array;
  readonly base: number;
  readonly era: Era;
  /** The era's per-VMA lock, chosen once. */
  readonly vl: VmaLockOps;
  readonly perVma: boolean;
  readonly mmPages: number;
  readonly maxMms: number;
  readonly mmBase: number;
  readonly mmStride: number;
  readonly vmaSlab: number;
  readonly nodeSlab: number;
  readonly nodeWords: number;
  readonly ptSlab: number;
  readonly folioSlab: number;
  readonly avSlab: number;
  readonly avcSlab: number;
  readonly maxVmas: number;
  readonly fileBase: number;
  readonly nfiles: number;
  readonly filePages: number;
  readonly fileStride: number;
  /** The RCU callback handler for the model's deferred frees. */
  readonly rcuFn: RcuCallbackFn;
  /** Scratch for operations (pre-allocated; no allocation per op). */
  readonly scratch: Int32Array;
  readonly scratch2: Int32Array;
  /**
   * Writer-path lists reused by every call on this thread (no allocation
   * per operation): preallocated VMAs of a split, VMAs a merge detached,
   * VMAs munmap or exit_mmap tore down. Each is emptied by its user first.
   */
  readonly spareVmas: number[] = [];
  readonly deadVmas: number[] = [];
  readonly victimVmas: number[] = [];
  /** anon_vma_chains preallocated for the splits of one operation (anon_vma_clone cannot fail half way). */
  readonly spareAvcs: number[] = [];
  /**
   * The mm_structs this thread holds an mmgrab() on, per mm slot (its own
   * bookkeeping, like lockdep's held-lock stack): an mm reached through an
   * object another mm owns must be pinned by the thread that uses it
   * (mmAssertPinned).
   */
  readonly mmPins: Int32Array;
  /**
   * This thread's TLB (tlb.ts): TLB_ENTRIES translations, TLB_WORDS each,
   * direct-mapped by address; thread-local, as a CPU's is.
   */
  readonly tlb: Int32Array;
  /** mmapWriteBegin()'s snapshot: the number of entries it left in scratch. */
  snapN = 0;
  /** splitEdges() results: first and last snapshot entries inside the range. */
  edgeFirst = 0;
  edgeLast = 0;

  constructor(t: Task, base: number) {
    const i32 = t.i32;
    if (i32[base + MH_MAGIC] !== MODEL_MAGIC) throw new Error('mm model: bad magic');
    this.t = t;
    this.i32 = i32;
    this.base = base;
    this.era = i32[base + MH_ERA] as Era;
    this.vl = vmaLockOps(this.era);
    this.perVma = i32[base + MH_PER_VMA] !== 0;
    this.mmPages = i32[base + MH_MM_PAGES];
    this.maxMms = i32[base + MH_MAX_MMS];
    this.mmBase = i32[base + MH_MM_BASE];
    this.mmStride = i32[base + MH_MM_WORDS];
    this.vmaSlab = i32[base + MH_VMA_SLAB];
    this.nodeSlab = i32[base + MH_NODE_SLAB];
    this.nodeWords = i32[base + MH_NODE_WORDS];
    this.ptSlab = i32[base + MH_PT_SLAB];
    this.folioSlab = i32[base + MH_FOLIO_SLAB];
    this.avSlab = i32[base + MH_AV_SLAB];
    this.avcSlab = i32[base + MH_AVC_SLAB];
    this.maxVmas = i32[base + MH_MAX_VMAS];
    this.fileBase = i32[base + MH_FILE_BASE];
    this.nfiles = i32[base + MH_NFILES];
    this.filePages = i32[base + MH_FILE_PAGES];
    this.fileStride = fileWords(this.filePages);
    this.scratch = new Int32Array(this.maxVmas * 4 + 16);
    this.mmPins = new Int32Array(this.maxMms);
    this.tlb = new Int32Array(TLB_ENTRIES * TLB_WORDS);
    this.scratch2 = new Int32Array(this.maxVmas * 4 + 16);
    this.rcuFn = (tt, kind, a0, a1) => {
      if (kind === CB_SLAB_FREE) slabFreeNow(tt, a0, a1);
    };
  }

  /** First word after the model: where a scenario's own state starts. */
  ownBase(): number {
    return this.base + this.i32[this.base + MH_END];
  }

  /** mm record of slot k. */
  mm(k: number): number {
    return this.mmBase + k * this.mmStride;
  }

  /** Slot of mm record `mm`. */
  mmSlot(mm: number): number {
    return ((mm - this.mmBase) / this.mmStride) | 0;
  }

  file(k: number): number {
    return this.fileBase + k * this.fileStride;
  }

  /** The shared zero page folio (allocated on first use by modelZeroPage). */
  zeroFolio(): number {
    return this.i32[this.base + MH_ZERO_FOLIO];
  }
}

/** Allocate the zero page (main-thread setup, with a Task for thread 0). */
export function modelSetupZeroPage(c: MmCtx): void {
  const f = kmemCacheAlloc(c.t, c.folioSlab);
  c.i32[f + F_FLAGS] = PG_ZERO | PG_UPTODATE;
  c.i32[f + F_REF] = 1;
  c.i32[c.base + MH_ZERO_FOLIO] = f;
}
