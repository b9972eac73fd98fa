import * as B from '../shm/bugbits.js';

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
    scenario: 'rwsem-torture', threads: 4,
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
];

const byId = new Map(BUGS.map((b) => [b.id, b]));

export function findBug(id: string): BugEntry | undefined {
  return byId.get(id);
}

export function bugIds(): string[] {
  return BUGS.map((b) => b.id);
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
