import type { Arena } from '../shm/arena.js';
import { T_TR_HEAD, T_TR_RING, TR_CAP, TR_WORDS, TR_T_F64, TR_OP, TR_OBJ, TR_A, TR_B, TR_C } from '../shm/layout.js';
import { EVENT_NAMES, WINDOW_NAMES, S_WINDOW } from '../mm/debug.js';

/** One flight-recorder event. */
export interface TraceEvent {
  tid: number;
  timeMs: number;
  op: string;
  obj: number;
  args: Record<string, number>;
}

/** Decode every thread's ring and merge the events by time. */
export function decodeTrace(arena: Arena): TraceEvent[] {
  const i32 = arena.i32;
  const out: TraceEvent[] = [];
  for (let tid = 0; tid < arena.nthreads; tid++) {
    const b = arena.pt(tid);
    const head = i32[b + T_TR_HEAD];
    const n = Math.min(head, TR_CAP);
    for (let k = head - n; k < head; k++) {
      const e = b + T_TR_RING + (k & (TR_CAP - 1)) * TR_WORDS;
      const op = i32[e + TR_OP];
      const names = EVENT_NAMES[op] ?? [`event ${op}`, 'a', 'b', 'c'];
      const args: Record<string, number> = {};
      const vals = [i32[e + TR_A], i32[e + TR_B], i32[e + TR_C]];
      for (let j = 0; j < 3; j++) if (names[j + 1]) args[names[j + 1]] = vals[j];
      out.push({ tid, timeMs: arena.f64[(e + TR_T_F64) >> 1], op: names[0], obj: i32[e + TR_OBJ], args });
    }
  }
  return out.sort((x, y) => x.timeMs - y.timeMs);
}

/** The last `n` events at or before `timeMs`, interleaved across threads. */
export function traceTail(events: TraceEvent[], timeMs: number, n: number): TraceEvent[] {
  let end = events.length;
  while (end > 0 && events[end - 1].timeMs > timeMs + 0.001) end--;
  return events.slice(Math.max(0, end - n), end);
}

export function formatEvent(e: TraceEvent): string {
  const args = Object.entries(e.args).map(([k, v]) => `${k}=${v}`).join(' ');
  return `  [${e.timeMs.toFixed(3).padStart(11)} ms] T${e.tid}  ${e.op} @${e.obj}${args ? ' ' + args : ''}`;
}

/** The race window thread `tid` widened last (with --jitter), if any. */
export function lastWindow(arena: Arena, tid: number): string | null {
  const w = arena.i32[arena.pt(tid) + S_WINDOW];
  return w > 0 ? (WINDOW_NAMES[w] ?? `window ${w}`) : null;
}
