import type { Arena } from '../shm/arena.js';
import { formatArgs, type DecodedViolation } from './collect.js';
import { traceTail, formatEvent, lastWindow, type TraceEvent } from '../trace/decode.js';
import { heldLocks } from '../check/waitgraph.js';

/**
 * A race report that reads like a kernel splat: the title, the thread and
 * its role, the objects' state, the locks the thread held, the window it
 * widened last, the interleaved event tail of every thread, and the command
 * that reproduces the run.
 */
export function raceReport(arena: Arena, v: DecodedViolation, events: TraceEvent[], roles: readonly string[], rerun: string | undefined, tail = 30): string[] {
  const lines: string[] = [];
  lines.push(v.title);
  const who = v.tid >= 0 ? `mmtorture/${v.tid} (${roles[v.tid] ?? '?'})` : 'main thread (quiescent check)';
  lines.push(`  thread: ${who} at ${v.timeMs.toFixed(3)} ms`);
  const args = formatArgs(v);
  if (v.obj || args) lines.push(`  object @${v.obj}${args ? `: ${args}` : ''}`);
  if (v.tid >= 0) {
    const held = heldLocks(arena, v.tid);
    lines.push(`  ${held.length} lock${held.length === 1 ? '' : 's'} held by mmtorture/${v.tid} now:`);
    held.forEach((h, i) => lines.push(`    #${i}: ${h.cls} (${h.mode}) [lock @${h.lock}]`));
    const w = lastWindow(arena, v.tid);
    if (w) lines.push(`  race window this thread widened last: ${w}`);
  }
  const tailEv = traceTail(events, v.timeMs, tail);
  if (tailEv.length) {
    lines.push(`  events before the report (all threads, last ${tailEv.length}):`);
    for (const e of tailEv) lines.push('  ' + formatEvent(e));
  }
  if (rerun) lines.push(`  rerun: ${rerun}`);
  return lines;
}
