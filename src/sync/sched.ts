import { RUN_ABORTED, type Task } from '../shm/task.js';
import { H_ABORT, T_KILL, T_WAKE_SEQ } from '../shm/layout.js';

/** How long one park lasts before the abort word is re-checked (ms). */
export const WAIT_SLICE_MS = 20;
export { EINTR } from '../errno.js';
/** Deadline value for TASK_UNINTERRUPTIBLE waits: only a run abort ends them. */
export const UNINTERRUPTIBLE = -1;

/** Sample this thread's wake word before publishing that it will sleep. */
export function prepareToWait(t: Task): number {
  return Atomics.load(t.i32, t.base + T_WAKE_SEQ);
}

/**
 * schedule(): park until a waker moves our wake word away from `snap`, or one
 * slice passes. Throws RunAborted if the run is being aborted, so a model
 * deadlock never hangs the harness (DESIGN.md rule 4).
 */
export function schedule(t: Task, snap: number, sliceMs: number = WAIT_SLICE_MS): void {
  Atomics.wait(t.i32, t.base + T_WAKE_SEQ, snap, sliceMs);
  if (Atomics.load(t.i32, H_ABORT) !== 0) throw RUN_ABORTED;
}

/** wake_up_process(): bump the target's wake word and notify it. */
export function wakeUpProcess(i32: Int32Array, targetBase: number): void {
  Atomics.add(i32, targetBase + T_WAKE_SEQ, 1);
  Atomics.notify(i32, targetBase + T_WAKE_SEQ, 1);
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
