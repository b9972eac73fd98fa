import type { Task } from '../shm/task.js';
import { BUG_REFCOUNT_INC_ON_ZERO } from '../shm/bugbits.js';
import { Viol } from '../shm/kinds.js';
import { ctlPoint, P_REFCOUNT } from './ctl.js';

/*
 * refcount_t (include/linux/refcount.h) on one Int32 word. Saturates instead
 * of wrapping; underflow is reported like the kernel's WARN.
 */
export const REFCOUNT_SATURATED = 0x40000000 | 0x20000000;

/** refcount_set() / refcount_set_release(). */
export function refcountSet(i32: Int32Array, r: number, v: number): void {
  Atomics.store(i32, r, v);
}

/** refcount_read(). */
export function refcountRead(i32: Int32Array, r: number): number {
  return Atomics.load(i32, r);
}

/** refcount_inc_not_zero(): take a reference unless the object is already dead. */
export function refcountIncNotZero(t: Task, r: number): boolean {
  const i32 = t.i32;
  if (t.ctl !== 0) ctlPoint(t, P_REFCOUNT, r);
  const onZero = (t.bugs0 & BUG_REFCOUNT_INC_ON_ZERO) !== 0;
  let v = Atomics.load(i32, r);
  for (;;) {
    if (v === 0 && !onZero) return false;
    if (v >= REFCOUNT_SATURATED) return true;
    const seen = Atomics.compareExchange(i32, r, v, v + 1);
    if (seen === v) return true;
    v = seen;
  }
}

/**
 * __refcount_inc_not_zero_limited_acquire() (6.15): increment only if the
 * value is non-zero and the result stays <= limit. Returns the old value on
 * success, or `-1 - old` on failure (so callers can tell 0 from "over limit").
 * `likely` is the value the caller expects (its first compare-exchange).
 */
export function refcountIncNotZeroLimited(t: Task, r: number, limit: number, likely: number): number {
  const i32 = t.i32;
  if (t.ctl !== 0) ctlPoint(t, P_REFCOUNT, r);
  const onZero = (t.bugs0 & BUG_REFCOUNT_INC_ON_ZERO) !== 0;
  // atomic_try_cmpxchg() from the caller's likely value: a wrong guess costs
  // nothing but the failed CAS, which returns the value to go on from.
  let v = likely;
  for (;;) {
    if ((v === 0 && !onZero) || v + 1 > limit) return -1 - v;
    const seen = Atomics.compareExchange(i32, r, v, v + 1);
    if (seen === v) return v;
    v = seen;
  }
}

/** refcount_add_not_zero(): add `n` unless zero; returns the old value, or -1 on failure (old == 0). */
export function refcountAddNotZero(t: Task, r: number, n: number): number {
  const i32 = t.i32;
  if (t.ctl !== 0) ctlPoint(t, P_REFCOUNT, r);
  let v = Atomics.load(i32, r);
  for (;;) {
    if (v === 0) return -1;
    const seen = Atomics.compareExchange(i32, r, v, v + n);
    if (seen === v) return v;
    v = seen;
  }
}

/** refcount_inc(): the caller already holds a reference; from 0 the kernel WARNs (addition on 0; use-after-free). */
export function refcountInc(t: Task, r: number, obj: number): void {
  if (t.ctl !== 0) ctlPoint(t, P_REFCOUNT, r);
  const old = Atomics.add(t.i32, r, 1);
  if (old <= 0) t.violation(Viol.RefcountAdditionOnZero, obj, old, 0, 0, 0);
}

/** refcount_add(). */
export function refcountAdd(t: Task, r: number, n: number): number {
  if (t.ctl !== 0) ctlPoint(t, P_REFCOUNT, r);
  return Atomics.add(t.i32, r, n) + n;
}

/** refcount_sub_and_test() / __refcount_sub_and_test(): returns the new value. */
export function refcountSub(t: Task, r: number, n: number, obj: number): number {
  if (t.ctl !== 0) ctlPoint(t, P_REFCOUNT, r);
  const old = Atomics.sub(t.i32, r, n);
  if (old - n < 0) t.violation(Viol.RefcountUnderflow, obj, old, n, 0, 0);
  return old - n;
}

/** refcount_dec_and_test(): true when this dropped the last reference. */
export function refcountDecAndTest(t: Task, r: number, obj: number): boolean {
  if (t.ctl !== 0) ctlPoint(t, P_REFCOUNT, r);
  const old = Atomics.sub(t.i32, r, 1);
  if (old <= 0) {
    t.violation(Viol.RefcountUnderflow, obj, old, 1, 0, 0);
    return false;
  }
  return old === 1;
}
