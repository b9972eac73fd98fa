import type { BuiltinScenario, ScenarioOptions } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { Viol } from '../src/shm/kinds.js';
import { doMmap, doMunmap, exitMmap, mmFree } from '../src/mm/mmap.js';
import { doMadviseDontneed } from '../src/mm/madvise.js';
import { dupMmap } from '../src/mm/fork.js';
import { userAccess } from '../src/mm/access.js';
import { rcuReadLock, rcuReadUnlock, rcuReclaim } from '../src/sync/rcu.js';
import { initRwsem, downRead, upRead, downWrite, upWrite } from '../src/sync/rwsem.js';
import { seqcountInit, readSeqcountBegin, readSeqcountRetry, writeSeqcountBegin, writeSeqcountEnd } from '../src/sync/seqcount.js';
import { LC_TORTURE_RWSEM } from '../src/sync/lockclass.js';
import { VM_READ, VM_WRITE } from '../src/mm/layout.js';
import { running, spinDelay, sumCtr } from './common.js';
import { mmScenarioWords, mmSetup, mmCtx, mmFinalCheck, mmStatLines, mmQuiescentCheck, ANON } from './mm-common.js';
import { pageFault, SCRATCH_PAGES, faultLoop } from './page-fault.js';
import { doMremap } from '../src/mm/mremap.js';

/*
 * The contention benchmark's workloads (mmtorture bench), in the spirit of
 * will-it-scale: each counts its operations per thread. Fault workloads
 * count page faults; primitive workloads count acquisitions / read sections.
 * `--writer-rate` (scenario param 0, ops/s) paces the writer thread.
 */
const NO_MERGE = { flags: VM_READ | VM_WRITE, merge: false };
/** Per-thread counter the primitive workloads count their operations in. */
export const C_BENCH_OPS = 0;

/** Sleep so that one op per `1 / rate` s is done (rate 0: as fast as possible). */
function pace(t: Task, rate: number): void {
  if (rate <= 0) return;
  const ms = 1000 / rate;
  const nap = t.arena.i32;
  // Sleep on a word nobody notifies (the run's stop word changes only at the end).
  Atomics.wait(nap, 32, 0, ms);
}

const OWN_MM = 0;
const OWN_PAGES = 1;

function faultRegion(t: Task, c: ReturnType<typeof mmCtx>, mm: number, start: number, pages: number, stride: number, seq: number): number {
  for (let p = 0; p < pages; p++) {
    const a = start + p * stride;
    const stamp = ((t.tid + 1) << 20) | (++seq & 0xfffff);
    if (userAccess(c, mm, a, true, stamp) !== stamp) break;
  }
  return seq;
}

/** The mm workloads' report and checks: every thread's fault counters, the model's final and quiescent checks. */
const MM_REPORT = {
  stats(arena: Arena) {
    const s = mmStatLines(arena);
    return { lines: s.lines, failures: 0, warnings: 0, data: s.data };
  },
  finalCheck: mmFinalCheck,
  quiescentCheck: mmQuiescentCheck,
};

/** page-fault-shared-vma: every thread faults its own pages of one shared VMA. */
const pageFaultSharedVma: BuiltinScenario = {
  name: 'bench:page-fault-shared-vma',
  description: 'bench: all threads write-fault their own pages (interleaved) of one VMA and zap them page by page',
  exposes: [],
  usesModel: true,
  words: (_n: number, opts: ScenarioOptions) => mmScenarioWords(opts, 16),
  setup(arena: Arena, opts: ScenarioOptions) {
    const { c, mms } = mmSetup(arena, opts, 1);
    const pages = Math.max(arena.nthreads, Math.min(512, Math.floor(opts.model.mmPages / 2)));
    if (pages > opts.model.mmPages) throw new Error(`page-fault-shared-vma: ${arena.nthreads} threads need --mm-pages >= ${pages}`);
    if (doMmap(c, mms[0], 0, pages, ANON) !== 0) throw new Error('bench setup: mmap failed');
    arena.i32[c.ownBase() + OWN_MM] = mms[0];
    arena.i32[c.ownBase() + OWN_PAGES] = pages;
  },
  roles: (n) => Array.from({ length: n }, () => 'faulter'),
  run(t: Task) {
    const c = mmCtx(t);
    const mm = c.i32[c.ownBase() + OWN_MM];
    const pages = c.i32[c.ownBase() + OWN_PAGES];
    const n = t.arena.nthreads;
    const mine = Math.floor((pages - 1 - t.tid) / n) + 1;
    let seq = 0;
    while (running(t)) {
      seq = faultRegion(t, c, mm, t.tid, mine, n, seq);
      for (let p = 0; p < mine; p++) doMadviseDontneed(c, mm, t.tid + p * n, 1);
    }
  },
  ...MM_REPORT,
};

