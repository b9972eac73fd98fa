import type { Scenario, ScenarioOptions } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { Viol } from '../src/shm/kinds.js';
import type { MmCtx } from '../src/mm/model.js';
import { doMmap, doMunmap, doMprotect, doMremap, doMadviseDontneed, exitMmap, mmAlloc, mmFree } from '../src/mm/mmap.js';
import { dupMmap } from '../src/mm/fork.js';
import { userAccess } from '../src/mm/access.js';
import { pinUserPage, unpinUserPage, deviceWrite } from '../src/mm/gup.js';
import { swapOutPage } from '../src/mm/swap.js';
import { uffdRegister, uffdioCopy } from '../src/mm/uffd.js';
import { pteGet } from '../src/mm/fault.js';
import { rcuReclaim } from '../src/sync/rcu.js';
import {
  VM_READ, VM_WRITE, VM_SHARED, VM_GROWSDOWN, VM_UFFD_MISSING, MM_UFFD_PENDING, PTE_PRESENT,
} from '../src/mm/layout.js';
import { running, spinDelay, sumCtr } from './common.js';
import { mmScenarioWords, mmSetup, mmCtx, mmFinalCheck, mmStatLines, mmQuiescentCheck } from './mm-common.js';

/*
 * The race scenarios: actors hammer page faults in one address space against
 * concurrent munmap, mremap, mprotect, fork, GUP pins, swap and userfaultfd.
 * Layout of the main mm (page numbers, --mm-pages >= 1024):
 *   slots      k * 32, 16 pages each (0..255): the faulters' memory; odd
 *              slots are shared shmem mappings, even ones anonymous
 *   alt        512 + k * 32: where mremap moves a slot and back
 *   pin slot   256..271: one page per pinner
 *   fork slot  288..303: the forker's own pages
 *   uffd slot  320..335 (registered MISSING) and its source 384..399
 *   scratch    432..447: the mmap writer's mmap/munmap churn
 *   touch      752 + 8 * i: first-toucher i's fresh VMAs, next to a
 *              permanent neighbour at +6 they merge with
 *   stack      960..991: a VM_GROWSDOWN VMA
 * Each slot has an epoch (odd while an actor is unmapping or moving it), so
 * the content oracle only judges reads whose write could not have been
 * legitimately discarded.
 */
const NSLOTS = 8;
const SLOT_PAGES = 16;
const SLOT_STRIDE = 32;
const ALT_BASE = 512;
const PIN_BASE = 256;
const FORK_BASE = 288;
const UFFD_BASE = 320;
const UFFD_SRC = 384;
const SCRATCH_BASE = 432;
const TOUCH_BASE = 752;
const TOUCH_AREAS = 25;
const STACK_BASE = 960;
const STACK_PAGES = 32;
const RW = VM_READ | VM_WRITE;

// Own words (after the model).
const OW_MM = 0;
const OW_NFAULT = 1; // faulters (for page ownership)
const OW_HOT = 2; // the slot the munmapper works on now, plus one (0: none)
const OW_SLOTS = 16; // per slot: base, epoch, kind, 1 spare
const SW = 4;
const S_BASE = 0;
const S_EPOCH = 1;
const S_SHARED = 2;
const OWN_WORDS = OW_SLOTS + NSLOTS * SW + 16;

// Per-thread counters (scenario range 0..23).
const C_CHECKS = 0;
const C_WRITER_OPS = 1;
const C_FORKS = 2;
const C_PINS = 3;
const C_SWAPOUTS = 4;
const C_UFFD_COPIES = 5;

interface Ctx {
  c: MmCtx;
  own: number;
  mm: number;
}

function ctxOf(t: Task): Ctx {
  const c = mmCtx(t);
  const own = c.ownBase();
  return { c, own, mm: c.i32[own + OW_MM] };
}

function slotWord(x: Ctx, k: number, f: number): number {
  return x.own + OW_SLOTS + k * SW + f;
}

function slotFlags(shared: boolean): number {
  return shared ? RW | VM_SHARED : RW;
}

