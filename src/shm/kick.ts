import { H_NTHREADS, H_PAUSE, H_PT_BASE, H_PT_STRIDE, T_SLEEP_ON } from './layout.js';

/**
 * Kick every sleeper of the arena (a spurious wake-up: each wait re-tests its
 * condition) and the pause barrier: the harness calls it when it pauses,
 * stops or aborts a run, and a worker when its violation stops the run.
 * Sleepers publish their word in T_SLEEP_ON (sleepOn in src/sync/sched.ts).
 */
export function kickSleepers(i32: Int32Array): void {
  const base = i32[H_PT_BASE];
  const stride = i32[H_PT_STRIDE];
  for (let tid = 0, n = i32[H_NTHREADS]; tid < n; tid++) {
    const w = Atomics.load(i32, base + tid * stride + T_SLEEP_ON);
    if (w !== 0) Atomics.notify(i32, w - 1);
  }
  Atomics.notify(i32, H_PAUSE);
}
