import { writeSeqcountBegin, writeSeqcountEnd, rawSeqcountTryBegin, rawReadSeqcount } from '../src/sync/seqcount.js';
import type { BuiltinScenario, ScenarioOptions } from './types.js';
import { MM_JITTER_DEFAULT } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { Viol } from '../src/shm/kinds.js';
import type { MmCtx } from '../src/mm/model.js';
import { doMmap, doMunmap, exitMmap, mmAlloc, mmFree, setrlimitStack, type MmapArgs } from '../src/mm/mmap.js';
import { doMprotect } from '../src/mm/mprotect.js';
import { doMremap } from '../src/mm/mremap.js';
import { doMadviseDontneed } from '../src/mm/madvise.js';
import { dupMmap } from '../src/mm/fork.js';
import { userAccess } from '../src/mm/access.js';
import { pinUserPage, unpinUserPage, deviceWrite } from '../src/mm/gup.js';
import { swapOutPage, reclaimFolio } from '../src/mm/swap.js';
import { SL_OBJS, SL_CAP, SL_OBJ_WORDS } from '../src/mm/layout.js';
import { uffdRegister, uffdioCopy } from '../src/mm/uffd.js';
import { pteGet } from '../src/mm/fault.js';
import { rcuReclaim, type RcuCallbackFn } from '../src/sync/rcu.js';
import {
  VM_READ, VM_WRITE, VM_SHARED, VM_GROWSDOWN, VM_UFFD_MISSING, MM_UFFD_PENDING, PTE_PRESENT,
} from '../src/mm/layout.js';
import { running, spinDelay, sumCtr } from './common.js';
import { mmScenarioWords, mmSetup, mmCtx, mmFinalCheck, mmStatLines, mmQuiescentCheck, ANON } from './mm-common.js';
import { planActors, type KindDecl, type ActorPlan } from './actors.js';

/*
 * The race scenarios: actors hammer page faults in one address space against
 * concurrent munmap, mremap, mprotect, fork, GUP pins, swap and userfaultfd.
 * Layout of the main mm (page numbers, --mm-pages >= 1024):
 *   slots      k * 32, 16 pages each (0..255): the faulters' memory; odd
 *              slots are shared shmem mappings, even ones anonymous
 *   alt        512 + k * 32: where mremap moves a slot and back
 *   pin area   256..287: one page per pinner (pinners beyond 32 pin slot
 *              pages read-only and judge nothing)
 *   fork area  288..303: the forkers' pages, split between up to 8 forkers
 *   uffd slot  320..335 (registered MISSING) and its source 384..399
 *   scratch    432..447: the mmap writers' mmap/munmap churn
 *   touch      752 + 8 * i: first-toucher i's fresh VMAs (i < 25), next to a
 *              permanent neighbour at +6 they merge with
 *   stack      960..991: a VM_GROWSDOWN VMA (968..991 mapped), RLIMIT_STACK
 *              32 pages so it never grows below 960
 *
 * Who owns what (so any thread count is valid, DESIGN.md "Actor plans"):
 *   - a slot's layout (munmap, mremap, mprotect) is changed only by the
 *     writer holding the slot's claim word, so its epoch is a seqcount with
 *     one writer at a time: odd while the claimant unmaps, moves or zaps it;
 *     faulters only judge reads whose write could not have been discarded;
 *   - faulter i < 16 owns the pages p = i (mod min(faulters, 16)) of every
 *     slot; later faulters read random pages and judge nothing;
 *   - forker i < 8 owns the fork-area pages p = i (mod min(forkers, 8));
 *     later forkers fork without judging;
 *   - pinner i < 32 owns pin page i; first-toucher i < 25 owns touch area i.
 */
const NSLOTS = 8;
const SLOT_PAGES = 16;
const SLOT_STRIDE = 32;
const ALT_BASE = 512;
const PIN_BASE = 256;
const PIN_PAGES = 32;
const FORK_BASE = 288;
const FORK_PAGES = 16;
const MAX_FORK_OWNERS = 8;
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
const OW_HOT = 2; // the slot a munmapper works on now, plus one (0: none): a hint for faulters
const OW_SLOTS = 16; // per slot: base, epoch, kind, claim
const SW = 4;
const S_BASE = 0;
const S_EPOCH = 1;
const S_SHARED = 2;
const S_CLAIM = 3; // tid + 1 of the writer changing the slot's layout (0: none)
// Per slot page, what its owner last wrote (the cross-thread visibility
// oracle): a sequence word (odd while the owner writes or zaps), the value
// a read must return, and the slot epoch it was written in.
const OW_PUB = OW_SLOTS + NSLOTS * SW + 16;
const PUB_SEQ = 0;
const PUB_VAL = 1;
const PUB_EPOCH = 2;
const PW = 3;
const OWN_WORDS = OW_PUB + NSLOTS * SLOT_PAGES * PW;

// Per-thread counters (scenario range 0..23).
const C_CHECKS = 0;
const C_WRITER_OPS = 1;
const C_FORKS = 2;
const C_PINS = 3;
const C_SWAPOUTS = 4;
const C_UFFD_COPIES = 5;
const C_CLAIM_BUSY = 6;
const C_RECLAIMED = 7;
const C_MOVES_FAILED = 8; // mremap moves that failed (the slot put back where it was): a layout stuck for good shows here

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

/** The published-value record of page p of slot k. */
function pubWord(x: Ctx, k: number, p: number): number {
  return x.own + OW_PUB + (k * SLOT_PAGES + p) * PW;
}