function mapSlot(c: MmCtx, mm: number, base: number, shared: boolean, k: number, pages = SLOT_PAGES, off = 0): number {
  return doMmap(c, mm, base + off, pages, shared ? { flags: slotFlags(true), file: 1 + (k % 4), pgoff: k * SLOT_PAGES + off } : { flags: RW });
}

// ---------------------------------------------------------------------------
// Actors
// ---------------------------------------------------------------------------

/** Index of thread `tid` among the threads of its role (roles[] order): page and area ownership. */
function roleIndex(roles: readonly string[], tid: number): number {
  let k = 0;
  for (let i = 0; i < tid; i++) if (roles[i] === roles[tid]) k++;
  return k;
}

/**
 * Write a stamp to a page it owns, read it back: the read must return the
 * stamp unless the slot's epoch moved (munmap/mremap/zap in between).
 */
function faulter(t: Task, roles: readonly string[]): void {
  const x = ctxOf(t);
  const { c, mm } = x;
  const i32 = c.i32;
  const nf = Math.max(1, i32[x.own + OW_NFAULT]);
  const me = roleIndex(roles, t.tid) % nf;
  let seq = 0;
  while (running(t)) {
    // Every other fault goes where the munmapper is working: the races
    // between a fault and the detach of its VMA need a reader right there.
    const hot = Atomics.load(i32, x.own + OW_HOT);
    const k = hot !== 0 && (t.rand() & 1) === 0 ? hot - 1 : t.randInt(NSLOTS);
    const owned = Math.floor((SLOT_PAGES - 1 - me) / nf) + 1; // pages me, me + nf, ...
    if (owned <= 0) return;
    const p = me + nf * t.randInt(owned);
    // Fault into slots that are being changed too (that is where the races
    // are); only reads whose write could not be discarded are judged.
    const e1 = Atomics.load(i32, slotWord(x, k, S_EPOCH));
    const addr = Atomics.load(i32, slotWord(x, k, S_BASE)) + p;
    const stamp = ((t.tid + 1) << 20) | (++seq & 0xfffff);
    if (userAccess(c, mm, addr, true, stamp) !== stamp) continue; // SEGV (mprotect/munmap) or stopping
    const got = userAccess(c, mm, addr, false, 0);
    const e2 = Atomics.load(i32, slotWord(x, k, S_EPOCH));
    t.count(C_CHECKS);
    if (got >= 0 && got !== stamp && e1 === e2 && (e1 & 1) === 0) t.violation(Viol.ContentMismatch, mm, addr, stamp, got, c.mmSlot(mm));
    // Now and then drop the page again, so faults keep hitting every slot
    // (including the ones other actors are changing right now).
    if ((t.rand() & 3) === 0) doMadviseDontneed(c, mm, addr, 1);
  }
}

/** One munmapper step: munmap (whole or part) and map again, or zap, a random slot. */
function munmapStep(t: Task, x: Ctx): void {
  const { c, mm } = x;
  const i32 = c.i32;
  const k = t.randInt(NSLOTS);
  const ew = slotWord(x, k, S_EPOCH);
  Atomics.store(i32, x.own + OW_HOT, k + 1);
  Atomics.add(i32, ew, 1);
  const base = Atomics.load(i32, slotWord(x, k, S_BASE));
  const shared = i32[slotWord(x, k, S_SHARED)] !== 0;
  const r = t.rand() & 3;
  if (r === 0) {
    // Zap first so faulters are inside faults on this VMA when it goes.
    doMadviseDontneed(c, mm, base, SLOT_PAGES);
    spinDelay(i32, x.own, 500);
    doMunmap(c, mm, base, SLOT_PAGES);
    // Leave the hole open for a moment: the freed VMAs may be reused by
    // another mm before this one maps the range again.
    spinDelay(i32, x.own, 20000);
    mapSlot(c, mm, base, shared, k);
  } else if (r === 1) {
    const off = 1 + t.randInt(SLOT_PAGES - 4);
    const len = 1 + t.randInt(3);
    doMunmap(c, mm, base + off, len);
    mapSlot(c, mm, base, shared, k, len, off);
  } else if (r === 2) {
    doMadviseDontneed(c, mm, base, SLOT_PAGES);
  } else {
    // Shrink from the end and grow back: the VMA's range changes under RCU walkers.
    doMunmap(c, mm, base + SLOT_PAGES - 4, 4);
    mapSlot(c, mm, base, shared, k, 4, SLOT_PAGES - 4);
  }
  Atomics.add(i32, ew, 1);
}