/** Fault workloads with one pacing writer thread (thread 0) doing `op`. */
function withWriter(name: string, description: string, op: (t: Task, c: ReturnType<typeof mmCtx>, mm: number) => void): BuiltinScenario {
  return {
    name,
    description,
    exposes: [],
    usesModel: true,
    words: (n: number, opts: ScenarioOptions) => pageFault.words(n, opts),
    setup(arena: Arena, opts: ScenarioOptions) {
      pageFault.setup(arena, opts);
    },
    roles: (n) => Array.from({ length: n }, (_, i) => (i === 0 && n > 1 ? 'writer' : 'faulter')),
    run(t: Task, role: string) {
      if (role === 'faulter') {
        pageFault.run(t, role);
        return;
      }
      const c = mmCtx(t);
      const mm = c.i32[c.ownBase() + OWN_MM];
      const rate = t.arena.param(0);
      while (running(t)) {
        op(t, c, mm);
        t.count(C_BENCH_OPS);
        rcuReclaim(t, c.rcuFn);
        pace(t, rate);
      }
    },
    stats: pageFault.stats,
    finalCheck: mmFinalCheck,
    quiescentCheck: mmQuiescentCheck,
  };
}

/** The writer's scratch range: the top of the address space, above every faulter's region. */
const scratch = (c: ReturnType<typeof mmCtx>): number => c.mmPages - SCRATCH_PAGES / 2;

const faultVsMmapWriter = withWriter(
  'bench:fault-vs-mmap-writer',
  'bench: faulting threads (page_fault) plus one thread doing mmap/munmap at --writer-rate',
  (_t, c, mm) => {
    doMmap(c, mm, scratch(c), 8, ANON);
    doMunmap(c, mm, scratch(c), 8);
  },
);

const faultVsFork = withWriter(
  'bench:fault-vs-fork',
  'bench: faulting threads (page_fault) plus one thread forking (and exiting the child) at --writer-rate',
  (_t, c, mm) => {
    const child = dupMmap(c, mm);
    if (child >= 0) {
      exitMmap(c, child);
      mmFree(c, child);
    }
  },
);

/** first-touch: map a fresh anonymous VMA, touch every page (anon_vma preparation), unmap. */
const firstTouch: BuiltinScenario = {
  name: 'bench:first-touch',
  description: 'bench: each thread maps a fresh 16-page anonymous VMA, touches every page, unmaps it (anon_vma preparation and its fallbacks)',
  exposes: [],
  usesModel: true,
  words: (_n: number, opts: ScenarioOptions) => mmScenarioWords(opts, 16),
  setup(arena: Arena, opts: ScenarioOptions) {
    if (arena.nthreads * 32 > opts.model.mmPages) throw new Error(`first-touch: ${arena.nthreads} threads need --mm-pages >= ${arena.nthreads * 32}`);
    const { c, mms } = mmSetup(arena, opts, 1);
    arena.i32[c.ownBase() + OWN_MM] = mms[0];
  },
  roles: (n) => Array.from({ length: n }, () => 'toucher'),
  run(t: Task) {
    const c = mmCtx(t);
    const mm = c.i32[c.ownBase() + OWN_MM];
    const base = t.tid * 32; // setup checked that every thread's 32 pages fit
    let seq = 0;
    while (running(t)) {
      if (doMmap(c, mm, base, 16, NO_MERGE) !== 0) continue;
      seq = faultRegion(t, c, mm, base, 16, 1, seq);
      doMunmap(c, mm, base, 16);
      rcuReclaim(t, c.rcuFn);
    }
  },
  ...MM_REPORT,
};

