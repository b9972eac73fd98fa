/**
 * Bug-switch bit numbers. The switches themselves (titles, citations, the
 * scenario that exposes each) are catalogued in src/bugs; the primitives and
 * the model only need the bit numbers, read once per operation from the
 * arena's H_BUGS0/H_BUGS1 words (DESIGN.md rule 6).
 */

// Primitive bugs (word 0).
export const BUG_RWSEM_READER_IGNORES_WRITER = 1 << 0;
export const BUG_RWSEM_NO_WRITER_PREFERENCE = 1 << 1;
export const BUG_RWSEM_WRITE_IGNORES_READERS = 1 << 2;
export const BUG_SEQCOUNT_NO_RETRY = 1 << 3;
export const BUG_SEQCOUNT_BEGIN_ODD = 1 << 4;
export const BUG_RCU_NESTED_UNLOCK_ENDS_GP = 1 << 5;
export const BUG_RCU_GP_NO_WAIT = 1 << 6;
export const BUG_REFCOUNT_INC_ON_ZERO = 1 << 7;
export const BUG_SPIN_RACY_ACQUIRE = 1 << 8;
/** rwsem_mark_wake() does not wake a first waiter that is a writer. */
export const BUG_RWSEM_LOST_WRITER_WAKE = 1 << 9;

// mm protocol bugs (word 1): the seed threads' bugs and the §3.4 steps.
/** B1: maybe_unlock_mmap_for_io() calls mmap_read_unlock() under the VMA lock. */
export const BUG1_B1_MAYBE_UNLOCK_MMAP = 1 << 0;
/** B1 variant: the arch fault handler ends the VMA read although the callee released it (RETRY/COMPLETED). */
export const BUG1_B1_CALLER_END_READ = 1 << 1;
/** B5c / B1 variant: the VMA is used (hugetlb_vma_unlock_read) after vmf_anon_prepare dropped its lock. */
export const BUG1_B5C_USE_AFTER_RETRY = 1 << 2;
/** B2: the tree store used for range changes also attaches (vma_iter_store + vma_mark_attached). */
export const BUG1_B2_ATTACH_ON_STORE = 1 << 3;
/** B3#1: E3 vma_start_read() without the vm_mm identity check. */
export const BUG1_B3_NO_MM_CHECK = 1 << 4;
/** B3: lock_vma_under_rcu() without the range re-check after locking. */
export const BUG1_B3_NO_RANGE_CHECK = 1 << 5;
/** B3#3: E3 vma_mark_detached() does not wait for transient readers, so a VMA is freed and reused under a stale reader. */
export const BUG1_B3_DETACH_NO_WAIT = 1 << 6;
/** B5: vmf_anon_prepare() prepares the anon_vma under the VMA lock alone (no mmap_read_trylock). */
export const BUG1_B5_PREPARE_UNDER_VMA_LOCK = 1 << 7;
/** B5a: 6.4's lock_vma_under_rcu() checks anon_vma before vma_start_read(); do_anonymous_page trusts it. */
export const BUG1_B5A_ANON_CHECK_BEFORE_LOCK = 1 << 8;
/** B6: fork shares a possibly pinned exclusive page instead of copying it. */
export const BUG1_B6_FORK_SHARES_PINNED = 1 << 9;
/** B6: GUP-fast without the write_protect_seq sample/verify. */
export const BUG1_B6_GUP_FAST_NO_SEQ = 1 << 10;
/** B6: do_wp_page reuses an anon page that is not exclusive (pre-5.19 mapcount logic). */
export const BUG1_B6_COW_REUSE_SHARED = 1 << 11;
/** B7: mfill_atomic_pte() copies from user with page faults enabled under the lock. */
export const BUG1_B7_COPY_FAULTS_ENABLED = 1 << 12;
/** §3.4: mprotect changes vm_flags without vma_start_write(). */
export const BUG1_NO_START_WRITE = 1 << 13;
/** §3.4: vma_end_write_all() does not advance mm_lock_seq. */
export const BUG1_END_WRITE_ALL_NO_ADVANCE = 1 << 14;
/** §3.4: munmap detaches VMAs without write-locking them first. */
export const BUG1_DETACH_WITHOUT_WRITE_LOCK = 1 << 15;
/** E3: vma_refcount_put() drops the last reader without waking the writer on vma_writer_wait. */
export const BUG1_REFCOUNT_PUT_NO_WAKE = 1 << 16;
/** folio_unlock() clears PG_locked without waking the folio's sleepers (folio_wake_bit). */
export const BUG1_FOLIO_UNLOCK_NO_WAKE = 1 << 17;
/** B3 follow-up (6.15): vma_start_read() drops a recycled VMA of another mm without mmgrab() of that mm. */
export const BUG1_B3_FOREIGN_MM_NO_GRAB = 1 << 18;
/** zap_pte_range() frees the zapped folios before the TLB flush (tlb_flush_mmu_tlbonly after the page batch). */
export const BUG1_ZAP_FREE_BEFORE_FLUSH = 1 << 19;
/** do_swap_page() without the pte_same() re-check after locking the folio ("somebody else already faulted in this pte"). */
export const BUG1_SWAPIN_NO_PTE_SAME = 1 << 20;
/** copy_pte_range() write-protects the parent's PTEs without flushing the parent's TLB. */
export const BUG1_FORK_NO_FLUSH = 1 << 21;
/** change_pte_range() (mprotect) write-protects PTEs without flushing the TLB. */
export const BUG1_MPROTECT_NO_FLUSH = 1 << 22;
