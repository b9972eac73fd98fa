import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { H_PAUSE, H_STOP, T_CTR, T_F_CTR } from '../src/shm/layout.js';
import { ctlRunning, ctlDelay } from '../src/sync/ctl.js';

/**
 * The actor loop's guard, called once per operation: returns false when the
 * run is stopping; parks while the harness stutters or quiesces the world;
 * refreshes the bug switches (read once per operation).
 */
export function running(t: Task): boolean {
  const i32 = t.i32;
  if (t.ctl !== 0) {
    if (!ctlRunning(t)) return false;
    t.readBugs();
    t.progress();
    return true;
  }
  if (Atomics.load(i32, H_STOP) !== 0) return false;
  if (Atomics.load(i32, H_PAUSE) !== 0) t.parkIfPaused();
  t.readBugs();
  t.progress();
  return true;
}

let controlled: Task | null = null;
/**
 * This worker runs a controlled schedule as `t` (null: it does not): a busy
 * delay then takes virtual time instead of spinning (only the token holder
 * runs), and the other threads run meanwhile (ctlDelay).
 */
export function setControlled(t: Task | null): void {
  controlled = t;
}

/** Busy delay of about `n` loop iterations (a critical-section body). */
export function spinDelay(i32: Int32Array, idx: number, n: number): number {
  if (controlled !== null) {
    ctlDelay(controlled, n);
    return 0;
  }
  let x = 0;
  for (let k = 0; k < n; k++) x += Atomics.load(i32, idx);
  return x;
}

/** Sum counter `c` over the threads in `tids`. */
export function sumCtr(arena: Arena, tids: readonly number[], c: number): number {
  let s = 0;
  for (const tid of tids) s += arena.i32[arena.pt(tid) + T_CTR + c];
  return s;
}

export function ctr(arena: Arena, tid: number, c: number): number {
  return arena.i32[arena.pt(tid) + T_CTR + c];
}

/** Float counter `i` of thread `tid`. */
export function fctr(arena: Arena, tid: number, i: number): number {
  return arena.f64[((arena.pt(tid) + T_F_CTR) >> 1) + i];
}

/** Threads whose role is `role`. */
export function tidsOf(roles: readonly string[], role: string): number[] {
  const out: number[] = [];
  roles.forEach((r, i) => {
    if (r === role) out.push(i);
  });
  return out;
}

/**
 * locktorture's statistics line: "Writes:  Total: N  Max/Min: a/b  Fail: f",
 * with `???` when max/2 > min (unfairness) and `!!!` when fail != 0.
 */
export function tortureLine(label: string, arena: Arena, tids: readonly number[], acqCtr: number, failCtr: number): { line: string; total: number; fail: number; unfair: boolean } {
  let total = 0;
  let fail = 0;
  let max = 0;
  let min = Infinity;
  for (const tid of tids) {
    const a = ctr(arena, tid, acqCtr);
    total += a;
    fail += ctr(arena, tid, failCtr);
    if (a > max) max = a;
    if (a < min) min = a;
  }
  if (tids.length === 0) min = 0;
  const unfair = tids.length > 1 && max / 2 > min;
  const line = `${label.padEnd(7)} Total: ${total}  Max/Min: ${max}/${min} ${unfair ? '???' : '   '} Fail: ${fail} ${fail ? '!!!' : ''}`.trimEnd();
  return { line, total, fail, unfair };
}

/** Round a word count up to whole cache lines so hot words get their own line. */
export const LINE_WORDS = 16;