/** One mremapper step: move a slot to its alternate address and back (sometimes MREMAP_DONTUNMAP), or zap it. */
function mremapStep(t: Task, x: Ctx): void {
  const { c, mm } = x;
  const i32 = c.i32;
  const k = t.randInt(NSLOTS);
  if (i32[slotWord(x, k, S_SHARED)] !== 0) return; // shared slots stay put
  const ew = slotWord(x, k, S_EPOCH);
  Atomics.add(i32, ew, 1);
  const base = Atomics.load(i32, slotWord(x, k, S_BASE));
  const r = t.rand() & 3;
  if (r <= 1) {
    // Zap: the next touches are faults that look at the VMA again...
    doMadviseDontneed(c, mm, base, SLOT_PAGES);
    if (r === 0) {
      Atomics.add(i32, ew, 1);
      return;
    }
    // ...and move it away while they do (the B5a interleaving).
    spinDelay(i32, x.own, 500);
  }
  const home = k * SLOT_STRIDE;
  const to = base === home ? ALT_BASE + k * SLOT_STRIDE : home;
  const dontunmap = r === 1 || r === 3;
  if (doMremap(c, mm, base, to, SLOT_PAGES, dontunmap) === 0) {
    Atomics.store(i32, slotWord(x, k, S_BASE), to);
    if (dontunmap) {
      // The emptied source stays mapped for a moment: faulters that still
      // use the old address first-touch it (the B5a setting).
      spinDelay(i32, x.own, 300000);
      doMunmap(c, mm, base, SLOT_PAGES);
    }
  } else {
    // The slot may be split by a concurrent actor: put it back in one piece.
    doMunmap(c, mm, base, SLOT_PAGES);
    mapSlot(c, mm, base, false, k);
  }
  Atomics.add(i32, ew, 1);
}

/** One mprotector step: part of a slot read-only for a moment (split), then writable again (merge). */
function mprotectStep(t: Task, x: Ctx): void {
  const { c, mm } = x;
  const i32 = c.i32;
  const k = t.randInt(NSLOTS);
  const base = Atomics.load(i32, slotWord(x, k, S_BASE));
  const off = t.randInt(SLOT_PAGES - 2);
  const len = 1 + t.randInt(SLOT_PAGES - off - 1);
  doMprotect(c, mm, base + off, len, VM_READ);
  spinDelay(i32, x.own, 200);
  doMprotect(c, mm, base + off, len, RW);
}

/** One swapper step: swap a random slot page out, writeback holding the folio lock. */
function swapStep(t: Task, x: Ctx): void {
  const k = t.randInt(NSLOTS);
  const base = Atomics.load(x.c.i32, slotWord(x, k, S_BASE));
  if (swapOutPage(x.c, x.mm, base + t.randInt(SLOT_PAGES), 500 + t.randInt(3000))) t.count(C_SWAPOUTS);
}

/** One fork of the whole mm, a write in the child, and the child's exit. */
function forkStep(_t: Task, x: Ctx): void {
  const child = dupMmap(x.c, x.mm);
  if (child >= 0) {
    userAccess(x.c, child, FORK_BASE, true, 5);
    exitMmap(x.c, child);
    mmFree(x.c, child);
  }
}

/** An actor that repeats one writer step. */
function writerActor(step: (t: Task, x: Ctx) => void): (t: Task) => void {
  return (t) => {
    const x = ctxOf(t);
    while (running(t)) {
      step(t, x);
      t.count(C_WRITER_OPS);
      rcuReclaim(t, x.c.rcuFn);
    }
  };
}

const CHAOS_STEPS = [munmapStep, mremapStep, mprotectStep, forkStep, swapStep];

/** The mixed scenario's chaos actor: one writer step of a random kind per iteration. */
function chaos(t: Task): void {
  const x = ctxOf(t);
  while (running(t)) {
    CHAOS_STEPS[t.randInt(CHAOS_STEPS.length)](t, x);
    t.count(C_WRITER_OPS);
    rcuReclaim(t, x.c.rcuFn);
  }
}

