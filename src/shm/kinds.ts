/**
 * Violation kinds: what an oracle saw. Titles follow the kernel's splats so a
 * kernel developer recognises them. Oracles record a kind and up to four
 * integer arguments into the arena; the main thread decodes them here.
 */
export const enum Viol {
  TortureWriterOverlap = 1,
  TortureReaderWithWriter = 2,
  SpinOverlap = 3,
  SeqTorn = 4,
  RcuTooShortGp = 5,
  RefcountUseAfterFree = 6,
  BadUnlockBalance = 7,
  WriterStarved = 8,
  RcuSyncInReader = 9,
  SpinBadUnlock = 10,
  RefcountUnderflow = 11,
  HeldStackOverflow = 12,
  RwsemCountCorrupt = 13,
  MmapAssertLocked = 14,
  MmapAssertWriteLocked = 15,
  VmaAssertWriteLocked = 16,
  VmaAttachAttached = 17,
  VmaDetachNotWriteLocked = 18,
  VmaAssertLocked = 19,
  VmaFreeAttached = 20,
  BadPageState = 21,
  ContentMismatch = 22,
  QuiescentInvariant = 23,
  RecursiveLocking = 24,
  CircularDependency = 25,
  MmapLockUnderVmaLock = 26,
  MightFaultLocked = 27,
  VmaReusedWhileLocked = 28,
  VmaWrongMm = 29,
  FaultOutsideVma = 30,
  PinIncoherent = 31,
  ForkLeak = 32,
  VmaStillWriteLocked = 33,
  /** A library scenario's own oracle (ORACLE_FAILED in src/index.ts). */
  OracleFailed = 34,
  LockNotHeld = 35,
  LostWakeUp = 36,
  KasanUseAfterFree = 37,
  RmapWalkMiss = 38,
  VmaAllocReferenced = 39,
  PgtableFreeInUse = 40,
  RefcountAdditionOnZero = 41,
  MmNotPinned = 42,
  ReadOnlyPageChanged = 43,
  AnonRmapMismatch = 44,
}

export interface KindInfo {
  readonly id: number;
  readonly name: string;
  readonly title: string;
  /** Text for the four integer args (a, b, c, d). */
  readonly args: readonly string[];
}

