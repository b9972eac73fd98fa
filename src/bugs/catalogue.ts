import * as B from '../shm/bugbits.js';
import type { Era } from '../mm/era.js';

/**
 * The bug catalogue: each entry is a switch that flips one protocol step back
 * to a buggy form. Oracles never look at the switches (DESIGN.md rule 5);
 * they watch the consequences named in `symptom`.
 */
export interface BugEntry {
  /** The id used with --bug. */
  readonly id: string;
  /** Which arena word (H_BUGS0 / H_BUGS1) and bit. */
  readonly word: 0 | 1;
  readonly bit: number;
  readonly title: string;
  /** Where the bug comes from: seed thread, commit or document. */
  readonly source: string;
  /** The protocol step the switch reverts. */
  readonly reverts: string;
  /** The scenario that exposes it. */
  readonly scenario: string;
  /** Threads the detecting run uses (at least). */
  readonly threads: number;
  /** The violation kinds (src/shm/kinds.ts names) expected to fire. */
  readonly symptom: readonly string[];
  /** The per-VMA lock era the detecting run uses (mm bugs; default e1). */
  readonly era?: Era;
  /** Race-window widening for the detecting run (--jitter). */
  readonly jitter?: number;
  /**
   * The run without direct assertions (validate --indirect), where its
   * consequence needs another era or wider windows than the tuned row: the
   * era, jitter and why.
   */
  readonly indirect?: { readonly scenario?: string; readonly era?: Era; readonly perVmaLock?: boolean; readonly jitter?: number; readonly why: string };
}

