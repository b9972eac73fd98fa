/**
 * Record layouts of the mm model (include/linux/mm_types.h, regrouped into
 * cache lines as the 6.15 series did: fields written often never share a
 * 64-byte line with fields every fault reads; DESIGN.md rule 9).
 *
 * Addresses are page numbers. An address space spans MM_PAGES pages, page
 * tables have two levels: the mm's top-level table (one entry per
 * PTRS_PER_PTE pages) points at PTE tables, each with its own spinlock
 * (split PTE locks).
 */
import { RW_WORDS } from '../shm/layout.js';

export const PTRS_PER_PTE = 64;
export const PTE_SHIFT = 6;

// ---------------------------------------------------------------------------
// Model header (at the start of the model region): configuration and the
// bases of every slab, so a worker attaches from the arena alone.
// ---------------------------------------------------------------------------
export const MH_MAGIC = 0;
export const MH_MM_PAGES = 1; // pages per address space (power of two)
export const MH_MAX_MMS = 2;
export const MH_MM_BASE = 3;
export const MH_VMA_SLAB = 4; // slab header
export const MH_NODE_SLAB = 5;
export const MH_PT_SLAB = 6;
export const MH_FOLIO_SLAB = 7;
export const MH_AV_SLAB = 8;
export const MH_MAX_VMAS = 9; // per-mm VMA index capacity
export const MH_ERA = 10; // 1 = E1, 2 = E2, 3 = E3
export const MH_PER_VMA = 11; // 1 = per-VMA locking on
export const MH_ZERO_FOLIO = 12; // the shared zero page
export const MH_FILE_BASE = 13; // shmem files
export const MH_NFILES = 14;
export const MH_FILE_PAGES = 15;
export const MH_MM_WORDS = 16;
export const MH_NODE_WORDS = 17;
export const MH_END = 18; // words the model occupies (scenario words follow)
export const MH_AVC_SLAB = 19; // anon_vma_chain slab
export const MH_WORDS = 32;
export const MODEL_MAGIC = 0x6d6d6d31;

// ---------------------------------------------------------------------------
// Slab header: lock (own line), free-stack top, capacity, object words,
// objects base, free-stack base, typesafe-by-rcu flag.
// ---------------------------------------------------------------------------
export const SL_LOCK = 0;
export const SL_TOP = 16;
export const SL_CAP = 17;
export const SL_OBJ_WORDS = 18;
export const SL_OBJS = 19;
export const SL_STACK = 20;
export const SL_TYPESAFE = 21;
export const SL_ALLOCS = 22;
export const SL_FREES = 23;
export const SL_FAILS = 24;
export const SL_CLASS = 25; // slab id (for reports)
/** Object word the allocator must not clear (+1; 0 = none): E3's vm_refcnt in the SLAB_TYPESAFE_BY_RCU VMA cache. */
export const SL_PRESERVE = 26;
/** Head of the free ring (caches that are not SLAB_TYPESAFE_BY_RCU reuse the oldest free object: KASAN's quarantine). */
export const SL_HEAD = 27;
/** The object's size in words (its struct's sizeof): what kmem_cache_zalloc() clears; the slot is rounded up to whole cache lines (SL_OBJ_WORDS) and the padding is never written. */
export const SL_OBJ_SIZE = 28;
export const SL_WORDS = 32;
/** Every slab object starts with these two words. */
export const OBJ_GEN = 0; // bumped at every allocation (identity for oracles)
export const OBJ_STATE = 1; // 0 free, 1 allocated, 2 rcu-pending free