/**
 * fork and check COW isolation with the forker's own pages: the child sees
 * the fork-time values; later writes on either side never leak across.
 */
function forker(t: Task): void {
  const x = ctxOf(t);
  const { c, mm } = x;
  let seq = 0;
  const vals = new Int32Array(SLOT_PAGES);
  while (running(t)) {
    for (let p = 0; p < SLOT_PAGES; p++) {
      vals[p] = ((t.tid + 1) << 20) | (++seq & 0xfffff);
      if (userAccess(c, mm, FORK_BASE + p, true, vals[p]) !== vals[p]) return;
    }
    const child = dupMmap(c, mm);
    if (child < 0) {
      rcuReclaim(t, c.rcuFn);
      continue;
    }
    t.count(C_FORKS);
    for (let p = 0; p < SLOT_PAGES; p++) {
      const got = userAccess(c, child, FORK_BASE + p, false, 0);
      if (got >= 0 && got !== vals[p]) t.violation(Viol.ForkLeak, child, FORK_BASE + p, vals[p], got, 0);
    }
    for (let p = 0; p < SLOT_PAGES; p += 2) userAccess(c, mm, FORK_BASE + p, true, vals[p] ^ 0x40000);
    for (let p = 1; p < SLOT_PAGES; p += 2) userAccess(c, child, FORK_BASE + p, true, vals[p] ^ 0x40000);
    for (let p = 0; p < SLOT_PAGES; p++) {
      const inChild = userAccess(c, child, FORK_BASE + p, false, 0);
      const inParent = userAccess(c, mm, FORK_BASE + p, false, 0);
      const wantChild = p % 2 === 1 ? vals[p] ^ 0x40000 : vals[p];
      const wantParent = p % 2 === 0 ? vals[p] ^ 0x40000 : vals[p];
      if (inChild >= 0 && inChild !== wantChild) t.violation(Viol.ForkLeak, child, FORK_BASE + p, wantChild, inChild, 1);
      if (inParent >= 0 && inParent !== wantParent) t.violation(Viol.ForkLeak, mm, FORK_BASE + p, wantParent, inParent, 2);
    }
    exitMmap(c, child);
    mmFree(c, child);
    rcuReclaim(t, c.rcuFn);
  }
}

/**
 * Pin a page for write, let the "device" write through the pin, and check
 * the process reads what the device wrote (the pin and the page table must
 * not diverge), while forks happen around it.
 */
function pinner(t: Task, roles: readonly string[]): void {
  const x = ctxOf(t);
  const { c, mm } = x;
  const idx = roleIndex(roles, t.tid);
  const addr = PIN_BASE + (idx % SLOT_PAGES);
  let seq = 0;
  while (running(t)) {
    const s1 = ((t.tid + 1) << 20) | (++seq & 0xfffff);
    if (userAccess(c, mm, addr, true, s1) !== s1) return;
    const f1 = pinUserPage(c, mm, addr, true);
    if (f1 === 0) continue;
    t.count(C_PINS);
    spinDelay(c.i32, x.own, 100 + t.randInt(400)); // forks may happen now
    const s2 = ((t.tid + 1) << 20) | (++seq & 0xfffff);
    userAccess(c, mm, addr, true, s2); // the process writes...
    const s3 = s2 ^ 0x80000;
    deviceWrite(c, f1 - 1, s3); // ...then the device writes through the pin
    const got = userAccess(c, mm, addr, false, 0);
    if (got >= 0 && got !== s3) t.violation(Viol.PinIncoherent, mm, addr, s3, got, 0);
    unpinUserPage(c, mm, f1 - 1);
  }
}

/** Touch the userfaultfd-registered slot; zap own pages so they go missing again. */
function uffdFaulter(t: Task, roles: readonly string[]): void {
  const x = ctxOf(t);
  const { c, mm } = x;
  const idx = roleIndex(roles, t.tid);
  while (running(t)) {
    const p = (idx + 2 * t.randInt(SLOT_PAGES / 2)) % SLOT_PAGES;
    const v = userAccess(c, mm, UFFD_BASE + p, (t.rand() & 1) === 0, 0x1000 + p);
    if (v >= 0) t.count(C_CHECKS);
    if ((t.rand() & 3) === 0) doMadviseDontneed(c, mm, UFFD_BASE + p, 1);
  }
}

