import type { Task } from '../shm/task.js';
import { waitBegin, waitEnd } from './lockdep.js';
import { LC_COMPLETION, MODE_WRITE, WAIT_COMPLETION } from './lockclass.js';
import { EINTR, fatalSignalPending, sleepBudget, sleepOn } from './sched.js';
import { ctlNotify } from './ctl.js';

/*
 * struct completion (kernel/sched/completion.c) and a minimal wait queue
 * (wait_event / wake_up_all) on one Int32 word each. Waits are bounded and
 * abortable like every other wait.
 */
const COMPLETE_ALL = 0x3fffffff;

/** init_completion() / reinit_completion(). */
export function initCompletion(i32: Int32Array, c: number): void {
  Atomics.store(i32, c, 0);
}

/** complete(): release one waiter. */
export function complete(i32: Int32Array, c: number): void {
  const v = Atomics.load(i32, c);
  if (v !== COMPLETE_ALL) Atomics.add(i32, c, 1);
  Atomics.notify(i32, c, 1);
  ctlNotify(i32, c);
}

/** complete_all(). */
export function completeAll(i32: Int32Array, c: number): void {
  Atomics.store(i32, c, COMPLETE_ALL);
  Atomics.notify(i32, c);
  ctlNotify(i32, c);
}

/** try_wait_for_completion(). */
export function tryWaitForCompletion(i32: Int32Array, c: number): boolean {
  for (;;) {
    const v = Atomics.load(i32, c);
    if (v === 0) return false;
    if (v === COMPLETE_ALL) return true;
    if (Atomics.compareExchange(i32, c, v, v - 1) === v) return true;
  }
}

/** wait_for_completion_killable_timeout(): 0 when completed, -EINTR when killed or timed out. */
export function waitForCompletionKillable(t: Task, c: number, timeoutMs: number = Infinity): number {
  const i32 = t.i32;
  if (tryWaitForCompletion(i32, c)) return 0;
  const deadline = timeoutMs === Infinity ? Infinity : t.now() + timeoutMs;
  const since = waitBegin(t, c, LC_COMPLETION, MODE_WRITE, WAIT_COMPLETION);
  let ok = false;
  try {
    for (;;) {
      if (tryWaitForCompletion(i32, c)) {
        ok = true;
        return 0;
      }
      if (fatalSignalPending(t, deadline)) return EINTR;
      // complete() notifies the word; the harness kicks it on stop and abort.
      sleepOn(t, c, 0, sleepBudget(t, deadline));
    }
  } finally {
    waitEnd(t, LC_COMPLETION, since, !ok);
  }
}

/** Wait queue head: a sequence word bumped by every wake_up_all(). */
export function initWaitqueueHead(i32: Int32Array, wq: number): void {
  Atomics.store(i32, wq, 0);
}

/** prepare_to_wait(): sample the queue's sequence before testing the condition. */
export function prepareToWaitEvent(i32: Int32Array, wq: number): number {
  return Atomics.load(i32, wq);
}

/**
 * Sleep on the queue until wake_up_all() (or a harness kick on pause, stop
 * or abort), a safety timeout, or the deadline. Returns -EINTR when killed or
 * timed out, else 0 (re-test the condition).
 */
export function waitEventSlice(t: Task, wq: number, snap: number, deadline: number): number {
  if (fatalSignalPending(t, deadline)) return EINTR;
  sleepOn(t, wq, snap, sleepBudget(t, deadline));
  return 0;
}

/** wake_up_all(). */
export function wakeUpAll(i32: Int32Array, wq: number): void {
  Atomics.add(i32, wq, 1);
  Atomics.notify(i32, wq);
  ctlNotify(i32, wq);
}