// ---------------------------------------------------------------------------
// mm_struct
// ---------------------------------------------------------------------------
/** Line 0: mmap_lock (rwsem), its own line. */
export const MM_MMAP_LOCK = 16; // after the slab's OBJ words line
/** Line 2 (read-mostly on the fault path). */
export const MM_MT = 32; // VMA index root (node index + 1; 0 = empty)
export const MM_LOCK_SEQ = 33; // E1: counter; E2/E3: seqcount
export const MM_WRITE_PROTECT_SEQ = 34;
export const MM_FLAGS = 35; // MMF_*
export const MM_ID = 36; // mm slot number (for reports)
export const MM_UFFD = 37; // userfaultfd ctx present (1) — registration state
export const MM_PGD = 38; // base word of the top-level table (inside this record)
/** Line 3: written by mmap writers / lifetime. */
export const MM_PAGE_TABLE_LOCK = 48;
export const MM_MAP_COUNT = 49;
export const MM_USERS = 50;
export const MM_COUNT = 51;
export const MM_WRITER_WAIT = 52; // rcuwait: waiting tid + 1 (E3 vma_writer_wait)
export const MM_NR_PTES = 53;
export const MM_UFFD_WQ = 54; // wait queue: faulters waiting for UFFDIO_COPY/WAKE
export const MM_UFFD_PENDING = 55; // messages queued
export const MM_MMAP_CHANGING = 56;
export const MM_PINNED = 57; // pages currently pinned via this mm
export const MM_WRITER_WAKER = 58; // the last reader whose vma_refcount_put() should wake the writer (tid + 1)
export const MM_RLIMIT_STACK = 59; // the owner's RLIMIT_STACK in pages (acct_stack_growth); fork inherits it
export const MM_ZAPPING = 60; // zap_pte_range() calls in flight in this mm, counted only with race windows on (the MMU walk's tlb-reach window opens only then)
/** Line 4..: the top-level table (one word per PTE table: table index + 1). */
export const MM_PGD_BASE = 64;

export const MMF_HAS_PINNED = 1 << 0;
export const MMF_EXITING = 1 << 1;

// ---------------------------------------------------------------------------
// vm_area_struct: three cache lines + one for the oracles' history.
// ---------------------------------------------------------------------------
/** Line 0 (read on every fault). */
export const VMA_START = 2;
export const VMA_END = 3;
export const VMA_PGOFF = 4;
export const VMA_MM = 5; // mm record index + 1 (0 = none)
export const VMA_FLAGS = 6;
export const VMA_ANON_VMA = 7; // anon_vma index + 1
export const VMA_FILE = 8; // shmem file + 1 (0 = anonymous)
export const VMA_UFFD = 9; // registered uffd modes (VM_UFFD_MISSING | VM_UFFD_WP)
/** vma->anon_vma_chain: first anon_vma_chain (+1) of the VMA's same_vma list (mmap_lock write, or read + page_table_lock). */
export const VMA_AVC = 10;
/** Line 1: the per-VMA lock. E1/E2 rwsem + detached; E3 vm_refcnt. */
export const VMA_LOCK = 16; // rwsem (RW_WORDS)
export const VMA_REFCNT = 16 + RW_WORDS; // E3
export const VMA_DETACHED = 17 + RW_WORDS; // E1/E2
export const VMA_LOCK_SEQ = 18 + RW_WORDS;
/** Line 2: oracle/test bookkeeping (never read by the protocol). */
export const VMA_WRITE_STARTED = 32; // vma_start_write calls since reset (tools/testing/vma)
export const VMA_ALLOC_TID = 33;
export const VMA_FREE_TID = 34;
export const VMA_ATTACH_COUNT = 35;
export const VMA_WORDS = 48;

export const VM_READ = 1 << 0;
export const VM_WRITE = 1 << 1;
export const VM_SHARED = 1 << 3;
export const VM_GROWSDOWN = 1 << 8;
export const VM_UFFD_MISSING = 1 << 9;
export const VM_UFFD_WP = 1 << 12;
export const VM_WIPEONFORK = 1 << 13;
export const VM_ACCOUNT = 1 << 20;

/** E3 vm_refcnt writer offset and reader limit. */
export const VMA_LOCK_OFFSET = 0x40000000;
export const VMA_REF_LIMIT = VMA_LOCK_OFFSET - 1;

