import { RUN_ABORTED, type Task } from '../shm/task.js';
import { Viol } from '../shm/kinds.js';
import { H_ABORT, T_KILL, T_SLEEP_ON, T_WAKE_SEQ, T_F_WOKEN_AT, T_WAIT_LOCK, T_WAIT_INFO, T_WAKE_HIST, WH_BUCKETS } from '../shm/layout.js';
import { timeBucket } from './lockdep.js';
import { kickSleepers } from '../shm/kick.js';
import { ctlKick, ctlPoint, ctlWait, P_WAKE } from './ctl.js';

export { kickSleepers };

export { EINTR } from '../errno.js';
/** Deadline value for TASK_UNINTERRUPTIBLE waits: only a run abort ends them. */
export const UNINTERRUPTIBLE = -1;

/** Sample this thread's wake word before publishing that it will sleep. */
export function prepareToWait(t: Task): number {
  return Atomics.load(t.i32, t.base + T_WAKE_SEQ);
}

/**
 * How long a woken wait sleeps before it asks whether it missed its wake-up
 * (ms). Nothing polls: wakers wake sleepers, and the harness wakes every
 * thread when it aborts or kills a run; this is a safety timeout.
 */
export const WAKE_TIMEOUT_MS = 500;

/**
 * schedule_timeout(): park until a waker moves our wake word away from
 * `snap`, or `timeoutMs` passes. Returns true if woken. Throws RunAborted
 * if the run is being aborted.
 */
export function scheduleTimeout(t: Task, snap: number, timeoutMs: number): boolean {
  if (t.ctl !== 0) ctlWait(t, t.base + T_WAKE_SEQ, snap, timeoutMs);
  else Atomics.wait(t.i32, t.base + T_WAKE_SEQ, snap, timeoutMs);
  if (Atomics.load(t.i32, H_ABORT) !== 0) throw RUN_ABORTED;
  if (Atomics.load(t.i32, t.base + T_WAKE_SEQ) === snap) return false;
  wakeLatency(t);
  return true;
}

/**
 * Account the wake-up latency of a woken wait: from the waker's
 * wake_up_process() to this thread running again, in the histogram of the
 * class it waits for (T_WAIT_INFO, set by waitBegin).
 */
function wakeLatency(t: Task): void {
  const f = (t.base + T_F_WOKEN_AT) >> 1;
  const at = t.f64[f];
  if (at === 0) return;
  t.f64[f] = 0;
  if (Atomics.load(t.i32, t.base + T_WAIT_LOCK) === 0) return;
  const cls = t.i32[t.base + T_WAIT_INFO] & 0xff;
  t.i32[t.base + T_WAKE_HIST + cls * WH_BUCKETS + timeBucket(Math.max(0, t.now() - at))]++;
}

/**
 * The lost wake-up check of a woken wait that timed out while what it waits
 * for already holds: wait one more WAKE_TIMEOUT_MS for a wake that is merely
 * late (a waker preempted between its store and its wake); if none comes,
 * report the wait. Returns after the report (the caller then proceeds, as a
 * real sleeper would at its next spurious wake-up). Free under --no-check.
 */
export function lostWakeUpCheck(t: Task, snap: number, lock: number, cls: number, since: number, lastRelease: number): void {
  if (!t.checks) return;
  if (scheduleTimeout(t, snap, WAKE_TIMEOUT_MS)) return;
  t.violation(Viol.LostWakeUp, lock, lock, cls, Math.round(t.now() - since), lastRelease);
}

/** The timeout of one sleep of a killable wait with `deadline`: at most WAKE_TIMEOUT_MS. */
export function sleepBudget(t: Task, deadline: number): number {
  if (deadline === UNINTERRUPTIBLE || deadline === Infinity) return WAKE_TIMEOUT_MS;
  return Math.max(0, Math.min(WAKE_TIMEOUT_MS, deadline - t.now()));
}

/**
 * Sleep on `word` while it holds `expect`, for at most `ms` (a safety
 * timeout): the waker notifies the word; the word is published in the
 * thread's T_SLEEP_ON so the harness can kick the sleeper when it pauses,
 * stops or aborts the run. Throws RunAborted if the run is being aborted.
 */
export function sleepOn(t: Task, word: number, expect: number, ms: number): void {
  const i32 = t.i32;
  const slot = t.base + T_SLEEP_ON;
  Atomics.store(i32, slot, word + 1);
  if (Atomics.load(i32, H_ABORT) !== 0) {
    Atomics.store(i32, slot, 0);
    throw RUN_ABORTED;
  }
  if (t.ctl !== 0) ctlWait(t, word, expect, ms, true);
  else Atomics.wait(i32, word, expect, ms);
  Atomics.store(i32, slot, 0);
  if (Atomics.load(i32, H_ABORT) !== 0) throw RUN_ABORTED;
}

/** Wake every thread of the arena (the harness, when it aborts or kills a run). */
export function wakeAll(i32: Int32Array, ptBase: number, ptStride: number, nthreads: number): void {
  for (let tid = 0; tid < nthreads; tid++) wakeWord(i32, ptBase + tid * ptStride);
  kickSleepers(i32);
  ctlKick(i32);
}

function wakeWord(i32: Int32Array, targetBase: number): void {
  Atomics.add(i32, targetBase + T_WAKE_SEQ, 1);
  Atomics.notify(i32, targetBase + T_WAKE_SEQ, 1);
}

/**
 * wake_up_process() by `t`: stamp the wake for the waiter's wake-up
 * latency, bump the target's wake word (which orders the stamp before it)
 * and notify it.
 */
export function wakeUpProcess(t: Task, targetBase: number): void {
  t.f64[(targetBase + T_F_WOKEN_AT) >> 1] = t.now();
  wakeWord(t.i32, targetBase);
  if (t.ctl !== 0) ctlPoint(t, P_WAKE, t.i32[targetBase]);
}

/**
 * fatal_signal_pending() for killable waits: the thread was told to die
 * (T_KILL), the run is stopping, or the caller's timeout has passed.
 */
export function fatalSignalPending(t: Task, deadline: number): boolean {
  if (deadline === UNINTERRUPTIBLE) return false;
  if (t.i32[t.base + T_KILL] !== 0) return true;
  if (deadline !== Infinity && t.now() >= deadline) return true;
  return false;
}

/** Throw if the run is aborted (for spin loops). */
export function checkAbort(t: Task): void {
  if (Atomics.load(t.i32, H_ABORT) !== 0) throw RUN_ABORTED;
}