export const BUGS: readonly BugEntry[] = [
  {
    id: 'rwsem-reader-ignores-writer', word: 0, bit: B.BUG_RWSEM_READER_IGNORES_WRITER,
    title: 'rwsem: reader fast path admitted while a writer holds the lock',
    source: 'kernel/locking/rwsem.c __down_read_common(): RWSEM_READ_FAILED_MASK includes RWSEM_WRITER_LOCKED',
    reverts: 'the writer bit in the reader fast-path failure mask',
    scenario: 'rwsem-torture', threads: 2,
    symptom: ['torture-reader-with-writer', 'torture-writer-overlap'],
  },
  {
    id: 'rwsem-no-writer-preference', word: 0, bit: B.BUG_RWSEM_NO_WRITER_PREFERENCE,
    title: 'rwsem: new readers ignore queued writers and handoff (writer starvation)',
    source: 'KERNEL.md §1.1: as soon as anyone is queued new readers leave the fast path; anti-starvation 2f06f702925b; locktorture acq_writer_lim',
    reverts: 'RWSEM_FLAG_WAITERS/RWSEM_FLAG_HANDOFF in the reader fast-path mask and the no-steal rule',
    scenario: 'rwsem-torture', threads: 6,
    symptom: ['writer-starved'],
  },
  {
    id: 'rwsem-write-ignores-readers', word: 0, bit: B.BUG_RWSEM_WRITE_IGNORES_READERS,
    title: 'rwsem: writer fast path sets the writer bit while readers are inside',
    source: 'kernel/locking/rwsem.c rwsem_write_trylock(): cmpxchg from RWSEM_UNLOCKED_VALUE only',
    reverts: 'the cmpxchg 0 -> RWSEM_WRITER_LOCKED (replaced by fetch_or)',
    scenario: 'rwsem-torture', threads: 2,
    symptom: ['torture-writer-overlap', 'torture-reader-with-writer'],
  },
  {
    id: 'rwsem-lost-writer-wake', word: 0, bit: B.BUG_RWSEM_LOST_WRITER_WAKE,
    title: 'rwsem: rwsem_mark_wake() leaves the first waiter, a writer, asleep',
    source: 'kernel/locking/rwsem.c rwsem_mark_wake(): "if (waiter->type == RWSEM_WAITING_FOR_WRITE) { if (wake_type == RWSEM_WAKE_ANY) wake_q_add(wake_q, waiter->task); return; }"; missed-wakeup fixes 5a817641f68a, e158488be27b',
    reverts: 'the wake of a first waiter that is a writer',
    scenario: 'rwsem-torture', threads: 2,
    symptom: ['lost-wake-up', 'writer-starved'],
  },
  {
    id: 'seqcount-no-retry', word: 0, bit: B.BUG_SEQCOUNT_NO_RETRY,
    title: 'seqcount: reader never retries',
    source: 'include/linux/seqlock.h read_seqcount_retry()',
    reverts: 'the sequence re-check at the end of a read section',
    scenario: 'seqcount-torture', threads: 2,
    symptom: ['seqcount-torn-read'],
  },
  {
    id: 'seqcount-begin-odd', word: 0, bit: B.BUG_SEQCOUNT_BEGIN_ODD,
    title: 'seqcount: read_seqcount_begin() returns an odd (write in progress) sequence',
    source: 'include/linux/seqlock.h read_seqcount_begin() spins until the count is even',
    reverts: 'the wait for an even sequence',
    scenario: 'seqcount-torture', threads: 2,
    symptom: ['seqcount-torn-read'],
  },
  {
    id: 'rcu-nested-unlock-ends-gp', word: 0, bit: B.BUG_RCU_NESTED_UNLOCK_ENDS_GP,
    title: 'RCU: a nested rcu_read_unlock() ends the whole read-side critical section',
    source: 'kernel/rcu/tree_plugin.h __rcu_read_unlock(): only the outermost unlock reports a quiescent state',
    reverts: 'per-thread nesting in rcu_read_unlock()',
    scenario: 'rcu-torture', threads: 2,
    symptom: ['rcu-too-short-gp'],
  },
  {
    id: 'rcu-gp-no-wait', word: 0, bit: B.BUG_RCU_GP_NO_WAIT,
    title: 'RCU: synchronize_rcu() does not wait for pre-existing readers',
    source: 'Documentation/RCU/torture.rst: a too-short grace period shows in the Reader Pipe histogram',
    reverts: 'the scan of reader states in synchronize_rcu()',
    scenario: 'rcu-torture', threads: 2,
    symptom: ['rcu-too-short-gp'],
  },
  {
    id: 'refcount-inc-on-zero', word: 0, bit: B.BUG_REFCOUNT_INC_ON_ZERO,
    title: 'refcount: refcount_inc_not_zero() succeeds on zero',
    source: 'include/linux/refcount.h __refcount_add_not_zero(); the SLAB_TYPESAFE_BY_RCU lookup pattern (KERNEL.md §1.3)',
    reverts: 'the zero check in inc_not_zero',
    scenario: 'refcount-torture', threads: 2,
    symptom: ['refcount-use-after-free', 'refcount-underflow'],
  },
  {
    id: 'spinlock-racy-acquire', word: 0, bit: B.BUG_SPIN_RACY_ACQUIRE,
    title: 'spinlock: test-then-set acquire instead of an atomic exchange',
    source: 'include/asm-generic/qspinlock.h: acquisition is one atomic cmpxchg',
    reverts: 'the atomicity of the lock acquisition',
    scenario: 'spinlock-torture', threads: 2,
    symptom: ['spin-overlap', 'spin-bad-unlock'],
  },
  // -------------------------------------------------------------------------
  // The historic mm bugs (KERNEL.md §6) and the §3.4 protocol steps.
  // -------------------------------------------------------------------------
  {
    id: 'B1', word: 1, bit: B.BUG1_B1_MAYBE_UNLOCK_MMAP,
    title: 'B1: maybe_unlock_mmap_for_io() calls mmap_read_unlock() while the fault holds only the VMA lock',
    source: 'seed 000 (LKML, Aug 2023, "Per-VMA lock support for swap and userfaults" v7): kernel BUG at include/linux/mmap_lock.h:66; fixed by "mm: allow fault_dirty_shared_page() to be called under the VMA lock" (6.6)',
    reverts: 'release_fault_lock(vmf) in maybe_unlock_mmap_for_io()',
    scenario: 'fault-vs-munmap', threads: 3,
    symptom: ['bad-unlock-balance', 'mmap-assert-locked', 'rwsem-count-corrupt'],
  },
  {
    id: 'b1-caller-end-read', word: 1, bit: B.BUG1_B1_CALLER_END_READ,
    title: 'B1 variant: the arch fault handler ends the VMA read after the callee released it on RETRY/COMPLETED',
    source: 'KERNEL.md §3.5, the 6.6 lock-ownership contract ("mm: drop per-VMA lock when returning VM_FAULT_RETRY or VM_FAULT_COMPLETED")',
    reverts: 'the RETRY/COMPLETED test before vma_end_read() in do_user_addr_fault()',
    scenario: 'swap-retry', threads: 2,
    symptom: ['bad-unlock-balance', 'rwsem-count-corrupt', 'refcount-underflow'],
  },
  {
    id: 'b5c-use-after-retry', word: 1, bit: B.BUG1_B5C_USE_AFTER_RETRY,
    title: 'B5c / B1 variant: the VMA is used (hugetlb_vma_unlock_read) after vmf_anon_prepare() dropped its lock on RETRY',
    source: 'syzbot UAF in hugetlb_fault (Sep 2024); fixes 2a058ab3286d (__vmf_anon_prepare) and 98b74bb4d7e9',
    reverts: 'treating the VMA as dangling once the fault lock is released',
    scenario: 'anon-vma-prepare', threads: 3,
    symptom: ['vma-assert-locked'],
    indirect: {
      scenario: 'fault-vs-munmap',
      why: 'the use after the drop is a use-after-free only when a writer frees that VMA meanwhile: anon-vma-prepare\'s writer merges and expands, fault-vs-munmap\'s unmaps the slot a first touch is retrying on',
    },
  },
  {
    id: 'B2', word: 1, bit: B.BUG1_B2_ATTACH_ON_STORE,
    title: 'B2: the tree store used for range changes also attaches (vma_mark_attached on an attached VMA)',
    source: 'seed 001 (Nov 2024, v3 "move per-vma lock into vm_area_struct"): VM_BUG_ON_VMA(!vma->detached) in commit_merge <- vma_expand <- relocate_vma_down; fixed by splitting vma_iter_store_new/_overwrite',
    reverts: 'the separate store path for already attached VMAs',
    scenario: 'fault-vs-mprotect', threads: 2,
    symptom: ['vma-attach-attached'],
    indirect: {
      era: 3, jitter: 10000,
      why: 'with a detached flag (E1/E2) a second attach stores what is already there; in E3 attach is refcount_set(1), which drops the references of readers that raced in, so their vma_end_read() detaches the VMA under its tree',
    },
  },
  {
    id: 'B3', word: 1, bit: B.BUG1_B3_NO_MM_CHECK,
    title: 'B3 case #1: E3 vma_start_read() without the vm_mm identity check (SLAB_TYPESAFE_BY_RCU reuse by another mm)',
    source: 'seed 001/002 (Suren, Nov 2024 - Feb 2025, "reimplement per-vma lock as a refcount" v10): vma_start_read(mm, vma) compares vma->vm_mm',
    reverts: 'the vm_mm != mm check after the refcount increment',
    scenario: 'vma-reuse', threads: 3, era: 3, jitter: 100000,
    symptom: ['vma-wrong-mm', 'fault-outside-vma', 'vma-reused-while-locked'],
  },
  {
    id: 'b3-foreign-mm-no-grab', word: 1, bit: B.BUG1_B3_FOREIGN_MM_NO_GRAB,
    title: 'B3 follow-up (6.15): vma_start_read() puts a VMA recycled into another mm without mmgrab(), so vma_refcount_put() may wake a writer through a freed mm',
    source: 'mm/mmap_lock.c vma_start_read(), "mm: fix a UAF when vma->mm is freed after vma->vm_refcnt got dropped" (Suren Baghdasaryan, reported by Jann Horn, Jul 2025, 6.16-rc): "If vma got attached to another mm from under us, that mm is not stable and can be freed in the narrow window after vma->vm_refcnt is dropped and before rcuwait_wake_up(mm) is called"',
    reverts: 'the mmgrab(other_mm) / mmdrop(other_mm) around vma_refcount_put() on the vm_mm != mm path',
    scenario: 'vma-reuse', threads: 3, era: 3, jitter: 100000,
    symptom: ['mm-not-pinned', 'kasan-use-after-free'],
  },
  {
    id: 'b3-no-range-check', word: 1, bit: B.BUG1_B3_NO_RANGE_CHECK,
    title: 'B3: lock_vma_under_rcu() without the range re-check after locking (the VMA shrank, moved or was reused in the same mm)',
    source: 'KERNEL.md §3.2 step 4 / §3.3 step 4; Suren\'s case #1 (same mm, new range)',
    reverts: 'the vm_start <= addr < vm_end check on the locked VMA',
    scenario: 'fault-vs-munmap', threads: 3, jitter: 2000,
    symptom: ['fault-outside-vma', 'quiescent-invariant'],
  },
  {
    id: 'b3-detach-no-wait', word: 1, bit: B.BUG1_B3_DETACH_NO_WAIT,
    title: 'B3 case #3: E3 vma_mark_detached() does not wait for transient readers, so a VMA is freed and reattached under a stale reader',
    source: 'seed 001 (case #3) and the final refcount design: attach requires count 0 and detach waits for readers',
    reverts: 'the wait for VMA_LOCK_OFFSET in vma_mark_detached()',
    scenario: 'fault-vs-munmap', threads: 4, era: 3, jitter: 20000,
    symptom: ['vma-reused-while-locked', 'quiescent-invariant', 'refcount-underflow', 'vma-attach-attached', 'vma-alloc-referenced', 'vma-free-attached', 'fault-outside-vma', 'vma-wrong-mm'],
  },
  {
    id: 'B5', word: 1, bit: B.BUG1_B5_PREPARE_UNDER_VMA_LOCK,
    title: 'B5: anon_vma prepared under the VMA lock alone (neighbouring VMAs are not stabilised by it)',
    source: 'seed 003 (Peter Xu / Liam Howlett, Apr 2024); "Delay the check for a NULL anon_vma" (6.10) asserts mmap_lock in __anon_vma_prepare',
    reverts: 'mmap_read_trylock() (else RETRY) in vmf_anon_prepare()',
    scenario: 'anon-vma-prepare', threads: 2,
    symptom: ['mmap-assert-locked'],
  },
  {
    id: 'b5a-anon-check-before-lock', word: 1, bit: B.BUG1_B5A_ANON_CHECK_BEFORE_LOCK,
    title: 'B5a: 6.4 lock_vma_under_rcu() checks anon_vma before vma_start_read(); a concurrent MREMAP_DONTUNMAP clears it',
    source: '657b5146955e (Jann Horn, 6.5-rc, Cc stable, Fixes 5e31275cc997)',
    reverts: 'checking anon_vma only after the VMA is locked',
    scenario: 'fault-vs-mremap', threads: 2, jitter: 300000,
    symptom: ['mmap-assert-locked'],
  },
  {
    id: 'B6', word: 1, bit: B.BUG1_B6_FORK_SHARES_PINNED,
    title: 'B6: fork shares a possibly pinned exclusive anon page instead of copying it for the child',
    source: 'seed 004 lineage; "mm: COW fixes part 2: reliable GUP pins of anonymous pages" (Mar 2022, v5.19, David Hildenbrand); 6c287605fd56',
    reverts: 'copy_present_page() for folio_try_dup_anon_rmap_pte() failures',
    scenario: 'gup-vs-fork', threads: 2,
    symptom: ['pin-incoherent'],
  },
  {
    id: 'b6-gup-fast-no-seq', word: 1, bit: B.BUG1_B6_GUP_FAST_NO_SEQ,
    title: 'B6: GUP-fast without the write_protect_seq sample/verify races fork\'s write-protect',
    source: '57efa1fe5957 "mm/gup: prevent gup_fast from racing with COW during fork" (Jason Gunthorpe, v5.11)',
    reverts: 'raw_read_seqcount / read_seqcount_retry on mm->write_protect_seq in GUP-fast',
    scenario: 'gup-vs-fork', threads: 2, jitter: 3000,
    symptom: ['pin-incoherent'],
  },
  {
    id: 'b6-cow-reuse-shared', word: 1, bit: B.BUG1_B6_COW_REUSE_SHARED,
    title: 'B6: do_wp_page() reuses an anon page that is not exclusive (still mapped by the fork child)',
    source: 'KERNEL.md §5: "Fresh pages are exclusive; the write fault reuses exclusive pages without looking at refcounts" (5.19)',
    reverts: 'the PageAnonExclusive / wp_can_reuse_anon_folio() test',
    scenario: 'fault-vs-fork', threads: 2,
    symptom: ['fork-cow-leak'],
  },
  {
    id: 'B7', word: 1, bit: B.BUG1_B7_COPY_FAULTS_ENABLED,
    title: 'B7: copy_from_user() in mfill_atomic_pte() with page faults enabled under the lock (recursive mmap_lock read)',
    source: 'seed 004 (Ira Weiny, Oct 2022, "mm/shmem: Ensure proper fallback if page faults"); Fixes 7a7256d5f512',
    reverts: 'pagefault_disable() around the copy and the drop-locks-copy-retry fallback',
    scenario: 'uffd-copy', threads: 3,
    symptom: ['might-fault-locked', 'mmap-lock-under-vma-lock', 'recursive-locking'],
    indirect: {
      perVmaLock: false,
      why: 'the fault on a missing source page must take mmap_lock under the destination VMA\'s read lock, against a writer that holds mmap_lock and waits in vma_start_write() for that reader (the ABBA of 2022\'s recursive mmap_read_lock); with per-VMA locks the source VMA\'s own lock serves the nested fault',
    },
  },
  {
    id: 'no-start-write', word: 1, bit: B.BUG1_NO_START_WRITE,
    title: '§3.4: mprotect changes vm_flags without vma_start_write()',
    source: 'KERNEL.md §3.4: vm_flags_* helpers write-lock the VMA (since 6.3)',
    reverts: 'vma_start_write() in vm_flags_reset()',
    scenario: 'fault-vs-mprotect', threads: 3,
    // The field-store assertion (vmaSetField) sees it at the store; without
    // checks the race shows as a VMA changing under a reader.
    symptom: ['vma-assert-write-locked', 'vma-reused-while-locked'],
  },
  {
    id: 'end-write-all-no-advance', word: 1, bit: B.BUG1_END_WRITE_ALL_NO_ADVANCE,
    title: '§3.4: vma_end_write_all() does not advance mm_lock_seq (write marks outlive mmap_write_unlock)',
    source: 'KERNEL.md §3.1: all marks end at once when mmap_write_unlock advances mm_lock_seq',
    reverts: 'the increment of mm_lock_seq in vma_end_write_all()',
    scenario: 'fault-vs-munmap', threads: 2,
    symptom: ['quiescent-invariant'],
  },
  {
    id: 'detach-without-write-lock', word: 1, bit: B.BUG1_DETACH_WITHOUT_WRITE_LOCK,
    title: '§3.4: munmap detaches VMAs without write-locking them first',
    source: 'KERNEL.md §3.4 (vms_gather_munmap_vmas: vma_start_write, then vma_mark_detached)',
    reverts: 'vma_start_write() before vma_mark_detached() in munmap',
    scenario: 'fault-vs-munmap', threads: 2,
    symptom: ['vma-detach-unlocked'],
  },
  {
    id: 'refcount-put-no-wake', word: 1, bit: B.BUG1_REFCOUNT_PUT_NO_WAKE, era: 3,
    title: 'E3: vma_refcount_put() drops the last reader without waking the writer on mm->vma_writer_wait',
    source: 'mm/mmap_lock.c vma_refcount_put(): "if (refcount_dec_and_test(...)) ... else if (is_vma_writer_only(oldcnt - 1)) rcuwait_wake_up(&mm->vma_writer_wait)"',
    reverts: 'the rcuwait_wake_up() of the writer waiting in __vma_enter_locked()',
    scenario: 'fault-vs-munmap', threads: 3,
    symptom: ['lost-wake-up'],
  },
  {
    id: 'zap-free-before-flush', word: 1, bit: B.BUG1_ZAP_FREE_BEFORE_FLUSH,
    title: 'zap_pte_range() frees the folios it unmapped before flushing the TLB, so another CPU may still write through a stale translation',
    source: 'mm/mmu_gather.c tlb_flush_mmu(): "tlb_flush_mmu_tlbonly(tlb); tlb_flush_mmu_free(tlb)" — the flush comes before the batched pages are freed (the rule CVE-2018-18281\'s mremap broke)',
    reverts: 'the TLB flush before the zap frees its folios (it comes after instead)',
    scenario: 'fault-vs-munmap', threads: 3, jitter: 20000,
    symptom: ['kasan-use-after-free', 'content-mismatch', 'bad-page-state'],
  },
  {
    id: 'swapin-no-pte-same', word: 1, bit: B.BUG1_SWAPIN_NO_PTE_SAME,
    title: 'do_swap_page() maps the folio without re-checking, under the PT lock, that the PTE is still the swap entry it faulted on',
    source: 'mm/memory.c do_swap_page(): "Back out if somebody else already faulted in this pte." — vmf->pte = pte_offset_map_lock(); if (unlikely(!vmf->pte || !pte_same(ptep_get(vmf->pte), vmf->orig_pte))) goto out_nomap',
    reverts: 'the pte_same() re-check after folio_lock_or_retry()',
    scenario: 'swap-retry', threads: 3, jitter: 20000,
    symptom: ['quiescent-invariant', 'rmap-walk-miss', 'refcount-addition-on-0', 'refcount-underflow', 'bad-page-state', 'kasan-use-after-free', 'anon-rmap-mismatch', 'content-mismatch'],
  },
  {
    id: 'fork-no-flush', word: 1, bit: B.BUG1_FORK_NO_FLUSH,
    title: 'copy_pte_range() write-protects the parent\'s PTEs for COW without flushing its TLB: the parent goes on writing the page it now shares with the child',
    source: 'mm/memory.c copy_present_pte() ptep_set_wrprotect() and the flush of the parent\'s range before its mmap_lock is released (dup_mmap: flush_tlb_mm(oldmm))',
    reverts: 'the TLB flush after fork write-protected the parent\'s PTEs',
    scenario: 'fault-vs-fork', threads: 2,
    symptom: ['fork-cow-leak'],
  },
  {
    id: 'mprotect-no-flush', word: 1, bit: B.BUG1_MPROTECT_NO_FLUSH,
    title: 'change_pte_range() makes PTEs read-only without flushing the TLB: writes go on through the old writable translations',
    source: 'mm/mprotect.c change_protection(): inc_tlb_flush_pending(), change_pte_range(), then flush_tlb_range() before dec_tlb_flush_pending()',
    reverts: 'the TLB flush after mprotect() write-protected the PTEs',
    scenario: 'fault-vs-mprotect', threads: 2,
    symptom: ['readonly-page-changed'],
  },
  {
    id: 'folio-unlock-no-wake', word: 1, bit: B.BUG1_FOLIO_UNLOCK_NO_WAKE,
    title: 'folio_unlock() clears PG_locked but does not wake the sleepers on the folio',
    source: 'mm/filemap.c folio_unlock(): "if (folio_xor_flags_has_waiters(folio, 1 << PG_locked)) folio_wake_bit(folio, PG_locked)"',
    reverts: 'the folio_wake_bit() of folio_unlock()',
    scenario: 'swap-retry', threads: 2,
    symptom: ['lost-wake-up'],
  },
];

const byId = new Map(BUGS.map((b) => [b.id, b]));

export function findBug(id: string): BugEntry | undefined {
  return byId.get(id);
}

export function bugIds(): string[] {
  return BUGS.map((b) => b.id);
}

/** The one-line error for an unknown bug id: a case-insensitive match is suggested, then the valid ids. */
export function unknownBugMessage(id: string): string {
  const near = BUGS.find((b) => b.id.toLowerCase() === id.trim().toLowerCase());
  return `unknown bug '${id}'${near ? ` (did you mean ${near.id}?)` : ''} (valid: ${bugIds().join(', ')})`;
}

/** The two arena words for a set of bug ids (ids must be valid). */
export function bugWords(ids: readonly string[]): [number, number] {
  let w0 = 0;
  let w1 = 0;
  for (const id of ids) {
    const b = byId.get(id);
    if (!b) throw new Error(`unknown bug '${id}'`);
    if (b.word === 0) w0 |= b.bit;
    else w1 |= b.bit;
  }
  return [w0, w1];
}