/** small-allocs-mt: the regions a thread maps per round, their pages and the stride between them. */
const SMALL_REGIONS = 8;
const SMALL_PAGES = 2;
const SMALL_STRIDE = 3;
const SMALL_SPAN = 32;

/**
 * small-allocs-mt (vm-scalability case-small-allocs-mt, read-only): every
 * thread maps SMALL_REGIONS small anonymous regions, read-touches each page
 * (zero-page read faults, which never create an anon_vma), then unmaps
 * them, in its own part of one mm: an mmap_lock write per mmap and munmap in
 * both modes, the faults in between under the VMA lock or mmap_lock. The
 * workload whose > 3x the 6.10 "delay the NULL anon_vma check" series
 * measured (KERNEL.md section 8).
 */
const smallAllocsMt: BuiltinScenario = {
  name: 'bench:small-allocs-mt',
  description: `bench: vm-scalability small-allocs-mt: each thread mmaps ${SMALL_REGIONS} ${SMALL_PAGES}-page anonymous regions, read-faults every page (zero page), munmaps them (mmap_lock write per mmap/munmap in both modes)`,
  exposes: [],
  usesModel: true,
  words: (_n: number, opts: ScenarioOptions) => mmScenarioWords(opts, 16),
  setup(arena: Arena, opts: ScenarioOptions) {
    if (arena.nthreads * SMALL_SPAN > opts.model.mmPages) throw new Error(`small-allocs-mt: ${arena.nthreads} threads need --mm-pages >= ${arena.nthreads * SMALL_SPAN}`);
    const { c, mms } = mmSetup(arena, opts, 1);
    arena.i32[c.ownBase() + OWN_MM] = mms[0];
  },
  roles: (n) => Array.from({ length: n }, () => 'allocator'),
  run(t: Task) {
    const c = mmCtx(t);
    const mm = c.i32[c.ownBase() + OWN_MM];
    const base = t.tid * SMALL_SPAN; // setup checked that every thread's span fits
    while (running(t)) {
      let mapped = 0;
      for (; mapped < SMALL_REGIONS; mapped++) if (doMmap(c, mm, base + mapped * SMALL_STRIDE, SMALL_PAGES, NO_MERGE) !== 0) break;
      for (let r = 0; r < mapped; r++) {
        for (let p = 0; p < SMALL_PAGES; p++) {
          const a = base + r * SMALL_STRIDE + p;
          const got = userAccess(c, mm, a, false, 0);
          // A fresh anonymous mapping reads zeros (the zero page); < 0 is a stop.
          if (got > 0) t.violation(Viol.ContentMismatch, mm, a, 0, got, c.mmSlot(mm));
        }
      }
      for (let r = 0; r < mapped; r++) doMunmap(c, mm, base + r * SMALL_STRIDE, SMALL_PAGES);
      rcuReclaim(t, c.rcuFn);
    }
  },
  ...MM_REPORT,
};

/** fault-vs-munmap-large: the faulters' regions (pages, and the stride between their starts). */
const LARGE_FAULT_PAGES = 64;
const LARGE_FAULT_STRIDE = 128;
/** --writer-hold when none is given: pages the writer moves per mremap. */
export const WRITER_HOLD_DEFAULT = 128;

/** The writer's pages per move: scenario param 1 (bench --writer-hold), else the default. */
function writerHold(param1: number | undefined): number {
  return param1 && param1 > 0 ? param1 : WRITER_HOLD_DEFAULT;
}

