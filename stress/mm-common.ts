import { snapStart, snapEnd, snapVma, mtSnapshot } from '../src/mm/tree.js';
import type { Arena } from '../src/shm/arena.js';
import { Task } from '../src/shm/task.js';
import { MmCtx, modelInit, modelWords, modelSetupZeroPage } from '../src/mm/model.js';
import { mmAlloc, exitMmap, mmFree } from '../src/mm/mmap.js';
import { synchronizeRcu, rcuProcessCallbacks } from '../src/sync/rcu.js';
import { shrinkSwapCache } from '../src/mm/swap.js';
import { checkAddressSpaces, checkNoLeaks } from '../src/check/invariants.js';
import { MM_USERS, MC_NAMES, MM_MMAP_LOCK, VM_READ, VM_WRITE } from '../src/mm/layout.js';
import type { MmapArgs } from '../src/mm/mmap.js';
import type { ScenarioOptions } from './types.js';

/** A private read-write anonymous mapping: the mmap arguments every actor reuses (built once). */
export const ANON: MmapArgs = { flags: VM_READ | VM_WRITE };
import { sumCtr } from './common.js';

/*
 * Helpers shared by the scenarios that run on the mm model: the model sits
 * at the start of the scenario region; the scenario's own words follow it.
 */

/** Words for the model plus `own` scenario words. */
export function mmScenarioWords(opts: ScenarioOptions, own: number): number {
  return Math.ceil(modelWords(opts.model) / 16) * 16 + own;
}

/**
 * Lay out the model, allocate the zero page and `nmms` address spaces; returns
 * a setup context (thread 0's view, used before the workers start) and the mms.
 */
export function mmSetup(arena: Arena, opts: ScenarioOptions, nmms: number): { c: MmCtx; mms: number[] } {
  modelInit(arena, arena.scenBase, opts.model);
  const c = new MmCtx(new Task(arena, 0), arena.scenBase);
  modelSetupZeroPage(c);
  const mms: number[] = [];
  for (let k = 0; k < nmms; k++) mms.push(mmAlloc(c));
  return { c, mms };
}

/** The worker's handle on the model. */
export function mmCtx(t: Task): MmCtx {
  return new MmCtx(t, t.arena.scenBase);
}

/**
 * Final quiescent checks (every actor stopped): run every thread's pending
 * RCU callbacks, check the address spaces, tear every mm down and check that
 * nothing leaked.
 */
export function mmFinalCheck(arena: Arena, clean: boolean): string[] {
  const tasks = Array.from({ length: arena.nthreads }, (_, i) => new Task(arena, i));
  const ctxs = tasks.map((t) => new MmCtx(t, arena.scenBase));
  const drain = () => {
    for (const c of ctxs) {
      synchronizeRcu(c.t);
      rcuProcessCallbacks(c.t, c.rcuFn);
    }
  };
  drain();
  const c = ctxs[0];
  const out = [...checkLocksFree(c), ...checkAddressSpaces(c).map((p) => `${p.kind}: ${p.detail}`)];
  // Teardown takes locks: only over a consistent, clean world (never block the harness).
  if (out.length || !clean) return out;
  for (let k = 0; k < c.maxMms; k++) {
    const mm = c.mm(k);
    if (Atomics.load(c.i32, mm + MM_USERS) === 0) continue;
    exitMmap(c, mm);
    mmFree(c, mm);
  }
  shrinkSwapCache(c);
  drain();
  return checkNoLeaks(c).map((p) => `${p.kind}: ${p.detail}`);
}

/**
 * With every actor stopped, no lock may be held: every mmap_lock and every
 * attached VMA's lock must be free (a leaked read lock is a lost unlock).
 */
export function checkLocksFree(c: MmCtx): string[] {
  const i32 = c.i32;
  const out: string[] = [];
  const s = new Int32Array(c.maxVmas * 3 + 3);
  for (let k = 0; k < c.maxMms; k++) {
    const mm = c.mm(k);
    if (Atomics.load(i32, mm + MM_USERS) === 0) continue;
    const cnt = Atomics.load(i32, mm + MM_MMAP_LOCK);
    if (cnt !== 0) out.push(`lock-held: mm ${k}: mmap_lock count 0x${(cnt >>> 0).toString(16)} with every thread stopped`);
    const n = mtSnapshot(c, mm, s);
    for (let j = 0; j < n; j++) {
      const v = snapVma(s, j);
      const word = Atomics.load(i32, v + c.vl.lockWord);
      const held = word !== c.vl.lockIdle;
      if (held) out.push(`lock-held: mm ${k}: VMA @${v} [${snapStart(s, j)}, ${snapEnd(s, j)}) lock word ${word} with every thread stopped`);
    }
  }
  return out;
}

/** Address-space invariants over a world stopped at the pause barrier. */
export function mmQuiescentCheck(arena: Arena): string[] {
  const c = new MmCtx(new Task(arena, 0), arena.scenBase);
  return checkAddressSpaces(c).map((p) => `${p.kind}: ${p.detail}`);
}

/** Fault-path statistics lines (vmstat-like). */
export function mmStatLines(arena: Arena, tids?: readonly number[]): { lines: string[]; data: Record<string, number> } {
  const all = tids ?? Array.from({ length: arena.nthreads }, (_, i) => i);
  const data: Record<string, number> = {};
  for (const [k, name] of Object.entries(MC_NAMES)) data[name] = sumCtr(arena, all, Number(k));
  const pick = (names: string[]) => names.map((n) => `${n} ${data[n]}`).join('  ');
  return {
    lines: [
      pick(['faults', 'vma_lock_success', 'vma_lock_abort', 'vma_lock_retry', 'vma_lock_miss', 'mmap_lock_faults', 'mmap_lock_retry']),
      pick(['anon_faults', 'wp_reuse', 'wp_copy', 'swapin', 'uffd_wait', 'anon_vma_prepare', 'io_throttle', 'enomem', 'sigsegv', 'vma_lock_foreign_mm']),
    ],
    data,
  };
}