/**
 * A read of page p of slot k by a thread that does not own it, judged
 * against what the owner last published: unless the owner was writing, or
 * the slot's layout changed, around the read, it returns that value — a
 * translation another thread still uses after the PTE changed (a missing
 * TLB flush) returns the old page's contents.
 */
function sharedRead(t: Task, x: Ctx, k: number, p: number): void {
  const { c, mm } = x;
  const i32 = c.i32;
  const pw = pubWord(x, k, p);
  const e1 = Atomics.load(i32, slotWord(x, k, S_EPOCH));
  const q1 = rawSeqcountTryBegin(i32, pw + PUB_SEQ); // -1 while the owner writes or zaps
  const want = Atomics.load(i32, pw + PUB_VAL);
  const pe = Atomics.load(i32, pw + PUB_EPOCH);
  const addr = Atomics.load(i32, slotWord(x, k, S_BASE)) + p;
  const got = userAccess(c, mm, addr, false, 0);
  if (got < 0) return;
  t.count(C_CHECKS);
  const q2 = rawReadSeqcount(i32, pw + PUB_SEQ);
  const e2 = Atomics.load(i32, slotWord(x, k, S_EPOCH));
  if (q1 > 0 && q1 === q2 && e1 === e2 && (e1 & 1) === 0 && pe === e1 && want >= 0 && got !== want) {
    t.violation(Viol.ContentMismatch, mm, addr, want, got, c.mmSlot(mm));
  }
}

/** The shared-slot mmap arguments for every (slot, page offset), built once: no allocation per operation. */
const SHARED_ARGS: readonly MmapArgs[] = Array.from({ length: NSLOTS * SLOT_PAGES }, (_, i) => ({
  flags: RW | VM_SHARED, file: 1 + (Math.floor(i / SLOT_PAGES) % 4), pgoff: i,
}));

/** The mmap arguments of slot k (or of the part of it at `off`). */
function slotArgs(k: number, shared: boolean, off = 0): MmapArgs {
  return shared ? SHARED_ARGS[k * SLOT_PAGES + off] : ANON;
}

function mapSlot(c: MmCtx, mm: number, base: number, shared: boolean, k: number, pages = SLOT_PAGES, off = 0): number {
  return doMmap(c, mm, base + off, pages, slotArgs(k, shared, off));
}

/**
 * Claim a slot's layout for one writer step: try every slot once from a
 * random start (only anonymous ones if `anonOnly`). Returns the slot or -1
 * (every candidate is being changed by another writer).
 */
function claimSlot(t: Task, x: Ctx, anonOnly: boolean): number {
  const i32 = x.c.i32;
  const k0 = t.randInt(NSLOTS);
  for (let j = 0; j < NSLOTS; j++) {
    const k = (k0 + j) % NSLOTS;
    if (anonOnly && i32[slotWord(x, k, S_SHARED)] !== 0) continue;
    if (Atomics.compareExchange(i32, slotWord(x, k, S_CLAIM), 0, t.tid + 1) === 0) return k;
  }
  t.count(C_CLAIM_BUSY);
  return -1;
}

function releaseSlot(x: Ctx, k: number): void {
  Atomics.store(x.c.i32, slotWord(x, k, S_CLAIM), 0);
}

/**
 * The pages instance `index` of `count` of an actor kind owns: only it
 * writes them and judges what it reads back (slot pages at their home
 * address; a slot moved to its alternate address keeps its owners). Empty:
 * the instance judges nothing. Disjoint across instances and kinds, for any
 * thread count (test/actors.test.ts).
 */