function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * fault-vs-munmap-large: faulters on their own VMAs (the page_fault loop)
 * while thread 0 moves a large populated region back and forth with mremap,
 * back to back: move_page_tables() of --writer-hold pages under mmap_lock
 * held for write, the kernel's long writer (mm/mremap.c). The faults of the
 * writer's repopulation are not counted; lock_stat gives its hold.
 */
const faultVsMunmapLarge: BuiltinScenario = {
  name: 'bench:fault-vs-munmap-large',
  description: `bench: faulters on their own VMAs while one writer mremaps a populated region back and forth, moving --writer-hold pages (default ${WRITER_HOLD_DEFAULT}) under mmap_lock write per op, unpaced`,
  exposes: [],
  usesModel: true,
  modelFor: (n, params) => ({ mmPages: nextPow2(Math.max(1024, n * LARGE_FAULT_STRIDE + 2 * writerHold(params[1]) + 64)), folios: Math.max(8192, 128 * n + 2 * writerHold(params[1]) + 2048) }),
  words: (_n: number, opts: ScenarioOptions) => mmScenarioWords(opts, 16),
  setup(arena: Arena, opts: ScenarioOptions) {
    const hold = writerHold(arena.param(1));
    const n = arena.nthreads;
    if (n * LARGE_FAULT_STRIDE + 2 * hold > opts.model.mmPages) throw new Error(`fault-vs-munmap-large: ${n} threads and --writer-hold ${hold} need --mm-pages >= ${nextPow2(n * LARGE_FAULT_STRIDE + 2 * hold)}`);
    const { c, mms } = mmSetup(arena, opts, 1);
    const mm = mms[0];
    for (let r = 0; r < Math.max(1, n - 1); r++) {
      if (doMmap(c, mm, r * LARGE_FAULT_STRIDE, LARGE_FAULT_PAGES, { flags: VM_READ | VM_WRITE }) !== 0) throw new Error('fault-vs-munmap-large setup: mmap failed');
    }
    if (n > 1 && doMmap(c, mm, opts.model.mmPages - 2 * hold, hold, NO_MERGE) !== 0) throw new Error('fault-vs-munmap-large setup: writer mmap failed');
    arena.i32[c.ownBase() + OWN_MM] = mm;
    arena.i32[c.ownBase() + OWN_PAGES] = hold;
  },
  roles: (n) => Array.from({ length: n }, (_, i) => (i === 0 && n > 1 ? 'writer' : 'faulter')),
  run(t: Task, role: string) {
    const c = mmCtx(t);
    const mm = c.i32[c.ownBase() + OWN_MM];
    if (role === 'faulter') {
      faultLoop(t, c, mm, (t.arena.nthreads > 1 ? t.tid - 1 : 0) * LARGE_FAULT_STRIDE, LARGE_FAULT_PAGES);
      return;
    }
    const hold = c.i32[c.ownBase() + OWN_PAGES];
    const a = c.mmPages - 2 * hold;
    const b = c.mmPages - hold;
    faultRegion(t, c, mm, a, hold, 1, 0); // populate once; the moves keep the pages
    let at = a;
    while (running(t)) {
      const to = at === a ? b : a;
      const r = doMremap(c, mm, at, hold, to, hold);
      if (r !== 0) throw new Error(`fault-vs-munmap-large: mremap ${at} -> ${to} failed (${r})`);
      at = to;
      t.count(C_BENCH_OPS);
      rcuReclaim(t, c.rcuFn);
    }
  },
  stats(arena: Arena) {
    const faulters = Array.from({ length: arena.nthreads }, (_, i) => i).filter((i) => i > 0 || arena.nthreads === 1);
    const s = mmStatLines(arena, faulters);
    const writerOps = arena.nthreads > 1 ? sumCtr(arena, [0], C_BENCH_OPS) : 0;
    return { lines: [...s.lines, `writer mremaps ${writerOps} of ${writerHold(arena.param(1))} pages`], failures: 0, warnings: 0, data: { ...s.data, writer_ops: writerOps } };
  },
  finalCheck: mmFinalCheck,
  quiescentCheck: mmQuiescentCheck,
};