/** The userfaultfd manager: resolve missing pages with UFFDIO_COPY; sometimes drop its sources. */
function uffdManager(t: Task): void {
  const x = ctxOf(t);
  const { c, mm } = x;
  const i32 = c.i32;
  while (running(t)) {
    let copied = 0;
    if (Atomics.load(i32, mm + MM_UFFD_PENDING) > 0 || (t.rand() & 15) === 0) {
      for (let p = 0; p < SLOT_PAGES; p++) {
        if ((pteGet(c, mm, UFFD_BASE + p) & PTE_PRESENT) !== 0) continue;
        if (uffdioCopy(c, mm, UFFD_BASE + p, mm, UFFD_SRC + p) === 0) copied++;
      }
    }
    t.count(C_UFFD_COPIES, copied);
    // Sources go missing now and then: the copy must then fall back.
    if ((t.rand() & 7) === 0) doMadviseDontneed(c, mm, UFFD_SRC + t.randInt(SLOT_PAGES), 1);
    rcuReclaim(t, c.rcuFn);
  }
}

/** mmap/munmap churn in the scratch area: writers queue on mmap_lock. */
function mmapWriter(t: Task): void {
  const x = ctxOf(t);
  const { c, mm } = x;
  while (running(t)) {
    const a = SCRATCH_BASE + t.randInt(12);
    doMmap(c, mm, a, 1 + t.randInt(4), { flags: RW });
    spinDelay(c.i32, x.own, 50);
    doMunmap(c, mm, SCRATCH_BASE, 16);
    // Now and then re-register the userfaultfd range: a write section that
    // write-locks the VMA UFFDIO_COPY holds read-locked.
    if ((t.rand() & 7) === 0) uffdRegister(c, mm, UFFD_BASE, SLOT_PAGES, VM_UFFD_MISSING);
    t.count(C_WRITER_OPS);
    rcuReclaim(t, c.rcuFn);
  }
}

/**
 * First touches of fresh anonymous VMAs next to existing ones (anon_vma
 * preparation, with neighbours that merge), and stack expansion.
 */
function firstToucher(t: Task, roles: readonly string[]): void {
  const x = ctxOf(t);
  const { c, mm } = x;
  const idx = roleIndex(roles, t.tid);
  const area = TOUCH_BASE + 8 * (idx % TOUCH_AREAS);
  doMmap(c, mm, area + 6, 2, { flags: RW }); // the permanent neighbour
  userAccess(c, mm, area + 6, true, 1);
  let seq = 0;
  while (running(t)) {
    const a = area + 2 * t.randInt(3);
    if (doMmap(c, mm, a, 2, { flags: RW }) === 0) {
      const stamp = ((t.tid + 1) << 20) | (++seq & 0xfffff);
      if (userAccess(c, mm, a, true, stamp) === stamp) {
        const got = userAccess(c, mm, a, false, 0);
        if (got >= 0 && got !== stamp) t.violation(Viol.ContentMismatch, mm, a, stamp, got, c.mmSlot(mm));
      }
      doMunmap(c, mm, a, 2);
    }
    // Grow the stack below its start, then trim it back.
    const below = STACK_BASE + 8 - 1 - t.randInt(6);
    userAccess(c, mm, below, true, 1);
    if ((t.rand() & 7) === 0) doMunmap(c, mm, STACK_BASE, 8);
    t.count(C_WRITER_OPS);
    rcuReclaim(t, c.rcuFn);
  }
}

/**
 * Short-lived address spaces: allocate an mm, map, touch, unmap, exit. Their
 * VMAs come from (and go back to) the same slab as the main mm's — in E3
 * immediately, so a stale reader may find a VMA reused by another mm.
 */
