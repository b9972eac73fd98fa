import type { BuiltinScenario, ScenarioOptions } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { Viol } from '../src/shm/kinds.js';
import { doMmap } from '../src/mm/mmap.js';
import { doMadviseDontneed } from '../src/mm/madvise.js';
import { userAccess } from '../src/mm/access.js';
import { VM_READ, VM_WRITE } from '../src/mm/layout.js';
import { running } from './common.js';
import type { MmCtx } from '../src/mm/model.js';
import { mmScenarioWords, mmSetup, mmCtx, mmFinalCheck, mmStatLines, mmQuiescentCheck } from './mm-common.js';

/*
 * page-fault (will-it-scale page_fault3, threads mode): every thread owns a
 * disjoint VMA of one shared mm, write-faults each of its pages, reads the
 * value back, and zaps the range with madvise(MADV_DONTNEED) to start over.
 * Faults hit the per-VMA lock (or mmap_lock with --per-vma-lock off); the
 * zaps take mmap_lock for read. The content oracle checks every read.
 */
const OWN_MM = 0;
const OWN_PAGES = 1;
const C_ROUNDS = 0;

/** Pages above the threads' regions, kept free for writers (bench workloads' scratch). */
export const SCRATCH_PAGES = 64;

/**
 * Pages of each thread's region: up to 64, every region followed by a gap of
 * the same size, below the scratch area at the top. 0 if the threads do not fit.
 */
export function regionPages(mmPages: number, threads: number): number {
  return Math.min(64, Math.floor((mmPages - SCRATCH_PAGES) / threads / 2));
}

/**
 * The page_fault loop over this thread's own [start, start + pages): write
 * every page, read it back (the content oracle), zap the range; until stop.
 */
export function faultLoop(t: Task, c: MmCtx, mm: number, start: number, pages: number): void {
  let seq = 0;
  while (running(t)) {
    for (let p = 0; p < pages; p++) {
      const stamp = ((t.tid + 1) << 20) | (++seq & 0xfffff);
      if (userAccess(c, mm, start + p, true, stamp) !== stamp) break; // stopping
      const got = userAccess(c, mm, start + p, false, 0);
      if (got !== stamp && got >= 0) t.violation(Viol.ContentMismatch, mm, start + p, stamp, got, c.mmSlot(mm));
    }
    doMadviseDontneed(c, mm, start, pages);
    t.count(C_ROUNDS);
  }
}

export const pageFault: BuiltinScenario = {
  name: 'page-fault',
  description: 'will-it-scale page_fault: each thread write-faults its own VMA page by page, checks the data, zaps it with MADV_DONTNEED',
  exposes: [],
  usesModel: true,
  words: (_threads: number, opts: ScenarioOptions) => mmScenarioWords(opts, 16),
  setup(arena: Arena, opts: ScenarioOptions) {
    const { c, mms } = mmSetup(arena, opts, 1);
    const mm = mms[0];
    const pages = regionPages(opts.model.mmPages, arena.nthreads);
    if (pages < 1) throw new Error(`page-fault: ${arena.nthreads} threads need --mm-pages >= ${arena.nthreads * 2 + SCRATCH_PAGES}`);
    for (let tid = 0; tid < arena.nthreads; tid++) {
      // One VMA per thread, with a one-page gap so they never merge.
      const r = doMmap(c, mm, tid * pages * 2, pages, { flags: VM_READ | VM_WRITE });
      if (r !== 0) throw new Error(`page-fault setup: mmap failed (${r})`);
    }
    const own = c.ownBase();
    arena.i32[own + OWN_MM] = mm;
    arena.i32[own + OWN_PAGES] = pages;
  },
  roles: (threads) => Array.from({ length: threads }, () => 'faulter'),
  run(t: Task) {
    const c = mmCtx(t);
    const own = c.ownBase();
    const mm = c.i32[own + OWN_MM];
    const pages = c.i32[own + OWN_PAGES];
    faultLoop(t, c, mm, t.tid * pages * 2, pages);
  },
  stats(arena: Arena) {
    const s = mmStatLines(arena);
    return { lines: s.lines, failures: 0, warnings: 0, data: s.data };
  },
  finalCheck: mmFinalCheck,
  quiescentCheck: mmQuiescentCheck,
};