// ---------------------------------------------------------------------------
// Primitives alone.
// ---------------------------------------------------------------------------

function primitive(name: string, description: string, setup: (arena: Arena) => void, body: (t: Task, base: number, writer: boolean) => void): BuiltinScenario {
  return {
    name,
    description,
    exposes: [],
    words: () => 64,
    setup,
    roles: (n) => Array.from({ length: n }, () => 'worker'),
    run(t: Task) {
      const base = t.arena.scenBase;
      while (running(t)) {
        body(t, base, false);
        t.count(C_BENCH_OPS);
      }
    },
    stats(arena: Arena) {
      const all = Array.from({ length: arena.nthreads }, (_, i) => i);
      const ops = sumCtr(arena, all, C_BENCH_OPS);
      return { lines: [`ops ${ops}`], failures: 0, warnings: 0, data: { ops } };
    },
  };
}

const rwsemRead = primitive('bench:rwsem-read', 'bench: every thread down_read/up_read on one rwsem (the reader-count cache line)',
  (a) => initRwsem(a.i32, a.scenBase, LC_TORTURE_RWSEM),
  (t, base) => {
    downRead(t, base);
    upRead(t, base);
  });

const rwsemMixed = primitive('bench:rwsem-mixed', 'bench: one rwsem, 1 in 10 acquisitions a write',
  (a) => initRwsem(a.i32, a.scenBase, LC_TORTURE_RWSEM),
  (t, base) => {
    if (t.randInt(10) === 0) {
      downWrite(t, base);
      spinDelay(t.i32, base + 16, 20);
      upWrite(t, base);
    } else {
      downRead(t, base);
      spinDelay(t.i32, base + 16, 20);
      upRead(t, base);
    }
  });

const seqcountRead: BuiltinScenario = {
  ...primitive('bench:seqcount-read', 'bench: readers of a 4-word seqcount record; thread 0 writes at --writer-rate',
    (a) => seqcountInit(a.i32, a.scenBase),
    () => undefined),
  roles: (n) => Array.from({ length: n }, (_, i) => (i === 0 && n > 1 ? 'writer' : 'reader')),
  run(t: Task, role: string) {
    const i32 = t.i32;
    const base = t.arena.scenBase;
    const rate = t.arena.param(0);
    if (role === 'writer') {
      let v = 0;
      while (running(t)) {
        writeSeqcountBegin(i32, base);
        v++;
        for (let k = 0; k < 4; k++) Atomics.store(i32, base + 16 + k, v);
        writeSeqcountEnd(i32, base);
        pace(t, rate || 1000);
      }
      return;
    }
    while (running(t)) {
      let s: number;
      let w0: number;
      let bad: boolean;
      do {
        s = readSeqcountBegin(t, base);
        w0 = Atomics.load(i32, base + 16);
        bad = false;
        for (let k = 1; k < 4; k++) if (Atomics.load(i32, base + 16 + k) !== w0) bad = true;
      } while (readSeqcountRetry(t, base, s));
      if (bad) t.violation(Viol.SeqTorn, base, w0, 0, 0, s);
      t.count(C_BENCH_OPS);
    }
  },
};

const rcuRead = primitive('bench:rcu-read', 'bench: rcu_read_lock, one pointer load, rcu_read_unlock',
  () => undefined,
  (t, base) => {
    rcuReadLock(t);
    Atomics.load(t.i32, base);
    rcuReadUnlock(t);
  });

export const BENCH_WORKLOADS: BuiltinScenario[] = [pageFaultSharedVma, faultVsMmapWriter, faultVsFork, firstTouch, smallAllocsMt, faultVsMunmapLarge, rwsemRead, rwsemMixed, seqcountRead, rcuRead];