function churner(t: Task): void {
  const x = ctxOf(t);
  const { c } = x;
  while (running(t)) {
    const mm = mmAlloc(c);
    if (mm < 0) {
      rcuReclaim(t, c.rcuFn);
      continue;
    }
    for (let k = 0; k < 4; k++) {
      const base = k * SLOT_STRIDE;
      doMmap(c, mm, base, SLOT_PAGES, { flags: RW });
      userAccess(c, mm, base + t.randInt(SLOT_PAGES), true, 7);
    }
    doMunmap(c, mm, SLOT_STRIDE, SLOT_PAGES);
    exitMmap(c, mm);
    mmFree(c, mm);
    t.count(C_WRITER_OPS);
    rcuReclaim(t, c.rcuFn);
  }
}

const ACTORS: Record<string, (t: Task, roles: readonly string[]) => void> = {
  faulter, munmapper: writerActor(munmapStep), mremapper: writerActor(mremapStep), mprotector: writerActor(mprotectStep),
  forker: (t) => forker(t), pinner, swapper: writerActor(swapStep), 'uffd-faulter': uffdFaulter,
  'uffd-manager': (t) => uffdManager(t), 'mmap-writer': (t) => mmapWriter(t), 'first-toucher': firstToucher,
  churner: (t) => churner(t), chaos: (t) => chaos(t),
};

// ---------------------------------------------------------------------------
// Setup and scenario definitions
// ---------------------------------------------------------------------------

function setupRaces(arena: Arena, opts: ScenarioOptions, roles: readonly string[]): void {
  if (opts.model.mmPages < 1024) throw new Error('race scenarios need --mm-pages >= 1024');
  const { c, mms } = mmSetup(arena, opts, 1);
  const mm = mms[0];
  const own = c.ownBase();
  const i32 = arena.i32;
  i32[own + OW_MM] = mm;
  i32[own + OW_NFAULT] = roles.filter((r) => r === 'faulter').length;
  const must = (r: number, what: string) => {
    if (r !== 0) throw new Error(`race setup: ${what} failed (${r})`);
  };
  for (let k = 0; k < NSLOTS; k++) {
    const shared = k % 2 === 1;
    i32[own + OW_SLOTS + k * SW + S_BASE] = k * SLOT_STRIDE;
    i32[own + OW_SLOTS + k * SW + S_SHARED] = shared ? 1 : 0;
    must(mapSlot(c, mm, k * SLOT_STRIDE, shared, k), `slot ${k}`);
  }
  must(doMmap(c, mm, PIN_BASE, SLOT_PAGES, { flags: RW }), 'pin slot');
  must(doMmap(c, mm, FORK_BASE, SLOT_PAGES, { flags: RW }), 'fork slot');
  must(doMmap(c, mm, UFFD_BASE, SLOT_PAGES, { flags: RW }), 'uffd slot');
  must(uffdRegister(c, mm, UFFD_BASE, SLOT_PAGES, VM_UFFD_MISSING), 'uffd register');
  must(doMmap(c, mm, UFFD_SRC, SLOT_PAGES, { flags: RW }), 'uffd source');
  for (let p = 0; p < SLOT_PAGES; p++) userAccess(c, mm, UFFD_SRC + p, true, 0x5000 + p);
  must(doMmap(c, mm, STACK_BASE + 8, STACK_PAGES - 8, { flags: RW | VM_GROWSDOWN }), 'stack');
}

interface RaceDef {
  name: string;
  description: string;
  exposes: string[];
  /** Roles for threads 0, 1, 2, ...; cycles over `cycle` past the list. */
  first: string[];
  cycle: string[];
}

function rolesFor(d: RaceDef, threads: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < threads; i++) out.push(i < d.first.length ? d.first[i] : d.cycle[(i - d.first.length) % d.cycle.length]);
  return out;
}

