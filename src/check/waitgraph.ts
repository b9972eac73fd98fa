import type { Arena } from '../shm/arena.js';
import {
  T_WAIT_LOCK, T_WAIT_INFO, T_F_WAIT_SINCE, T_HELD, T_HELD_DEPTH, HELD_MAX, HELD_W, HE_LOCK, HE_INFO,
  T_RCU_CTR, T_STATE, T_CUR_OP, H_RCU_GP_SEQ,
} from '../shm/layout.js';
import { LOCK_CLASS_NAMES, WAIT_RCU_GP, WAIT_LOCK } from '../sync/lockclass.js';
import { rwsemWriteOwner } from '../sync/rwsem.js';

/**
 * The hung-task detector's view of the world: what every thread waits for,
 * what it holds, and the wait-for graph between threads (kernel/hung_task.c
 * plus lockdep's "other info that might help us debug this").
 */
export interface HeldLock {
  lock: number;
  cls: string;
  mode: 'read' | 'write';
}

export interface ThreadWait {
  tid: number;
  state: number;
  op: number;
  /** null if the thread is not waiting. */
  waitingFor: null | { lock: number; cls: string; mode: 'read' | 'write'; kind: 'lock' | 'rcu-gp' | 'completion' | 'other'; forMs: number };
  held: HeldLock[];
  /** Threads this one waits for (holders of the lock, or RCU readers blocking the GP). */
  blockedBy: number[];
}

export interface WaitGraph {
  threads: ThreadWait[];
  /** A wait-for cycle (thread ids, first repeated at the end), or null. */
  cycle: number[] | null;
}

function className(cls: number): string {
  return LOCK_CLASS_NAMES[cls] ?? `class#${cls}`;
}

export function heldLocks(arena: Arena, tid: number): HeldLock[] {
  const i32 = arena.i32;
  const b = arena.pt(tid);
  const depth = Math.min(i32[b + T_HELD_DEPTH], HELD_MAX);
  const out: HeldLock[] = [];
  for (let k = 0; k < depth; k++) {
    const e = b + T_HELD + k * HELD_W;
    const info = i32[e + HE_INFO];
    out.push({ lock: i32[e + HE_LOCK], cls: className(info & 0xff), mode: ((info >> 8) & 0xf) === 1 ? 'read' : 'write' });
  }
  return out;
}

/** Build the wait-for graph from what each thread recorded before it parked. */
export function buildWaitGraph(arena: Arena): WaitGraph {
  const i32 = arena.i32;
  const n = arena.nthreads;
  const now = arena.now();
  const held = Array.from({ length: n }, (_, tid) => heldLocks(arena, tid));
  const threads: ThreadWait[] = [];
  for (let tid = 0; tid < n; tid++) {
    const b = arena.pt(tid);
    const w = Atomics.load(i32, b + T_WAIT_LOCK);
    const tw: ThreadWait = { tid, state: i32[b + T_STATE], op: i32[b + T_CUR_OP], waitingFor: null, held: held[tid], blockedBy: [] };
    if (w !== 0) {
      const lock = w - 1;
      const info = i32[b + T_WAIT_INFO];
      const kindNo = (info >> 12) & 0xf;
      const kind = kindNo === WAIT_LOCK ? 'lock' : kindNo === WAIT_RCU_GP ? 'rcu-gp' : kindNo === 2 ? 'completion' : 'other';
      tw.waitingFor = {
        lock, cls: className(info & 0xff), mode: ((info >> 8) & 0xf) === 1 ? 'read' : 'write', kind,
        forMs: now - arena.f64[(b + T_F_WAIT_SINCE) >> 1],
      };
      const by = new Set<number>();
      if (kind === 'rcu-gp') {
        const seq = Atomics.load(i32, H_RCU_GP_SEQ);
        for (let k = 0; k < n; k++) {
          if (k === tid) continue;
          const c = Atomics.load(i32, arena.pt(k) + T_RCU_CTR);
          if (c !== 0 && ((c - seq) | 0) < 0) by.add(k);
        }
      } else {
        for (let k = 0; k < n; k++) {
          if (k !== tid && held[k].some((h) => h.lock === lock)) by.add(k);
        }
        if (kind === 'lock' && by.size === 0) {
          const wo = rwsemWriteOwner(i32, lock);
          if (wo >= 0 && wo < n && wo !== tid) by.add(wo);
        }
      }
      tw.blockedBy = [...by].sort((a, b2) => a - b2);
    }
    threads.push(tw);
  }
  return { threads, cycle: findCycle(threads) };
}

function findCycle(threads: ThreadWait[]): number[] | null {
  const color = new Array<number>(threads.length).fill(0);
  const stack: number[] = [];
  let found: number[] | null = null;
  const dfs = (u: number): void => {
    if (found) return;
    color[u] = 1;
    stack.push(u);
    for (const v of threads[u].blockedBy) {
      if (found) return;
      if (color[v] === 1) {
        found = stack.slice(stack.indexOf(v)).concat([v]);
        return;
      }
      if (color[v] === 0) dfs(v);
    }
    stack.pop();
    color[u] = 2;
  };
  for (let u = 0; u < threads.length && !found; u++) if (color[u] === 0) dfs(u);
  return found;
}

/** Render the graph like the kernel's hung-task + lockdep report. */
export function formatWaitGraph(g: WaitGraph, blockedMs: number, name: (addr: number) => string = (a) => `lock @${a}`): string[] {
  const lines: string[] = [];
  for (const t of g.threads) {
    if (!t.waitingFor) continue;
    const w = t.waitingFor;
    lines.push(`INFO: task mmtorture/${t.tid} blocked for more than ${(blockedMs / 1000).toFixed(1)} seconds (waiting ${w.forMs.toFixed(0)} ms).`);
    const what = w.kind === 'rcu-gp' ? 'an RCU grace period' : `${w.cls} (${w.mode}) [${name(w.lock)}]`;
    lines.push(`  waiting for ${what}${t.blockedBy.length ? `, blocked by: ${t.blockedBy.map((b) => `tid ${b}`).join(', ')}` : ''}`);
    lines.push(`  ${t.held.length} lock${t.held.length === 1 ? '' : 's'} held by mmtorture/${t.tid}:`);
    t.held.forEach((h, i) => lines.push(`    #${i}: ${h.cls} (${h.mode}) [${name(h.lock)}]`));
  }
  if (g.cycle) {
    lines.push('');
    lines.push('WARNING: possible circular locking dependency detected (wait-for cycle):');
    lines.push('  ' + g.cycle.map((tid) => `tid ${tid}`).join(' -> '));
  }
  return lines;
}