// ---------------------------------------------------------------------------
// Maple-tree stand-in: a copy-on-write sorted array of (start, end, vma)
// published with one atomic store; replaced nodes are freed after a grace
// period, so an RCU walker may see a stale node holding a detached VMA.
// ---------------------------------------------------------------------------
export const ND_COUNT = 2;
export const ND_ENTRIES = 4; // triplets start, end, vma+1
export const ND_ENTRY_WORDS = 3;

// ---------------------------------------------------------------------------
// PTE table: its spinlock on line 0 (after OBJ words), owner data on line 1,
// then PTRS_PER_PTE entries.
// ---------------------------------------------------------------------------
export const PT_PTL = 16;
export const PT_MM = 32;
export const PT_ADDR = 33; // first page covered
export const PT_ENTRIES = 48;
export const PT_WORDS = PT_ENTRIES + PTRS_PER_PTE;

/** PTE encoding. */
export const PTE_PRESENT = 1 << 0;
export const PTE_WRITE = 1 << 1;
export const PTE_UFFD_WP = 1 << 2;
export const PTE_SWAP = 1 << 3; // non-present swap entry
export const PTE_SWP_EXCLUSIVE = 1 << 4;
export const PTE_MARKER = 1 << 5; // uffd-wp marker on a none pte
export const PTE_DIRTY = 1 << 6;
export const PTE_PFN_SHIFT = 8; // folio index + 1 (or swap slot = folio index + 1)

// ---------------------------------------------------------------------------
// Folio (struct folio / page): counts on one line, content on another.
// ---------------------------------------------------------------------------
export const F_REF = 2;
export const F_MAPCOUNT = 3;
export const F_PINCOUNT = 4;
export const F_FLAGS = 5;
export const F_ANON_VMA = 6; // anon_vma + 1 for anon folios
export const F_MAPPING = 7; // shmem file + 1 for file folios
export const F_INDEX = 8; // pgoff
export const F_OWNER_MM = 9; // mm that allocated it (oracle bookkeeping)
export const F_SWAPCOUNT = 10; // swap PTEs referring to this swap-cache folio (swap_map count)
export const F_UNLOCKER = 11; // tid + 1 of the last folio_unlock (a lost wake-up report names it)
export const F_CONTENT = 16; // the page's data: a stamp (tid + 1) << 20 | seq
export const F_CONTENT2 = 17;
/** The folio's size in words (the fields above); its slot is FOLIO_WORDS, two cache lines. */
export const FOLIO_SIZE = 18;
export const FOLIO_WORDS = 32;

export const PG_ANON = 1 << 0;
export const PG_ANON_EXCLUSIVE = 1 << 1;
export const PG_LOCKED = 1 << 2;
export const PG_SWAPCACHE = 1 << 3;
export const PG_UPTODATE = 1 << 4;
export const PG_ZERO = 1 << 5;
export const PG_DIRTY = 1 << 6;
export const PG_WRITEBACK = 1 << 7;

/** GUP_PIN_COUNTING_BIAS: a FOLL_PIN counts this much in the refcount. */
export const GUP_PIN_COUNTING_BIAS = 1024;

// ---------------------------------------------------------------------------
// anon_vma: refcount and a root; its rwsem.
// ---------------------------------------------------------------------------
export const AV_LOCK = 16; // rwsem
export const AV_REF = 32;
export const AV_ROOT = 33; // root anon_vma + 1
export const AV_MM = 34; // mm that created it (oracle)
/** anon_vma->rb_root reduced to a list in rmap traversal order (links append): first and last anon_vma_chain + 1; root's rwsem. */
export const AV_HEAD = 36;
export const AV_TAIL = 37;
export const AV_WORDS = 48;