function makeRace(d: RaceDef): Scenario {
  return {
    name: d.name,
    description: d.description,
    exposes: d.exposes,
    usesModel: true,
    words: (_threads: number, opts: ScenarioOptions) => mmScenarioWords(opts, OWN_WORDS),
    setup(arena: Arena, opts: ScenarioOptions) {
      setupRaces(arena, opts, rolesFor(d, arena.nthreads));
    },
    roles: (threads: number) => rolesFor(d, threads),
    run(t: Task, role: string) {
      const fn = ACTORS[role];
      if (!fn) throw new Error(`unknown actor ${role}`);
      fn(t, rolesFor(d, t.arena.nthreads));
    },
    stats(arena: Arena) {
      const s = mmStatLines(arena);
      const all = Array.from({ length: arena.nthreads }, (_, i) => i);
      const sum = (k: number) => sumCtr(arena, all, k);
      const extra = { checks: sum(C_CHECKS), writerOps: sum(C_WRITER_OPS), forks: sum(C_FORKS), pins: sum(C_PINS), swapouts: sum(C_SWAPOUTS), uffdCopies: sum(C_UFFD_COPIES) };
      s.lines.push(Object.entries(extra).map(([k, v]) => `${k} ${v}`).join('  '));
      return { lines: s.lines, failures: 0, warnings: 0, data: { ...s.data, ...extra } };
    },
    finalCheck: mmFinalCheck,
    quiescentCheck: mmQuiescentCheck,
  };
}

export const RACE_SCENARIOS: Scenario[] = [
  makeRace({
    name: 'fault-vs-munmap', description: 'faults (anonymous and shared) against munmap of whole and partial VMAs, shrinking and zaps',
    exposes: ['B1', 'b1-caller-end-read', 'b3-no-range-check', 'b3-detach-no-wait', 'detach-without-write-lock', 'end-write-all-no-advance'],
    first: ['faulter', 'munmapper'], cycle: ['faulter', 'faulter', 'munmapper'],
  }),
  makeRace({
    name: 'fault-vs-mremap', description: 'faults against mremap moving VMAs back and forth (with MREMAP_DONTUNMAP)',
    exposes: ['b5a-anon-check-before-lock'], first: ['faulter', 'mremapper'], cycle: ['faulter', 'faulter', 'mremapper'],
  }),
  makeRace({
    name: 'fault-vs-mprotect', description: 'faults against mprotect splitting VMAs read-only and merging them back',
    exposes: ['B2', 'no-start-write'], first: ['faulter', 'mprotector'], cycle: ['faulter', 'mprotector'],
  }),
  makeRace({
    name: 'fault-vs-fork', description: 'fork while faulters write; the forker checks COW isolation in both directions',
    exposes: ['b6-cow-reuse-shared'], first: ['forker', 'faulter'], cycle: ['faulter', 'forker'],
  }),
  makeRace({
    name: 'vma-reuse', description: 'faults in one mm while its VMAs are unmapped and short-lived mms reuse the VMA slab (E3: at once)',
    exposes: ['B3', 'b3-no-range-check'], first: ['faulter', 'churner', 'munmapper'], cycle: ['faulter', 'churner', 'munmapper'],
  }),
  makeRace({
    name: 'uffd-copy', description: 'userfaultfd MISSING faults resolved by UFFDIO_COPY, with an mmap writer queueing on mmap_lock',
    exposes: ['B7'], first: ['uffd-faulter', 'uffd-manager', 'mmap-writer'], cycle: ['uffd-faulter', 'uffd-manager', 'mmap-writer'],
  }),
  makeRace({
    name: 'gup-vs-fork', description: 'FOLL_PIN|FOLL_WRITE pins with device writes while the process forks and writes',
    exposes: ['B6', 'b6-gup-fast-no-seq'], first: ['pinner', 'forker'], cycle: ['pinner', 'forker'],
  }),
  makeRace({
    name: 'swap-retry', description: 'faults against swap-out with writeback in flight (folio_lock_or_retry RETRY path)',
    exposes: ['b1-caller-end-read'], first: ['faulter', 'swapper'], cycle: ['faulter', 'swapper'],
  }),
  makeRace({
    name: 'anon-vma-prepare', description: 'first touches of fresh anonymous VMAs next to merging neighbours, stack expansion, with an mmap writer',
    exposes: ['B5', 'b5c-use-after-retry', 'B2'], first: ['first-toucher', 'mmap-writer'], cycle: ['first-toucher', 'mmap-writer'],
  }),
  makeRace({
    name: 'mixed', description: 'all of it at once: faulters, pinners and a chaos actor doing munmap/mremap/mprotect/fork/swap/zap',
    exposes: [], first: ['faulter', 'chaos'], cycle: ['faulter', 'chaos', 'pinner', 'faulter'],
  }),
];
