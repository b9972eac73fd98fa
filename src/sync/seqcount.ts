import type { Task } from '../shm/task.js';
import { BUG_SEQCOUNT_BEGIN_ODD, BUG_SEQCOUNT_NO_RETRY } from '../shm/bugbits.js';
import { checkAbort } from './sched.js';
import { ctlPoint, ctlWait, P_SEQ_READ } from './ctl.js';

/*
 * seqcount_t (include/linux/seqlock.h): one Int32 word, even when no write is
 * in progress. Writers are serialised externally. JS Atomics are sequentially
 * consistent, which subsumes the kernel's smp_wmb/smp_rmb/acquire pairs.
 */

/** seqcount_init(). */
export function seqcountInit(i32: Int32Array, s: number): void {
  Atomics.store(i32, s, 0);
}

/** raw_write_seqcount_begin() / write_seqcount_begin(): counter becomes odd. */
export function writeSeqcountBegin(i32: Int32Array, s: number): void {
  Atomics.add(i32, s, 1);
}

/** raw_write_seqcount_end() / write_seqcount_end(): counter becomes even again. */
export function writeSeqcountEnd(i32: Int32Array, s: number): void {
  Atomics.add(i32, s, 1);
}

/** read_seqcount_begin(): wait until no writer is active, return the (even) sequence. */
export function readSeqcountBegin(t: Task, s: number): number {
  const i32 = t.i32;
  const accept = (t.bugs0 & BUG_SEQCOUNT_BEGIN_ODD) !== 0;
  if (t.ctl !== 0) ctlPoint(t, P_SEQ_READ, s);
  for (let spins = 0; ; spins++) {
    const v = Atomics.load(i32, s);
    if ((v & 1) === 0 || accept) return v;
    if (t.ctl !== 0) ctlWait(t, s, v, Infinity);
    else if ((spins & 1023) === 1023) {
      checkAbort(t);
      Atomics.wait(i32, s, v, 0.05);
    }
  }
}

/** raw_read_seqcount(): one load, no wait for an even value. */
export function rawReadSeqcount(i32: Int32Array, s: number): number {
  return Atomics.load(i32, s);
}

/** raw_seqcount_begin(): the sequence with the low bit cleared (an active writer makes retry fail). */
export function rawSeqcountBegin(i32: Int32Array, s: number): number {
  return Atomics.load(i32, s) & ~1;
}

/** raw_seqcount_try_begin(): returns the sequence, or -1 if a writer is active. */
export function rawSeqcountTryBegin(i32: Int32Array, s: number): number {
  const v = Atomics.load(i32, s);
  return (v & 1) !== 0 ? -1 : v;
}

/** read_seqcount_retry(): has the counter moved since `start`? */
export function readSeqcountRetry(t: Task, s: number, start: number): boolean {
  if ((t.bugs0 & BUG_SEQCOUNT_NO_RETRY) !== 0) return false;
  return Atomics.load(t.i32, s) !== start;
}
