/**
 * Lock classes (lockdep's struct lock_class_key). Statistics are kept per
 * class in each thread's region and summed by the main thread, like
 * /proc/lock_stat. The numbers are stable: they are stored in the arena.
 */
export const LC_TORTURE_RWSEM = 0;
export const LC_TORTURE_SPIN = 1;
export const LC_TORTURE_SEQ = 2;
export const LC_RCU_GP = 3;
export const LC_MMAP_LOCK = 4;
export const LC_VMA_LOCK = 5;
export const LC_PTL = 6;
export const LC_PAGE_TABLE_LOCK = 7;
export const LC_ANON_VMA = 8;
export const LC_FOLIO_LOCK = 9;
export const LC_UFFD = 10;
export const LC_TORTURE_RWSEM_B = 11;
export const LC_REFCOUNT_TABLE = 12;
export const LC_COMPLETION = 13;
export const LC_VMA_WRITER_WAIT = 14;
export const LC_SLAB = 15;

export const LOCK_CLASS_NAMES: readonly string[] = [
  'torture_rwsem', 'torture_spinlock', 'torture_seqcount', 'rcu_gp', '&mm->mmap_lock',
  'vm_lock', 'ptlock', '&mm->page_table_lock', '&anon_vma->rwsem', 'folio_lock', 'uffd_wait',
  'torture_rwsem_b', 'refcount_table', 'completion', '&mm->vma_writer_wait', 'slab_lock',
];

/** Lockdep subclass of the second lock of a class held at once (include/linux/lockdep.h). */
export const SINGLE_DEPTH_NESTING = 1;

/** Lock modes as lockdep records them. */
export const MODE_WRITE = 0;
export const MODE_READ = 1;

/** What a thread is waiting for (T_WAIT_INFO kind field). */
export const WAIT_LOCK = 0;
export const WAIT_RCU_GP = 1;
export const WAIT_COMPLETION = 2;
export const WAIT_REFCOUNT = 3;