export const KINDS: readonly KindInfo[] = [
  { id: Viol.TortureWriterOverlap, name: 'torture-writer-overlap', title: 'BUG: lock torture: writer entered while another writer or reader was inside', args: ['writers inside', 'readers inside'] },
  { id: Viol.TortureReaderWithWriter, name: 'torture-reader-with-writer', title: 'BUG: lock torture: reader entered while a writer was inside', args: ['writers inside'] },
  { id: Viol.SpinOverlap, name: 'spin-overlap', title: 'BUG: spinlock torture: two threads inside the critical section', args: ['inside'] },
  { id: Viol.SeqTorn, name: 'seqcount-torn-read', title: 'BUG: seqcount reader accepted a torn snapshot', args: ['word 0', 'word i', 'index', 'sequence'] },
  { id: Viol.RcuTooShortGp, name: 'rcu-too-short-gp', title: 'BUG: RCU grace period too short: reader saw an object aged >= 2 grace periods', args: ['age', 'object', 'gp seq'] },
  { id: Viol.RefcountUseAfterFree, name: 'refcount-use-after-free', title: 'BUG: refcount: reference taken on a freed object (use-after-free)', args: ['object', 'refcount', 'generation'] },
  { id: Viol.BadUnlockBalance, name: 'bad-unlock-balance', title: 'WARNING: bad unlock balance detected!', args: ['class', 'mode'] },
  { id: Viol.WriterStarved, name: 'writer-starved', title: 'WARNING: rwsem writer acquisition exceeded acq_writer_lim (writer starvation)', args: ['waited ms', 'limit ms', 'others served'] },
  { id: Viol.RcuSyncInReader, name: 'rcu-sync-in-reader', title: 'BUG: synchronize_rcu() called inside an RCU read-side critical section', args: ['nesting'] },
  { id: Viol.SpinBadUnlock, name: 'spin-bad-unlock', title: 'BUG: spinlock wrong owner on unlock', args: ['owner'] },
  { id: Viol.RefcountUnderflow, name: 'refcount-underflow', title: 'WARNING: refcount_t: underflow; use-after-free', args: ['old', 'delta'] },
  { id: Viol.HeldStackOverflow, name: 'held-lock-overflow', title: 'BUG: MAX_LOCK_DEPTH too low!', args: ['depth'] },
  { id: Viol.MmapAssertLocked, name: 'mmap-assert-locked', title: 'kernel BUG at include/linux/mmap_lock.h: VM_BUG_ON_MM(!rwsem_is_locked(&mm->mmap_lock))', args: ['mm', 'count'] },
  { id: Viol.MmapAssertWriteLocked, name: 'mmap-assert-write-locked', title: 'kernel BUG: mmap_assert_write_locked() failed', args: ['mm', 'owner'] },
  { id: Viol.VmaAssertWriteLocked, name: 'vma-assert-write-locked', title: 'kernel BUG: vma_assert_write_locked(): VMA changed without vma_start_write()', args: ['vma', 'vm_lock_seq', 'mm_lock_seq'] },
  { id: Viol.VmaAttachAttached, name: 'vma-attach-attached', title: 'kernel BUG: vma_mark_attached() on an attached VMA (VM_BUG_ON_VMA(!vma->detached))', args: ['vma', 'refcnt'] },
  { id: Viol.VmaDetachNotWriteLocked, name: 'vma-detach-unlocked', title: 'kernel BUG: vma_mark_detached() without the VMA write lock', args: ['vma'] },
  { id: Viol.VmaAssertLocked, name: 'vma-assert-locked', title: 'kernel BUG: vma_assert_locked(): VMA used without its lock', args: ['vma'] },
  { id: Viol.VmaFreeAttached, name: 'vma-free-attached', title: 'kernel BUG: vm_area_free() of a VMA that is still attached', args: ['vma', 'refcnt'] },
  { id: Viol.BadPageState, name: 'bad-page-state', title: 'BUG: Bad page state: folio freed while still mapped or pinned', args: ['folio', 'mapcount', 'pincount'] },
  { id: Viol.ContentMismatch, name: 'content-mismatch', title: 'BUG: data corruption: a read did not return the last value written through this mapping', args: ['page', 'expected', 'got', 'mm slot'] },
  { id: Viol.QuiescentInvariant, name: 'quiescent-invariant', title: 'BUG: quiescent address-space check failed', args: [] },
  { id: Viol.RecursiveLocking, name: 'recursive-locking', title: 'WARNING: possible recursive locking detected', args: ['lock', 'class', 'mode'] },
  { id: Viol.CircularDependency, name: 'circular-dependency', title: 'WARNING: possible circular locking dependency detected', args: ['held class', 'acquiring class'] },
  { id: Viol.MmapLockUnderVmaLock, name: 'mmap-lock-under-vma-lock', title: 'WARNING: blocking on mmap_lock while holding a VMA read lock (deadlock against vma_start_write)', args: ['mmap_lock', 'vma lock'] },
  { id: Viol.MightFaultLocked, name: 'might-fault-locked', title: 'BUG: sleeping page fault possible with mmap_lock or a VMA lock held (might_fault)', args: ['held lock', 'class'] },
  { id: Viol.VmaReusedWhileLocked, name: 'vma-reused-while-locked', title: 'BUG: vma reused while read-locked', args: ['vma', 'gen at lock', 'gen now', 'field'] },
  { id: Viol.VmaWrongMm, name: 'vma-wrong-mm', title: 'BUG: page fault runs on a VMA of another mm', args: ['vma', 'fault mm slot', 'vm_mm slot'] },
  { id: Viol.FaultOutsideVma, name: 'fault-outside-vma', title: 'BUG: page fault handled outside its locked VMA\'s range', args: ['addr', 'vm_start', 'vm_end'] },
  { id: Viol.PinIncoherent, name: 'pin-incoherent', title: 'BUG: data written through a FOLL_PIN|FOLL_WRITE pin is not what the process reads (pin/page table divergence)', args: ['page', 'device wrote', 'process read'] },
  { id: Viol.ForkLeak, name: 'fork-cow-leak', title: 'BUG: COW isolation broken: a write leaked across fork', args: ['page', 'expected', 'got', 'direction'] },
  { id: Viol.VmaStillWriteLocked, name: 'vma-still-write-locked', title: 'BUG: VMA still write-locked after mmap_write_unlock (mm_lock_seq not advanced)', args: ['vma', 'vm_lock_seq', 'mm_lock_seq'] },
  { id: Viol.LockNotHeld, name: 'lock-not-held', title: 'WARNING: lockdep_assert_held(): a function that requires a lock was called without it', args: ['lock', 'class', 'caller'] },
  { id: Viol.LostWakeUp, name: 'lost-wake-up', title: 'WARNING: lost wake-up: a sleeper was never woken although what it waits for had happened', args: ['lock', 'class', 'waitedMs', 'lastRelease'] },
  { id: Viol.KasanUseAfterFree, name: 'kasan-use-after-free', title: 'BUG: KASAN: slab-use-after-free: an object was read after it was freed', args: ['object', 'site', 'state', 'gen'] },
  { id: Viol.RmapWalkMiss, name: 'rmap-walk-miss', title: 'BUG: rmap walk misses a mapping: try_to_unmap() visited every VMA of the folio\'s anon_vma and left it mapped', args: ['folio', 'anon_vma', 'mapcount', 'VMAs walked'] },
  { id: Viol.VmaAllocReferenced, name: 'vma-alloc-referenced', title: 'BUG: vm_area_alloc() (E3) handed out a VMA whose vm_refcnt is not 0: a reference outlived its free', args: ['vma', 'refcnt'] },
  { id: Viol.PgtableFreeInUse, name: 'pgtable-free-in-use', title: 'BUG: free_pgtables(): an entry left in a range no VMA covers after the zap or move (a fault populated an unmapped range, or a move left one behind; its pages leak: Bad rss-counter state)', args: ['addr', 'pte'] },
  { id: Viol.RefcountAdditionOnZero, name: 'refcount-addition-on-0', title: 'WARNING: refcount_t: addition on 0; use-after-free', args: ['old'] },
  { id: Viol.MmNotPinned, name: 'mm-not-pinned', title: 'BUG: KASAN: use of an mm_struct the caller holds no reference to (another mm\'s, reached through a recycled object; it can be freed under the access): mmgrab() missing', args: ['mm', 'site'] },
  { id: Viol.ReadOnlyPageChanged, name: 'readonly-page-changed', title: 'BUG: a page changed while its only mapping was read-only: a write went through a stale writable translation (a TLB flush missing after the permission change)', args: ['page', 'before', 'after', 'mm slot'] },
  { id: Viol.AnonRmapMismatch, name: 'anon-rmap-mismatch', title: 'BUG: an anon folio is mapped where its rmap cannot find it (__page_check_anon_rmap): the VMA has no anon_vma, or one of another root, or maps another index there', args: ['folio', 'folio anon_vma (-1 none)', 'VMA anon_vma (-1 none)', 'page'] },
  { id: Viol.OracleFailed, name: 'oracle-failed', title: 'BUG: scenario oracle failed', args: ['a', 'b', 'c', 'd'] },
  { id: Viol.RwsemCountCorrupt, name: 'rwsem-count-corrupt', title: 'BUG: rwsem count corrupt (negative reader count)', args: ['count'] },
];

const byId = new Map(KINDS.map((k) => [k.id, k]));
export function kindInfo(id: number): KindInfo {
  return byId.get(id) ?? { id, name: `kind-${id}`, title: `BUG: violation kind ${id}`, args: [] };
}
