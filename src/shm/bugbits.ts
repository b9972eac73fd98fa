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