// ---------------------------------------------------------------------------
// anon_vma_chain: links one VMA to one anon_vma (mm/rmap.c). same_vma list
// of its VMA; the anon_vma's list (its interval tree) under the root rwsem.
// ---------------------------------------------------------------------------
export const AVC_VMA = 2; // vma + 1
export const AVC_VMA_GEN = 3; // the VMA's generation when linked (KASAN)
export const AVC_AV = 4; // anon_vma + 1
export const AVC_SAME_NEXT = 5; // next on the VMA's same_vma list (+1)
export const AVC_NEXT = 6; // next on the anon_vma's list (+1)
export const AVC_PREV = 7; // previous on the anon_vma's list (+1)
export const AVC_WORDS = 16;

// ---------------------------------------------------------------------------
// shmem files: a page cache array (pgoff -> folio + 1) under a spinlock.
// ---------------------------------------------------------------------------
export const FILE_LOCK = 0;
export const FILE_PAGES = 16;

/**
 * Per-thread model counters (T_CTR + k): per-CPU like the kernel's vmstat, so
 * counting never bounces a shared cache line.
 */
export const MC_FAULTS = 32;
export const MC_VMA_LOCK_SUCCESS = 33;
export const MC_VMA_LOCK_ABORT = 34;
export const MC_VMA_LOCK_RETRY = 35;
export const MC_VMA_LOCK_MISS = 36;
export const MC_MMAP_FAULTS = 37; // faults completed under mmap_lock
export const MC_MMAP_RETRY = 38; // RETRY on the mmap_lock path
export const MC_SIGSEGV = 39;
export const MC_ANON_FAULT = 40;
export const MC_WP_REUSE = 41;
export const MC_WP_COPY = 42;
export const MC_SWAPIN = 43;
export const MC_UFFD_WAIT = 44;
export const MC_ENOMEM = 45;
export const MC_ANON_VMA_PREPARE = 46;
export const MC_IO_THROTTLE = 47;
export const MC_GUP_FAST = 48;
export const MC_GUP_FAST_FALLBACK = 49;
export const MC_GUP_SLOW = 50;
export const MC_FORK_COPY_PINNED = 51;
export const MC_VMA_FOREIGN = 52; // E3: vma_start_read found the VMA recycled into another mm
export const MC_RMAP_WALK = 53; // rmap walks (try_to_unmap of one folio)
export const MC_RMAP_UNMAP = 54; // PTEs try_to_unmap_one turned into swap entries
export const MC_RMAP_BUSY = 55; // walks abandoned: a pinned exclusive folio (folio_try_share_anon_rmap_pte)
export const MC_NAMES: Record<number, string> = {
  [MC_FAULTS]: 'faults', [MC_VMA_LOCK_SUCCESS]: 'vma_lock_success', [MC_VMA_LOCK_ABORT]: 'vma_lock_abort',
  [MC_VMA_LOCK_RETRY]: 'vma_lock_retry', [MC_VMA_LOCK_MISS]: 'vma_lock_miss', [MC_MMAP_FAULTS]: 'mmap_lock_faults',
  [MC_MMAP_RETRY]: 'mmap_lock_retry', [MC_SIGSEGV]: 'sigsegv', [MC_ANON_FAULT]: 'anon_faults', [MC_WP_REUSE]: 'wp_reuse',
  [MC_WP_COPY]: 'wp_copy', [MC_SWAPIN]: 'swapin', [MC_UFFD_WAIT]: 'uffd_wait', [MC_ENOMEM]: 'enomem',
  [MC_ANON_VMA_PREPARE]: 'anon_vma_prepare', [MC_IO_THROTTLE]: 'io_throttle', [MC_GUP_FAST]: 'gup_fast',
  [MC_GUP_FAST_FALLBACK]: 'gup_fast_fallback', [MC_GUP_SLOW]: 'gup_slow', [MC_FORK_COPY_PINNED]: 'fork_copy_pinned',
  [MC_VMA_FOREIGN]: 'vma_lock_foreign_mm', [MC_RMAP_WALK]: 'rmap_walks', [MC_RMAP_UNMAP]: 'rmap_unmapped',
  [MC_RMAP_BUSY]: 'rmap_busy',
};