export function ownedPages(kind: string, index: number, count: number): number[] {
  const out: number[] = [];
  switch (kind) {
    case 'faulter': {
      if (index >= SLOT_PAGES) break;
      const owners = Math.min(count, SLOT_PAGES);
      for (let k = 0; k < NSLOTS; k++) for (let p = index; p < SLOT_PAGES; p += owners) out.push(k * SLOT_STRIDE + p);
      break;
    }
    case 'forker': {
      if (index >= MAX_FORK_OWNERS) break;
      const owners = Math.min(count, MAX_FORK_OWNERS);
      for (let p = index; p < FORK_PAGES; p += owners) out.push(FORK_BASE + p);
      break;
    }
    case 'pinner':
      if (index < PIN_PAGES) out.push(PIN_BASE + index);
      break;
    case 'first-toucher':
      if (index < TOUCH_AREAS) for (let p = 0; p < 8; p++) out.push(TOUCH_BASE + 8 * index + p);
      break;
    default:
      break;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Actor kinds: each builds one instance's state once, then returns its step
// (one operation; no allocation per step).
// ---------------------------------------------------------------------------

/**
 * One operation of an actor. An actor may leave a state open between two of
 * its steps (an unmapped hole, a moved VMA's source still mapped) so that
 * the other actors of its thread run inside it: such a step returns true,
 * which ends its burst (a task that blocks gives up its CPU), so the
 * thread's other actors do run before this one's next step closes it;
 * `finish` closes it when the thread stops.
 */
type Step = (() => boolean | void) & { finish?: () => void };
/** `alone`: the actor has its thread to itself (a hold it spins through keeps nothing of its thread from running). */
type Factory = (t: Task, x: Ctx, index: number, count: number, alone: boolean) => Step;

const stamp = (t: Task, seq: number): number => ((t.tid + 1) << 20) | (seq & 0xfffff);

/**
 * Faulter: write a stamp to a page it owns and read it back; the read must
 * return the stamp unless the slot's epoch moved (munmap/mremap/zap in
 * between). Faulters beyond the pages there are read random pages.
 */
const faulter: Factory = (t, x, index, count) => {
  const { c, mm } = x;
  const i32 = c.i32;
  const pickSlot = (): number => {
    // Half the faults go where a munmapper is working: the races between a
    // fault and the detach of its VMA need a reader right there.
    const hot = Atomics.load(i32, x.own + OW_HOT);
    return hot !== 0 && (t.rand() & 1) === 0 ? hot - 1 : t.randInt(NSLOTS);
  };
  if (index >= SLOT_PAGES) return () => sharedRead(t, x, pickSlot(), t.randInt(SLOT_PAGES));
  // The slot offsets it owns (the same in every slot).
  const cols = Int32Array.from(ownedPages('faulter', index, count).filter((a) => a < SLOT_PAGES));
  let seq = 0;
  return () => {
    const k = pickSlot();
    // Threads of one process share its pages: one step in four reads any
    // page of the slot, whoever owns it, so two threads fault the same PTE
    // at once (the pte_same back-outs under the PT lock) at every thread
    // count. A read changes no page's contents; only its owner judges those.
    if ((t.rand() & 3) === 0) {
      sharedRead(t, x, k, t.randInt(SLOT_PAGES));
      return;
    }
    const p = cols[t.randInt(cols.length)];
    // Fault into slots that are being changed too (that is where the races
    // are); only reads whose write could not be discarded are judged.
    const e1 = Atomics.load(i32, slotWord(x, k, S_EPOCH));
    const addr = Atomics.load(i32, slotWord(x, k, S_BASE)) + p;
    const s = stamp(t, ++seq);
    const pw = pubWord(x, k, p);
    writeSeqcountBegin(i32, pw + PUB_SEQ); // readers of this page do not judge it meanwhile
    const wrote = userAccess(c, mm, addr, true, s) === s;
    // A failed write (SEGV: mprotect/munmap, or stopping) leaves the value unknown until the next one.
    Atomics.store(i32, pw + PUB_VAL, wrote ? s : -1);
    Atomics.store(i32, pw + PUB_EPOCH, e1);
    writeSeqcountEnd(i32, pw + PUB_SEQ);
    if (!wrote) return;
    const got = userAccess(c, mm, addr, false, 0);
    const e2 = Atomics.load(i32, slotWord(x, k, S_EPOCH));
    t.count(C_CHECKS);
    if (got >= 0 && got !== s && e1 === e2 && (e1 & 1) === 0) t.violation(Viol.ContentMismatch, mm, addr, s, got, c.mmSlot(mm));
    // Now and then drop the page again, so faults keep hitting every slot
    // (including the ones other actors are changing right now). A private
    // page reads back as zero after it; a shared one keeps its page cache.
    if ((t.rand() & 3) === 0) {
      writeSeqcountBegin(i32, pw + PUB_SEQ);
      doMadviseDontneed(c, mm, addr, 1);
      if (Atomics.load(i32, slotWord(x, k, S_SHARED)) === 0) Atomics.store(i32, pw + PUB_VAL, 0);
      writeSeqcountEnd(i32, pw + PUB_SEQ);
    }
  };
};

/** Munmapper: munmap (whole or part) and map again, or zap, a slot it claimed. */
const munmapper: Factory = (t, x, _index, _count, alone) => {
  const { c, mm } = x;
  const i32 = c.i32;
  // A whole-slot hole left open until the next step (-1: none).
  let hole = -1;
  let holeBase = 0;
  let holeShared = false;
  const closeHole = () => {
    mapSlot(c, mm, holeBase, holeShared, hole);
    Atomics.add(i32, slotWord(x, hole, S_EPOCH), 1);
    releaseSlot(x, hole);
    hole = -1;
    t.count(C_WRITER_OPS);
  };
  const step: Step = () => {
    if (hole >= 0) {
      closeHole();
      return;
    }
    const k = claimSlot(t, x, false);
    if (k < 0) return;
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
      // Faults into the hole now find nothing to race with: stop steering
      // half of them here while it stays open.
      Atomics.store(i32, x.own + OW_HOT, 0);
      // Leave the hole open until this actor's next step (alone on its
      // thread: for a moment more): the freed VMAs may be reused by another
      // mm — on another thread, or by an actor of this one — before this one
      // maps the range again.
      if (alone) spinDelay(i32, x.own, 20000);
      hole = k;
      holeBase = base;
      holeShared = shared;
      return true;
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
    releaseSlot(x, k);
    t.count(C_WRITER_OPS);
  };
  step.finish = () => {
    if (hole >= 0) closeHole();
  };
  return step;
};

/** Mremapper: move an anonymous slot it claimed to its alternate address and back (sometimes MREMAP_DONTUNMAP), or zap it. */
const mremapper: Factory = (t, x, _index, _count, alone) => {
  const { c, mm } = x;
  const i32 = c.i32;
  // A MREMAP_DONTUNMAP source left mapped until the next step (-1: none).
  let src = -1;
  let srcBase = 0;
  const unmapSource = () => {
    doMunmap(c, mm, srcBase, SLOT_PAGES);
    Atomics.add(i32, slotWord(x, src, S_EPOCH), 1);
    releaseSlot(x, src);
    src = -1;
    t.count(C_WRITER_OPS);
  };
  const step: Step = () => {
    if (src >= 0) {
      unmapSource();
      return;
    }
    const k = claimSlot(t, x, true);
    if (k < 0) return;
    const ew = slotWord(x, k, S_EPOCH);
    Atomics.add(i32, ew, 1);
    const base = Atomics.load(i32, slotWord(x, k, S_BASE));
    const r = t.rand() & 3;
    let move = true;
    if (r <= 1) {
      // Zap: the next touches are faults that look at the VMA again...
      doMadviseDontneed(c, mm, base, SLOT_PAGES);
      // ...and move it away while they do (the B5a interleaving).
      if (r === 1) spinDelay(i32, x.own, 500);
      else move = false;
    }
    if (move) {
      const home = k * SLOT_STRIDE;
      const to = base === home ? ALT_BASE + k * SLOT_STRIDE : home;
      const dontunmap = r === 1 || r === 3;
      if (doMremap(c, mm, base, SLOT_PAGES, to, SLOT_PAGES, dontunmap) === 0) {
        Atomics.store(i32, slotWord(x, k, S_BASE), to);
        if (dontunmap) {
          // The emptied source stays mapped until this actor's next step
          // (alone on its thread: for a moment more): faulters that still
          // use the old address first-touch it (the B5a setting).
          if (alone) spinDelay(i32, x.own, 300000);
          src = k;
          srcBase = base;
          return true;
        }
      } else {
        // Out of memory, or the slot is not one VMA (mprotect or a partial
        // remap left it in pieces): put it back in one piece.
        t.count(C_MOVES_FAILED);
        doMunmap(c, mm, base, SLOT_PAGES);
        mapSlot(c, mm, base, false, k);
      }
    }
    Atomics.add(i32, ew, 1);
    releaseSlot(x, k);
    t.count(C_WRITER_OPS);
  };
  step.finish = () => {
    if (src >= 0) unmapSource();
  };
  return step;
};

/**
 * Mprotector: part of a claimed slot read-only (split) until its next step
 * (alone on its thread: for a moment), then writable again (merge).
 */
const mprotector: Factory = (t, x) => {
  const { c, mm } = x;
  const i32 = c.i32;
  const seen = new Int32Array(SLOT_PAGES);
  // A range left read-only until the next step (-1: none), as the
  // munmapper's hole: other actors, on other threads and on this one, run
  // against it meanwhile.
  let open = -1;
  let from = 0;
  let len = 0;
  let ro = false;
  const restore = () => {
    // While a private range is read-only nothing may write it (a shared
    // slot's page may be mapped writable elsewhere): a faulter's write
    // fails, a zap or swap keeps the contents or empties the page (read
    // back as 0). A different non-zero value came through a writable
    // translation that outlived the change.
    if (ro) {
      for (let p = 0; p < len; p++) {
        const now = userAccess(c, mm, from + p, false, 0);
        if (seen[p] >= 0 && now > 0 && now !== seen[p]) t.violation(Viol.ReadOnlyPageChanged, mm, from + p, seen[p], now, c.mmSlot(mm));
      }
    }
    doMprotect(c, mm, from, len, RW);
    releaseSlot(x, open);
    open = -1;
    t.count(C_WRITER_OPS);
  };
  const step: Step = () => {
    if (open >= 0) {
      restore();
      return;
    }
    const k = claimSlot(t, x, false);
    if (k < 0) return;
    const base = Atomics.load(i32, slotWord(x, k, S_BASE));
    const off = t.randInt(SLOT_PAGES - 2);
    len = 1 + t.randInt(SLOT_PAGES - off - 1);
    from = base + off;
    ro = doMprotect(c, mm, from, len, VM_READ) === 0 && Atomics.load(i32, slotWord(x, k, S_SHARED)) === 0;
    if (ro) for (let p = 0; p < len; p++) seen[p] = userAccess(c, mm, from + p, false, 0);
    spinDelay(i32, x.own, 200);
    open = k;
    return true;
  };
  step.finish = () => {
    if (open >= 0) restore();
  };
  return step;
};

/** Swapper: swap a random slot page out, writeback holding the folio lock (no claim: swap never changes a layout). */
const swapper: Factory = (t, x) => () => {
  const k = t.randInt(NSLOTS);
  const base = Atomics.load(x.c.i32, slotWord(x, k, S_BASE));
  if (swapOutPage(x.c, x.mm, base + t.randInt(SLOT_PAGES), 500 + t.randInt(3000))) t.count(C_SWAPOUTS);
  t.count(C_WRITER_OPS);
};

/** Folios a reclaimer's PFN scan looks at per operation. */
const RECLAIM_SCAN = 32;

/**
 * Reclaimer (kswapd): scan the folio memmap from a random PFN, take the
 * first mapped anon folio it can lock and unmap it everywhere through the
 * reverse map — no mmap_lock, no VMA lock, whatever mm or VMA maps it
 * (try_to_unmap's rmap-walk-miss oracle judges the walk).
 */
const reclaimer: Factory = (t, x) => {
  const { c } = x;
  const i32 = c.i32;
  const objs = i32[c.folioSlab + SL_OBJS];
  const cap = i32[c.folioSlab + SL_CAP];
  const words = i32[c.folioSlab + SL_OBJ_WORDS];
  return () => {
    let k = t.randInt(cap);
    const ioSpins = 200 + t.randInt(2000);
    for (let n = 0; n < RECLAIM_SCAN; n++) {
      if (reclaimFolio(c, objs + k * words, ioSpins) > 0) {
        t.count(C_RECLAIMED);
        break;
      }
      k = k + 1 === cap ? 0 : k + 1;
    }
    t.count(C_WRITER_OPS);
  };
};

/**
 * Forker: fork and check COW isolation with its own fork-area pages: the
 * child sees the fork-time values; later writes on either side never leak
 * across. Forkers beyond the pages there are fork, write in the child, exit.
 */
const forker: Factory = (t, x, index, count) => {
  const { c, mm } = x;
  if (index >= MAX_FORK_OWNERS) {
    return () => {
      const child = dupMmap(c, mm);
      if (child < 0) return;
      t.count(C_FORKS);
      userAccess(c, child, FORK_BASE + t.randInt(FORK_PAGES), true, 5);
      exitMmap(c, child);
      mmFree(c, child);
    };
  }
  const pages = Int32Array.from(ownedPages('forker', index, count));
  const n = pages.length;
  const vals = new Int32Array(n);
  let seq = 0;
  return () => {
    for (let j = 0; j < n; j++) {
      vals[j] = stamp(t, ++seq);
      if (userAccess(c, mm, pages[j], true, vals[j]) !== vals[j]) return;
    }
    const child = dupMmap(c, mm);
    if (child < 0) return;
    t.count(C_FORKS);
    for (let j = 0; j < n; j++) {
      const got = userAccess(c, child, pages[j], false, 0);
      if (got >= 0 && got !== vals[j]) t.violation(Viol.ForkLeak, child, pages[j], vals[j], got, 0);
    }
    for (let j = 0; j < n; j += 2) userAccess(c, mm, pages[j], true, vals[j] ^ 0x40000);
    for (let j = 1; j < n; j += 2) userAccess(c, child, pages[j], true, vals[j] ^ 0x40000);
    for (let j = 0; j < n; j++) {
      const inChild = userAccess(c, child, pages[j], false, 0);
      const inParent = userAccess(c, mm, pages[j], false, 0);
      const wantChild = j % 2 === 1 ? vals[j] ^ 0x40000 : vals[j];
      const wantParent = j % 2 === 0 ? vals[j] ^ 0x40000 : vals[j];
      if (inChild >= 0 && inChild !== wantChild) t.violation(Viol.ForkLeak, child, pages[j], wantChild, inChild, 1);
      if (inParent >= 0 && inParent !== wantParent) t.violation(Viol.ForkLeak, mm, pages[j], wantParent, inParent, 2);
    }
    exitMmap(c, child);
    mmFree(c, child);
  };
};

/**
 * Pinner: pin its own page for write, let the "device" write through the
 * pin, and check the process reads what the device wrote (the pin and the
 * page table must not diverge), while forks happen around it. Pinners beyond
 * the pin area take read-only pins of slot pages and judge nothing.
 */
const pinner: Factory = (t, x, index) => {
  const { c, mm } = x;
  if (index >= PIN_PAGES) {
    return () => {
      const k = t.randInt(NSLOTS);
      const f1 = pinUserPage(c, mm, Atomics.load(c.i32, slotWord(x, k, S_BASE)) + t.randInt(SLOT_PAGES), false);
      if (f1 === 0) return;
      t.count(C_PINS);
      spinDelay(c.i32, x.own, 100 + t.randInt(400));
      unpinUserPage(c, mm, f1 - 1);
    };
  }
  const addr = ownedPages('pinner', index, 1)[0];
  let seq = 0;
  return () => {
    const s1 = stamp(t, ++seq);
    if (userAccess(c, mm, addr, true, s1) !== s1) return;
    const f1 = pinUserPage(c, mm, addr, true);
    if (f1 === 0) return;
    t.count(C_PINS);
    spinDelay(c.i32, x.own, 100 + t.randInt(400)); // forks may happen now
    const s2 = stamp(t, ++seq);
    userAccess(c, mm, addr, true, s2); // the process writes...
    const s3 = s2 ^ 0x80000;
    deviceWrite(c, f1 - 1, s3); // ...then the device writes through the pin
    const got = userAccess(c, mm, addr, false, 0);
    if (got >= 0 && got !== s3) t.violation(Viol.PinIncoherent, mm, addr, s3, got, 0);
    unpinUserPage(c, mm, f1 - 1);
  };
};

/** Userfaultfd faulter: touch the registered slot; zap pages so they go missing again. */
const uffdFaulter: Factory = (t, x, index) => {
  const { c, mm } = x;
  return () => {
    const p = (index + 2 * t.randInt(SLOT_PAGES / 2)) % SLOT_PAGES;
    const v = userAccess(c, mm, UFFD_BASE + p, (t.rand() & 1) === 0, 0x1000 + p);
    if (v >= 0) t.count(C_CHECKS);
    if ((t.rand() & 3) === 0) doMadviseDontneed(c, mm, UFFD_BASE + p, 1);
  };
};

/** Userfaultfd manager: resolve missing pages with UFFDIO_COPY; sometimes drop its sources. */
const uffdManager: Factory = (t, x) => {
  const { c, mm } = x;
  const i32 = c.i32;
  return () => {
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
  };
};

/** mmap writer: mmap/munmap churn in the scratch area (writers queue on mmap_lock). */
const mmapWriter: Factory = (t, x) => {
  const { c, mm } = x;
  return () => {
    const a = SCRATCH_BASE + t.randInt(12);
    doMmap(c, mm, a, 1 + t.randInt(4), ANON);
    spinDelay(c.i32, x.own, 50);
    doMunmap(c, mm, SCRATCH_BASE, 16);
    // Now and then re-register the userfaultfd range: a write section that
    // write-locks the VMA UFFDIO_COPY holds read-locked.
    if ((t.rand() & 7) === 0) uffdRegister(c, mm, UFFD_BASE, SLOT_PAGES, VM_UFFD_MISSING);
    t.count(C_WRITER_OPS);
  };
};

/**
 * First-toucher: first touches of fresh anonymous VMAs next to existing ones
 * (anon_vma preparation, with neighbours that merge), and stack expansion.
 * First-touchers beyond the touch areas only grow and trim the stack.
 */
const firstToucher: Factory = (t, x, index) => {
  const { c, mm } = x;
  const area = ownedPages('first-toucher', index, 1)[0] ?? -1;
  if (area >= 0) {
    doMmap(c, mm, area + 6, 2, ANON); // the permanent neighbour
    userAccess(c, mm, area + 6, true, 1);
  }
  let seq = 0;
  return () => {
    if (area >= 0) {
      const a = area + 2 * t.randInt(3);
      if (doMmap(c, mm, a, 2, ANON) === 0) {
        const s = stamp(t, ++seq);
        if (userAccess(c, mm, a, true, s) === s) {
          const got = userAccess(c, mm, a, false, 0);
          if (got >= 0 && got !== s) t.violation(Viol.ContentMismatch, mm, a, s, got, c.mmSlot(mm));
        }
        doMunmap(c, mm, a, 2);
      }
    }
    // Grow the stack below its start, then trim it back.
    const below = STACK_BASE + 8 - 1 - t.randInt(6);
    userAccess(c, mm, below, true, 1);
    if ((t.rand() & 7) === 0) doMunmap(c, mm, STACK_BASE, 8);
    t.count(C_WRITER_OPS);
  };
};

/**
 * Churner: short-lived address spaces (allocate an mm, map, touch, unmap,
 * exit). Their VMAs come from (and go back to) the same slab as the main
 * mm's — in E3 immediately, so a stale reader may find a VMA reused by
 * another mm. Each one is another program's layout over the main mm's slot
 * addresses: half the time one heap-like VMA over the whole slot area, else
 * four slot-sized VMAs from a seeded slot on. The VMA a short-lived mm maps
 * first is the one it reuses (the slab is LIFO), so wherever the freed VMA
 * was, its reuse covers the addresses other mms fault on as often as a
 * real system's mixed layouts do, not only when it was slot 0's.
 */
const churner: Factory = (t, x) => {
  const { c } = x;
  return () => {
    const mm = mmAlloc(c);
    if (mm < 0) return;
    if ((t.rand() & 1) === 0) {
      doMmap(c, mm, 0, NSLOTS * SLOT_STRIDE, ANON);
      userAccess(c, mm, t.randInt(NSLOTS * SLOT_STRIDE), true, 7);
    } else {
      const k0 = t.randInt(NSLOTS);
      for (let k = 0; k < 4; k++) {
        const base = ((k0 + k) % NSLOTS) * SLOT_STRIDE;
        doMmap(c, mm, base, SLOT_PAGES, ANON);
        userAccess(c, mm, base + t.randInt(SLOT_PAGES), true, 7);
      }
      doMunmap(c, mm, ((k0 + 1) % NSLOTS) * SLOT_STRIDE, SLOT_PAGES);
    }
    exitMmap(c, mm);
    mmFree(c, mm);
    t.count(C_WRITER_OPS);
  };
};

const FACTORIES: Record<string, Factory> = {
  faulter, munmapper, mremapper, mprotector, forker, pinner, swapper, reclaimer, 'uffd-faulter': uffdFaulter,
  'uffd-manager': uffdManager, 'mmap-writer': mmapWriter, 'first-toucher': firstToucher, churner,
};

/** A userfaultfd fault blocks its thread until a manager on another thread resolves it. */
const UFFD_FAULTER: KindDecl = { kind: 'uffd-faulter', needsPeer: 'uffd-manager' };

/** A multiplexed actor may run this far (ms of its weighted time) ahead of the thread's most behind actor. */
const SHARE_SLACK_MS = 1;
/** Bursts of one actor last log-uniformly from one operation up to 2^BURST_LOG2_MAX µs. */
const BURST_LOG2_MAX = 11;

/**
 * One thread's loop: build each of its actors once, then run until the run
 * stops. A thread with one actor steps it back to back. A thread with
 * several shares its time among them the way a CPU's scheduler shares it
 * among tasks (CFS-like): each actor accrues its run time divided by its
 * weight, only actors within SHARE_SLACK_MS of the most behind one may run,
 * and among those the next is drawn by weight and stepped for a seeded,
 * log-uniform burst — most bursts are one or a few operations, some last
 * up to 2 ms, and a burst ends at a step that leaves a state open — so
 * every kind on one thread meets every kind on the others
 * both operation by operation (a free and a reuse by another mm inside
 * another thread's race window) and for stretches of time, whatever one
 * step of each costs (a fork is thousands of faults' worth).
 */
function runThread(t: Task, plan: ActorPlan): void {
  const x = ctxOf(t);
  const steps: Step[] = [];
  const weights: number[] = [];
  let total = 0;
  for (const a of plan.threads[t.tid]) {
    const make = FACTORIES[a.kind];
    if (!make) throw new Error(`unknown actor kind ${a.kind}`);
    steps.push(make(t, x, a.index, a.count, plan.threads[t.tid].length === 1));
    weights.push(a.weight);
    total += a.weight;
  }
  const fn = x.c.rcuFn;
  runSteps(t, steps, weights, total, fn);
  for (const s of steps) s.finish?.();
}

/**
 * Under --jitter (not under a controlled schedule, whose draws stay those of
 * its seed) the delay windows' probabilities are drawn afresh this often, on
 * every thread alike: a race that needs one window held open often gets
 * that draw within a few epochs of any seed (swarm testing over time), where
 * one draw per run left a seed that rolled one in 64 slow for all of it.
 */
export const WINDOW_EPOCH_MS = 500;

/** The window epoch of run time `now` (ms): re-draw the windows when it changed; returns it. */
function windowEpoch(t: Task, now: number, epoch: number): number {
  const e = Math.floor(now / WINDOW_EPOCH_MS);
  if (e !== epoch) t.drawWindows(e);
  return e;
}

function runSteps(t: Task, steps: Step[], weights: number[], total: number, fn: RcuCallbackFn): void {
  const n = steps.length;
  const epochs = t.windowed && t.ctl === 0;
  let epoch = 0;
  if (n === 1) {
    const step = steps[0];
    let ops = 0;
    while (running(t)) {
      step();
      rcuReclaim(t, fn);
      if (epochs && (++ops & 63) === 0) epoch = windowEpoch(t, t.now(), epoch);
    }
    return;
  }
  if (t.ctl !== 0) {
    // A controlled schedule's time is virtual: one operation per pick, by weight.
    while (running(t)) {
      let r = t.randInt(total);
      let k = 0;
      while (r >= weights[k]) r -= weights[k++];
      steps[k]();
      rcuReclaim(t, fn);
    }
    return;
  }
  const vrun = new Float64Array(n); // weighted run time per actor, ms
  let now = t.now();
  while (running(t)) {
    let min = Infinity;
    for (let k = 0; k < n; k++) if (vrun[k] < min) min = vrun[k];
    let eligible = 0;
    for (let k = 0; k < n; k++) if (vrun[k] <= min + SHARE_SLACK_MS) eligible += weights[k];
    let r = t.randInt(eligible);
    let k = 0;
    for (;; k++) {
      if (vrun[k] > min + SHARE_SLACK_MS) continue;
      if (r < weights[k]) break;
      r -= weights[k];
    }
    const step = steps[k];
    const start = now;
    // 2^(0..BURST_LOG2_MAX) µs, the fraction drawn too: log-uniform.
    const until = start + 2 ** ((t.rand() % (BURST_LOG2_MAX * 256)) / 256) / 1000;
    let open: boolean | void;
    do {
      open = step();
      rcuReclaim(t, fn);
      now = t.now();
    } while (open !== true && now < until && running(t));
    vrun[k] += (now - start) / weights[k];
    if (epochs) epoch = windowEpoch(t, now, epoch);
  }
}

// ---------------------------------------------------------------------------
// Setup and scenario definitions
// ---------------------------------------------------------------------------

function setupRaces(arena: Arena, opts: ScenarioOptions): void {
  if (opts.model.mmPages < 1024) throw new Error('race scenarios need --mm-pages >= 1024');
  const { c, mms } = mmSetup(arena, opts, 1);
  const mm = mms[0];
  const own = c.ownBase();
  const i32 = arena.i32;
  i32[own + OW_MM] = mm;
  const must = (r: number, what: string) => {
    if (r !== 0) throw new Error(`race setup: ${what} failed (${r})`);
  };
  for (let k = 0; k < NSLOTS; k++) {
    const shared = k % 2 === 1;
    i32[own + OW_SLOTS + k * SW + S_BASE] = k * SLOT_STRIDE;
    i32[own + OW_SLOTS + k * SW + S_SHARED] = shared ? 1 : 0;
    must(mapSlot(c, mm, k * SLOT_STRIDE, shared, k), `slot ${k}`);
  }
  must(doMmap(c, mm, PIN_BASE, PIN_PAGES, ANON), 'pin area');
  must(doMmap(c, mm, FORK_BASE, FORK_PAGES, ANON), 'fork area');
  must(doMmap(c, mm, UFFD_BASE, SLOT_PAGES, ANON), 'uffd slot');
  must(uffdRegister(c, mm, UFFD_BASE, SLOT_PAGES, VM_UFFD_MISSING), 'uffd register');
  must(doMmap(c, mm, UFFD_SRC, SLOT_PAGES, ANON), 'uffd source');
  for (let p = 0; p < SLOT_PAGES; p++) userAccess(c, mm, UFFD_SRC + p, true, 0x5000 + p);
  must(doMmap(c, mm, STACK_BASE + 8, STACK_PAGES - 8, { flags: RW | VM_GROWSDOWN }), 'stack');
  // The stack may grow down to STACK_BASE and no further: a stale access at
  // a moved slot's old address must not grow it over the areas below.
  setrlimitStack(c, mm, STACK_PAGES);
}

interface RaceDef {
  name: string;
  description: string;
  exposes: string[];
  /** The actor kinds, in order, with their weights (stress/actors.ts). */
  kinds: KindDecl[];
  /** --jitter when none is given. */
  defaultJitter?: number;
}

/** The actor plan of a race scenario at `threads` threads. */
export function racePlan(name: string, threads: number): ActorPlan {
  const d = RACE_DEFS.find((r) => r.name === name);
  if (!d) throw new Error(`no race scenario ${name}`);
  return planActors(d.kinds, threads);
}

function makeRace(d: RaceDef): BuiltinScenario {
  let cached: ActorPlan | null = null;
  const plan = (threads: number): ActorPlan => {
    if (!cached || cached.threads.length !== threads) cached = planActors(d.kinds, threads);
    return cached;
  };
  return {
    name: d.name,
    description: d.description,
    exposes: d.exposes,
    usesModel: true,
    defaultJitter: d.defaultJitter,
    words: (_threads: number, opts: ScenarioOptions) => mmScenarioWords(opts, OWN_WORDS),
    setup(arena: Arena, opts: ScenarioOptions) {
      setupRaces(arena, opts);
    },
    roles: (threads: number) => [...plan(threads).roles],
    notes: (threads: number) => plan(threads).dropped.map((x) => `no ${x.kind} at ${threads} thread${threads === 1 ? '' : 's'}: it ${x.why}`),
    run(t: Task) {
      runThread(t, plan(t.arena.nthreads));
    },
    stats(arena: Arena) {
      const s = mmStatLines(arena);
      const all = Array.from({ length: arena.nthreads }, (_, i) => i);
      const sum = (k: number) => sumCtr(arena, all, k);
      const extra = { checks: sum(C_CHECKS), writerOps: sum(C_WRITER_OPS), forks: sum(C_FORKS), pins: sum(C_PINS), swapouts: sum(C_SWAPOUTS), reclaimed: sum(C_RECLAIMED), uffdCopies: sum(C_UFFD_COPIES), slotsBusy: sum(C_CLAIM_BUSY), movesFailed: sum(C_MOVES_FAILED) };
      s.lines.push(Object.entries(extra).map(([k, v]) => `${k} ${v}`).join('  '));
      return { lines: s.lines, failures: 0, warnings: 0, data: { ...s.data, ...extra } };
    },
    finalCheck: mmFinalCheck,
    quiescentCheck: mmQuiescentCheck,
  };
}

const RACE_DEFS: RaceDef[] = [
  {
    name: 'fault-vs-munmap', description: 'faults (anonymous and shared) against munmap of whole and partial VMAs, shrinking and zaps',
    exposes: ['B1', 'b1-caller-end-read', 'b3-no-range-check', 'b3-detach-no-wait', 'detach-without-write-lock', 'end-write-all-no-advance'],
    kinds: [{ kind: 'faulter', weight: 2 }, { kind: 'munmapper' }],
  },
  {
    name: 'fault-vs-mremap', description: 'faults against mremap moving VMAs back and forth (with MREMAP_DONTUNMAP)',
    exposes: ['b5a-anon-check-before-lock'], kinds: [{ kind: 'faulter', weight: 2 }, { kind: 'mremapper' }],
  },
  {
    name: 'fault-vs-mprotect', description: 'faults against mprotect splitting VMAs read-only and merging them back',
    exposes: ['B2', 'no-start-write'], kinds: [{ kind: 'faulter' }, { kind: 'mprotector' }],
  },
  {
    name: 'fault-vs-fork', description: 'fork while faulters write; each forker checks COW isolation of its own pages in both directions',
    exposes: ['b6-cow-reuse-shared'], kinds: [{ kind: 'forker' }, { kind: 'faulter' }],
  },
  {
    name: 'vma-reuse', description: 'faults in one mm while its VMAs are unmapped and short-lived mms reuse the VMA slab (E3: at once)',
    exposes: ['B3', 'b3-no-range-check'], kinds: [{ kind: 'faulter' }, { kind: 'churner' }, { kind: 'munmapper' }],
  },
  {
    name: 'uffd-copy', description: 'userfaultfd MISSING faults resolved by UFFDIO_COPY, with an mmap writer queueing on mmap_lock',
    exposes: ['B7'], kinds: [UFFD_FAULTER, { kind: 'uffd-manager' }, { kind: 'mmap-writer' }],
  },
  {
    name: 'gup-vs-fork', description: 'FOLL_PIN|FOLL_WRITE pins with device writes while the process forks and writes',
    exposes: ['B6', 'b6-gup-fast-no-seq'], kinds: [{ kind: 'pinner' }, { kind: 'forker' }],
  },
  {
    name: 'swap-retry', description: 'faults against swap-out with writeback in flight (folio_lock_or_retry RETRY path)',
    exposes: ['b1-caller-end-read'], kinds: [{ kind: 'faulter' }, { kind: 'swapper' }],
  },
  {
    name: 'anon-vma-prepare', description: 'first touches of fresh anonymous VMAs next to merging neighbours, stack expansion, with an mmap writer',
    exposes: ['B5', 'b5c-use-after-retry', 'B2'], kinds: [{ kind: 'first-toucher' }, { kind: 'mmap-writer' }],
  },
  {
    name: 'mixed', description: 'every actor kind at once (with fewer threads than kinds, every kind on every thread, time-shared): faulters, munmap, mremap, mprotect, fork, pins, swap, userfaultfd, mmap churn, first touches and stack growth, short-lived mms; race windows widened by default',
    exposes: [],
    defaultJitter: MM_JITTER_DEFAULT,
    kinds: [
      { kind: 'faulter', weight: 6 }, { kind: 'munmapper' }, { kind: 'mremapper' }, { kind: 'mprotector' }, { kind: 'forker' },
      { kind: 'pinner' }, { kind: 'swapper' }, { kind: 'reclaimer' }, UFFD_FAULTER, { kind: 'uffd-manager' }, { kind: 'mmap-writer' },
      { kind: 'first-toucher' }, { kind: 'churner' },
    ],
  },
];

export const RACE_SCENARIOS: BuiltinScenario[] = RACE_DEFS.map(makeRace);
