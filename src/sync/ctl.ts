import { RUN_ABORTED, type Task } from '../shm/task.js';
import type { Arena } from '../shm/arena.js';
import {
  H_ABORT, H_STOP, H_NTHREADS, H_CTL_BASE, H_PT_BASE, H_PT_STRIDE, T_CTL_RUN, T_PROGRESS,
  C_MODE, C_CUR, C_STEP, C_RNG, C_DEPTH, C_K, C_MAX_STEPS, C_STOPPED, C_LOG_N, C_LOG_CAP, C_LOG_BASE,
  C_REPLAY_N, C_REPLAY_IDX, C_REPLAY_BASE, C_TRACE_N, C_TRACE_CAP, C_TRACE_BASE, C_VTIME_F64, C_VIOL_STEP,
  C_DIVERGED, C_PREEMPT, C_NCHANGE, C_OPS_PENDING, C_CHANGE, CTL_MAX_CHANGES, C_THR, CT_STATE, CT_PRIO, CT_WORD, CT_EXPECT,
  CT_DEADLINE_F64, CT_OPS_LIMIT, CT_WORDS, CT_TIMED_OUT, CT_SINCE_OP, CT_WRNG,
} from '../shm/layout.js';

/*
 * The controlled scheduler (issue #14): the actors still run on the worker
 * pool, but only the thread holding the token runs. At every scheduling
 * point — a named race window, a lock acquire or release, an RCU read-side
 * boundary, a sleep, a wake-up, an actor's operation boundary — the running
 * thread takes one step: it asks the scheduler (seeded, in the arena) who
 * runs next and hands the token over (Atomics.store + notify of the next
 * thread's T_CTL_RUN). A thread that would sleep or spin instead blocks on
 * the word it waits for and is not runnable until that word changes or its
 * virtual deadline passes. Virtual time advances STEP_MS per step and jumps
 * to the earliest deadline when no thread can run, so timeouts (and the
 * lost-wake-up check) fire at the same step in every run of a schedule.
 *
 * PCT (Burckhardt, Kothari, Musuvathi, Nagarakatte, "A Randomized Scheduler
 * with Probabilistic Guarantees of Finding Bugs", ASPLOS 2010): the threads
 * get the random distinct priorities d .. d+n-1; d-1 change points are drawn
 * in [1, k]; the highest-priority runnable thread runs; at change point i
 * the running thread's priority drops to i. RANDOM: a uniform choice among
 * the runnable threads at every step. REPLAY: the recorded context switches
 * (step, thread), taken where they can be; elsewhere the running thread goes
 * on, or the lowest-numbered runnable one when it cannot (so a shrunk
 * schedule still replays deterministically). Every mode records the
 * switches it made: the schedule file.
 *
 * The region is written only by the token holder (or the harness before the
 * start and after the end): plain accesses, ordered by the hand-over.
 */

export const CTL_PCT = 1;
export const CTL_RANDOM = 2;
export const CTL_REPLAY = 3;
export const CTL_MODE_NAMES = ['', 'pct', 'random', 'replay'];

export const CT_RUN = 0;
export const CT_BLOCKED = 1;
export const CT_DONE = 2;
/** Asleep on a futex word: runnable once a waker notifies the word (ctlNotify), not merely when it changes. */
export const CT_SLEEPING = 3;

/** Virtual time per scheduling step (ms): 1 us. */
export const STEP_MS = 0.001;
/** Steps past the budget before a run that never reaches an operation boundary is given up. */
export const CTL_OVERRUN = 200_000;
/**
 * Steps after the first violation before the run is aborted: the actors only
 * finish their current operation, and one that cannot (a leaked lock, a
 * corrupted count) loops in timed-out sleeps — a parallel run's hang.
 */
export const CTL_AFTER_VIOLATION = 1_000;

/** Scheduling points: what a step was (the trace's vocabulary). */
export const P_START = 0;
export const P_OP = 1;
export const P_WINDOW = 2;
export const P_SPIN_LOCK = 3;
export const P_SPIN_UNLOCK = 4;
export const P_DOWN_READ = 5;
export const P_UP_READ = 6;
export const P_DOWN_WRITE = 7;
export const P_UP_WRITE = 8;
export const P_TRYLOCK = 9;
export const P_RCU_LOCK = 10;
export const P_RCU_UNLOCK = 11;
export const P_BLOCK = 12;
export const P_WAKE = 13;
export const P_SEQ_READ = 14;
export const P_REFCOUNT = 15;
export const P_SYNC_RCU = 16;
export const P_EXIT = 17;
export const P_FOLIO_LOCK = 18;
export const P_FOLIO_UNLOCK = 19;
export const P_DELAY = 20;
/** A racy read of a word other threads write (READ_ONCE), where the kernel's reader can be interleaved. */
export const P_READ = 21;
/**
 * PCT: a thread that takes this many steps without reaching an operation
 * boundary drops to the lowest priority (as a yield does in other PCT
 * implementations): a retry loop that keeps losing to a thread it never lets
 * run is a livelock of the strict priorities, not of the model.
 */
export const CTL_STARVE = 4096;
/** Steps traced after the first violation: the step trace keeps what led to it (traceoff_on_warning). */
export const CTL_TRACE_AFTER = 16;
/** Each point's kernel function, as the step trace prints it. */
export const POINT_NAMES = [
  'start', 'op', 'window', 'spin_lock', 'spin_unlock', 'down_read', 'up_read', 'down_write', 'up_write', 'trylock',
  'rcu_read_lock', 'rcu_read_unlock', 'schedule', 'wake_up_process', 'read_seqcount_begin', 'refcount', 'synchronize_rcu',
  'exit', 'folio_trylock', 'folio_unlock', 'delay', 'READ_ONCE',
];

export interface CtlOptions {
  mode: number;
  /** The scheduler's own seed (priorities, change points, random choices). */
  seed: number;
  /** PCT depth d (d - 1 change points). */
  depth: number;
  /** PCT's estimate of the run's steps. */
  steps: number;
  /** The step budget: actors stop at their next operation boundary after it. */
  maxSteps: number;
  /** Operations per actor (0: until the budget); one entry per thread, or one for all. */
  opsLimit: readonly number[];
  /** Replay: the switches to take, (step, thread) pairs. */
  replay?: readonly number[];
  /** Steps kept in the step trace (a ring; at least 1). */
  traceCap: number;
}

/** Capacity of the switch log (pairs). */
function logCap(o: CtlOptions): number {
  return Math.max(1024, Math.min(o.maxSteps + CTL_OVERRUN, 4 << 20));
}

/** Words the region needs for `threads` threads with options `o`. */
export function ctlWords(threads: number, o: CtlOptions): number {
  return C_THR + threads * CT_WORDS + 2 * logCap(o) + (o.replay?.length ?? 0) + 2 + 2 * Math.max(1, o.traceCap) + 64;
}

function rngNext(i32: Int32Array, cb: number): number {
  let x = i32[cb + C_RNG];
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  i32[cb + C_RNG] = x;
  return x >>> 0;
}

const slot = (cb: number, tid: number): number => cb + C_THR + tid * CT_WORDS;

/** Fill the region of a freshly created arena (harness, before the start). */
export function ctlInit(arena: Arena, o: CtlOptions): void {
  const i32 = arena.i32;
  const f64 = arena.f64;
  const cb = arena.ctlBase;
  if (cb === 0) throw new Error('ctlInit: the arena has no controlled-scheduler region');
  const n = arena.nthreads;
  i32[cb + C_MODE] = o.mode;
  i32[cb + C_CUR] = -1;
  i32[cb + C_STEP] = 0;
  let seed = (o.seed ^ 0x5bd1e995) | 0;
  if (seed === 0) seed = 0x6d2b79f5;
  i32[cb + C_RNG] = seed;
  for (let k = 0; k < 8; k++) rngNext(i32, cb);
  const depth = Math.max(1, Math.min(CTL_MAX_CHANGES + 1, o.depth | 0));
  i32[cb + C_DEPTH] = depth;
  i32[cb + C_K] = Math.max(1, o.steps | 0);
  i32[cb + C_MAX_STEPS] = Math.max(1, o.maxSteps | 0);
  i32[cb + C_STOPPED] = 0;
  i32[cb + C_VIOL_STEP] = -1;
  f64[(cb + C_VTIME_F64) >> 1] = 0;
  const thr = C_THR + n * CT_WORDS;
  const lcap = logCap(o);
  i32[cb + C_LOG_BASE] = cb + thr;
  i32[cb + C_LOG_CAP] = lcap;
  const rbase = cb + thr + 2 * lcap;
  const replay = o.replay ?? [];
  i32[cb + C_REPLAY_BASE] = rbase;
  i32[cb + C_REPLAY_N] = replay.length >> 1;
  for (let k = 0; k < replay.length; k++) i32[rbase + k] = replay[k];
  i32[cb + C_TRACE_BASE] = rbase + replay.length + (replay.length & 1);
  i32[cb + C_TRACE_CAP] = Math.max(1, o.traceCap);
  // PCT: a random permutation of the priorities d .. d+n-1, and d-1 change points in [1, k].
  const prio = Array.from({ length: n }, (_, k) => depth + k);
  for (let k = n - 1; k > 0; k--) {
    const j = rngNext(i32, cb) % (k + 1);
    [prio[k], prio[j]] = [prio[j], prio[k]];
  }
  let pending = 0;
  for (let tid = 0; tid < n; tid++) {
    const s = slot(cb, tid);
    i32[s + CT_STATE] = CT_RUN;
    i32[s + CT_PRIO] = prio[tid];
    i32[s + CT_OPS_LIMIT] = o.opsLimit.length === 0 ? 0 : (o.opsLimit[tid] ?? o.opsLimit[o.opsLimit.length - 1]) | 0;
    f64[(s + CT_DEADLINE_F64) >> 1] = -1;
    if (i32[s + CT_OPS_LIMIT] > 0) pending++;
    let w = Math.imul((o.seed ^ 0x2545f491) + Math.imul(tid + 1, 0x9e3779b9), 0x85ebca6b) | 0;
    w ^= w >>> 13;
    i32[s + CT_WRNG] = w === 0 ? 0x6d2b79f5 : w;
  }
  i32[cb + C_OPS_PENDING] = pending;
  i32[cb + C_NCHANGE] = depth - 1;
  for (let j = 0; j < depth - 1; j++) i32[cb + C_CHANGE + j] = 1 + (rngNext(i32, cb) % i32[cb + C_K]);
}

/** The harness, after ctlInit and before releasing the start barrier: give the first thread the token. */
export function ctlStart(arena: Arena): void {
  const i32 = arena.i32;
  const cb = arena.ctlBase;
  const first = ctlPick(i32, arena.f64, cb, arena.nthreads, -1);
  record(i32, cb, 0, first);
  i32[cb + C_CUR] = first;
  Atomics.store(i32, arena.pt(first) + T_CTL_RUN, 1);
}

/** The harness, after the join: nobody holds the token any more (the checks that follow run free). */
export function ctlEnd(arena: Arena): void {
  Atomics.store(arena.i32, arena.ctlBase + C_CUR, -1);
}

function runnable(i32: Int32Array, f64: Float64Array, cb: number, tid: number): boolean {
  const s = slot(cb, tid);
  const st = i32[s + CT_STATE];
  if (st === CT_RUN) return true;
  if (st === CT_BLOCKED) {
    if (Atomics.load(i32, i32[s + CT_WORD]) !== i32[s + CT_EXPECT]) return true;
  } else if (st !== CT_SLEEPING) return false;
  const dl = f64[(s + CT_DEADLINE_F64) >> 1];
  return dl >= 0 && f64[(cb + C_VTIME_F64) >> 1] >= dl;
}

function choose(i32: Int32Array, f64: Float64Array, cb: number, n: number, cur: number): number {
  const mode = i32[cb + C_MODE];
  if (i32[cb + C_STOPPED] !== 0) {
    // The budget is spent: round-robin, so that an unfair schedule's livelock
    // (a retry that loses every race to a higher-priority thread) ends and
    // every actor reaches its next operation boundary.
    for (let k = 1; k <= n; k++) {
      const tid = (cur + k + n) % n;
      if (runnable(i32, f64, cb, tid)) return tid;
    }
    return -1;
  }
  if (mode === CTL_PCT) {
    let best = -1;
    let bp = -1;
    for (let tid = 0; tid < n; tid++) {
      if (!runnable(i32, f64, cb, tid)) continue;
      const p = i32[slot(cb, tid) + CT_PRIO];
      if (p > bp) {
        bp = p;
        best = tid;
      }
    }
    return best;
  }
  if (mode === CTL_RANDOM) {
    let count = 0;
    for (let tid = 0; tid < n; tid++) if (runnable(i32, f64, cb, tid)) count++;
    if (count === 0) return -1;
    let r = rngNext(i32, cb) % count;
    for (let tid = 0; tid < n; tid++) {
      if (!runnable(i32, f64, cb, tid)) continue;
      if (r-- === 0) return tid;
    }
    return -1;
  }
  // Replay.
  const step = i32[cb + C_STEP];
  let idx = i32[cb + C_REPLAY_IDX];
  const base = i32[cb + C_REPLAY_BASE];
  const nrep = i32[cb + C_REPLAY_N];
  while (idx < nrep && i32[base + 2 * idx] < step) idx++; // a shrunk schedule's entries for steps never reached
  if (idx < nrep && i32[base + 2 * idx] === step) {
    const want = i32[base + 2 * idx + 1];
    i32[cb + C_REPLAY_IDX] = idx + 1;
    if (want >= 0 && want < n && runnable(i32, f64, cb, want)) return want;
    i32[cb + C_DIVERGED]++;
  } else i32[cb + C_REPLAY_IDX] = idx;
  if (cur >= 0 && runnable(i32, f64, cb, cur)) return cur;
  for (let tid = 0; tid < n; tid++) if (runnable(i32, f64, cb, tid)) return tid;
  return -1;
}

/**
 * The scheduling decision after the current step (`cur` took it; -1 at the
 * start): the thread to run next, or -1 when none can run even after virtual
 * time jumps to the earliest deadline (every thread blocked for good: a
 * deadlock under this schedule, left to the watchdog).
 */
export function ctlPick(i32: Int32Array, f64: Float64Array, cb: number, n: number, cur: number): number {
  let any = false;
  for (let tid = 0; tid < n && !any; tid++) any = runnable(i32, f64, cb, tid);
  if (!any) {
    // Nobody can run: time passes until the earliest timeout (before any
    // choice, so a replay sees the state the recorded choice was made in).
    let dl = Infinity;
    for (let tid = 0; tid < n; tid++) {
      const s = slot(cb, tid);
      if (i32[s + CT_STATE] !== CT_BLOCKED && i32[s + CT_STATE] !== CT_SLEEPING) continue;
      const d = f64[(s + CT_DEADLINE_F64) >> 1];
      if (d >= 0 && d < dl) dl = d;
    }
    if (dl === Infinity) return -1;
    const vt = (cb + C_VTIME_F64) >> 1;
    if (dl > f64[vt]) f64[vt] = dl;
  }
  const next = choose(i32, f64, cb, n, cur);
  if (next < 0) return -1;
  const ns = slot(cb, next);
  // A sleeper picked before any notify made it runnable: its deadline passed.
  i32[ns + CT_TIMED_OUT] = i32[ns + CT_STATE] === CT_SLEEPING ? 1 : 0;
  i32[ns + CT_STATE] = CT_RUN;
  return next;
}

function record(i32: Int32Array, cb: number, step: number, tid: number): void {
  // What happens after the first violation is its consequence, not the schedule that led to it.
  const vs = i32[cb + C_VIOL_STEP];
  if (vs >= 0 && step > vs + CTL_TRACE_AFTER) return;
  const n = i32[cb + C_LOG_N];
  if (n >= i32[cb + C_LOG_CAP]) return;
  const e = i32[cb + C_LOG_BASE] + 2 * n;
  i32[e] = step;
  i32[e + 1] = tid;
  i32[cb + C_LOG_N] = n + 1;
}

function handOff(i32: Int32Array, cb: number, next: number): void {
  Atomics.store(i32, cb + C_CUR, next);
  const w = i32[H_PT_BASE] + next * i32[H_PT_STRIDE] + T_CTL_RUN;
  Atomics.store(i32, w, 1);
  Atomics.notify(i32, w, 1);
}

/** Wait for the token (a worker after the start barrier, and every thread that handed it over). */
export function ctlWaitToken(t: Task): void {
  const i32 = t.i32;
  const w = t.base + T_CTL_RUN;
  while (Atomics.load(i32, w) === 0) {
    Atomics.wait(i32, w, 0, 1000);
    if (Atomics.load(i32, H_ABORT) !== 0) throw RUN_ABORTED;
  }
  Atomics.store(i32, w, 0);
  if (Atomics.load(i32, H_ABORT) !== 0) throw RUN_ABORTED;
}

/** Record step `s` in the step trace (a ring), until CTL_TRACE_AFTER steps past the first violation. */
function traceStep(i32: Int32Array, cb: number, s: number, tid: number, point: number, arg: number): void {
  const vs = i32[cb + C_VIOL_STEP];
  if (vs >= 0 && s > vs + CTL_TRACE_AFTER) return;
  const tn = i32[cb + C_TRACE_N];
  const te = i32[cb + C_TRACE_BASE] + 2 * (tn % i32[cb + C_TRACE_CAP]);
  i32[te] = tid | (point << 8);
  i32[te + 1] = arg;
  i32[cb + C_TRACE_N] = tn + 1;
}

/** One step by the token holder `t`: count it, trace it, apply PCT's change points, and hand the token to whoever runs next. */
function step(t: Task, point: number, arg: number): void {
  const i32 = t.i32;
  const f64 = t.f64;
  const cb = t.ctl;
  const me = t.tid;
  const s = i32[cb + C_STEP] + 1;
  i32[cb + C_STEP] = s;
  f64[(cb + C_VTIME_F64) >> 1] += STEP_MS;
  traceStep(i32, cb, s, me, point, arg);
  const vs = i32[cb + C_VIOL_STEP];
  if (vs >= 0 && s - vs > CTL_AFTER_VIOLATION) {
    Atomics.store(i32, H_ABORT, 1);
    ctlKick(i32);
    throw RUN_ABORTED;
  }
  const max = i32[cb + C_MAX_STEPS];
  if (s >= max) {
    i32[cb + C_STOPPED] = 2;
    if (s > max + CTL_OVERRUN) throw new Error(`controlled schedule: ${s} steps, ${CTL_OVERRUN} past the budget of ${max}: an actor never reaches its next operation boundary`);
  }
  const ms = slot(cb, me);
  for (let j = 0, nc = i32[cb + C_NCHANGE]; j < nc; j++) {
    if (i32[cb + C_CHANGE + j] === s) i32[ms + CT_PRIO] = j + 1;
  }
  if (point === P_OP) i32[ms + CT_SINCE_OP] = 0;
  else if (++i32[ms + CT_SINCE_OP] >= CTL_STARVE) {
    i32[ms + CT_SINCE_OP] = 0;
    i32[ms + CT_PRIO] = 0;
  }
  const mine = runnable(i32, f64, cb, me);
  const next = ctlPick(i32, f64, cb, i32[H_NTHREADS], me);
  if (next === me) return;
  if (next < 0) {
    // Every thread blocked for good: keep waiting; the watchdog reports the hang and aborts.
    Atomics.store(i32, cb + C_CUR, -1);
    ctlWaitToken(t);
    return;
  }
  record(i32, cb, s, next);
  if (mine) i32[cb + C_PREEMPT]++;
  handOff(i32, cb, next);
  ctlWaitToken(t);
}

/** A scheduling point (caller checked t.ctl !== 0): inert unless this thread holds the token. */
export function ctlPoint(t: Task, point: number, arg: number): void {
  if (t.i32[t.ctl + C_CUR] !== t.tid) return;
  step(t, point, arg);
}

/**
 * Block until `word` no longer holds `expect`, or `ms` of virtual time
 * pass (Infinity: no deadline) — what a sleep or a spin becomes under the
 * controlled scheduler. With `futex`, an Atomics.wait's semantics: return at
 * once if the word already differs, else sleep until a waker notifies the
 * word (ctlNotify) — a change without the notify is a lost wake-up, as in
 * the kernel. Returns true if woken (the word changed; with `futex`, the
 * word was notified or differed already), false if the deadline ended it.
 * Outside the controlled part of the run (setup, teardown) it is an
 * Atomics.wait.
 */
export function ctlWait(t: Task, word: number, expect: number, ms: number, futex = false): boolean {
  const i32 = t.i32;
  const cb = t.ctl;
  if (i32[cb + C_CUR] !== t.tid) return Atomics.wait(i32, word, expect, ms === Infinity ? 5 : Math.min(ms, 5)) !== 'timed-out';
  const s = slot(cb, t.tid);
  i32[s + CT_STATE] = futex && Atomics.load(i32, word) === expect ? CT_SLEEPING : CT_BLOCKED;
  i32[s + CT_WORD] = word;
  i32[s + CT_EXPECT] = expect;
  t.f64[(s + CT_DEADLINE_F64) >> 1] = ms === Infinity || ms < 0 ? -1 : t.f64[(cb + C_VTIME_F64) >> 1] + ms;
  step(t, P_BLOCK, word);
  if (Atomics.load(i32, H_ABORT) !== 0) throw RUN_ABORTED;
  if (futex) return i32[s + CT_TIMED_OUT] === 0;
  return Atomics.load(i32, word) !== expect;
}

/** A named race window delays its thread one time in CTL_WINDOW_ODDS, for 1..CTL_WINDOW_STEPS steps of virtual time. */
export const CTL_WINDOW_ODDS = 4;
export const CTL_WINDOW_STEPS = 64;

/**
 * A named race window (delayPoint) under the controlled scheduler (caller
 * checked t.ctl): a step, and now and then (a draw from the thread's own
 * window stream, seeded by the schedule seed, so a replay draws the same) a
 * delay of a few steps of virtual time in which the other threads run — the
 * controlled counterpart of --jitter, on top of the scheduler's own choices.
 */
export function ctlWindow(t: Task, w: number): void {
  const i32 = t.i32;
  const cb = t.ctl;
  if (i32[cb + C_CUR] !== t.tid) return;
  const s = slot(cb, t.tid);
  let x = i32[s + CT_WRNG];
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  i32[s + CT_WRNG] = x;
  if (((x >>> 0) % CTL_WINDOW_ODDS) !== 0) {
    step(t, P_WINDOW, w);
    return;
  }
  i32[s + CT_STATE] = CT_SLEEPING;
  i32[s + CT_WORD] = -1;
  i32[s + CT_EXPECT] = 0;
  t.f64[(s + CT_DEADLINE_F64) >> 1] = t.f64[(cb + C_VTIME_F64) >> 1] + STEP_MS * (1 + ((x >>> 8) % CTL_WINDOW_STEPS));
  step(t, P_WINDOW, w);
  if (Atomics.load(i32, H_ABORT) !== 0) throw RUN_ABORTED;
}

/** Virtual time of one busy-delay iteration (ms): about what an Atomics.load loop iteration costs. */
export const DELAY_ITER_MS = 1e-5;

/**
 * A busy delay of `n` iterations under the controlled scheduler (caller
 * checked t.ctl): the thread is off the CPU for n * DELAY_ITER_MS of virtual
 * time (at least one step) — the other threads run meanwhile, as they do
 * while a real thread spins in a critical section. A delay of 0 is a step.
 */
export function ctlDelay(t: Task, n: number): void {
  const i32 = t.i32;
  const cb = t.ctl;
  if (i32[cb + C_CUR] !== t.tid) return;
  if (n <= 0) {
    step(t, P_DELAY, 0);
    return;
  }
  const ms = Math.max(STEP_MS, n * DELAY_ITER_MS);
  const s = slot(cb, t.tid);
  i32[s + CT_STATE] = CT_SLEEPING;
  i32[s + CT_WORD] = -1; // nothing notifies it: only its deadline ends the delay
  i32[s + CT_EXPECT] = 0;
  t.f64[(s + CT_DEADLINE_F64) >> 1] = t.f64[(cb + C_VTIME_F64) >> 1] + ms;
  step(t, P_DELAY, n);
  if (Atomics.load(i32, H_ABORT) !== 0) throw RUN_ABORTED;
}

/**
 * The actor loop's guard under the controlled scheduler (caller checked
 * t.ctl): an operation boundary is a step. Every actor runs at least its
 * operations; one that has goes on serving the others (a userfaultfd
 * manager, a lock holder's waiters) until every actor has run its own, so
 * the run ends at the first operation boundary after that — or when the
 * budget is spent, or the run stops.
 */
export function ctlRunning(t: Task): boolean {
  const i32 = t.i32;
  const cb = t.ctl;
  const ops = i32[t.base + T_PROGRESS];
  ctlPoint(t, P_OP, ops);
  if (i32[cb + C_STOPPED] !== 0 || Atomics.load(i32, H_STOP) !== 0) return false;
  const s = slot(cb, t.tid);
  const lim = i32[s + CT_OPS_LIMIT];
  if (lim > 0 && ops >= lim) {
    i32[s + CT_OPS_LIMIT] = -1; // counted
    i32[s + CT_PRIO] = 0; // from now on it only serves the others: it runs when they cannot
    if (--i32[cb + C_OPS_PENDING] === 0) {
      // Every actor has run its operations: the run stops as a parallel one
      // does at H_STOP (a wait for another actor gives up; see stopRequested).
      if (i32[cb + C_STOPPED] === 0) i32[cb + C_STOPPED] = 1;
      return false;
    }
  }
  return lim === 0 || i32[cb + C_OPS_PENDING] > 0;
}

/** A worker's actor returned (or unwound): it is done; hand the token on if it holds it. */
export function ctlExit(t: Task): void {
  const i32 = t.i32;
  const cb = t.ctl;
  i32[slot(cb, t.tid) + CT_STATE] = CT_DONE;
  if (i32[cb + C_CUR] !== t.tid || Atomics.load(i32, H_ABORT) !== 0) return;
  const s = i32[cb + C_STEP] + 1;
  i32[cb + C_STEP] = s;
  traceStep(i32, cb, s, t.tid, P_EXIT, 0);
  const next = ctlPick(i32, t.f64, cb, i32[H_NTHREADS], t.tid);
  if (next < 0) {
    Atomics.store(i32, cb + C_CUR, -1);
    return;
  }
  record(i32, cb, s, next);
  handOff(i32, cb, next);
}

/** What a controlled run did, read by the harness after the join. */
export interface CtlOutcome {
  mode: string;
  steps: number;
  switches: number[];
  preemptions: number;
  violationStep: number;
  diverged: number;
  vtimeMs: number;
  budgetSpent: boolean;
  /** The last steps, oldest first: [tid, point, arg] triples. */
  trace: number[];
  traceFrom: number;
  /** Names of the objects the traced steps' arguments point into (lock words, wait words), by address. */
  names: Record<string, string>;
}

/** Points whose argument is an arena address (a lock or a word waited on). */
export const ADDR_POINTS: ReadonlySet<number> = new Set([P_READ, P_SPIN_LOCK, P_SPIN_UNLOCK, P_DOWN_READ, P_UP_READ, P_DOWN_WRITE, P_UP_WRITE, P_TRYLOCK, P_BLOCK, P_SEQ_READ, P_REFCOUNT, P_FOLIO_LOCK, P_FOLIO_UNLOCK]);

export function ctlOutcome(arena: Arena, name: (addr: number) => string | null = () => null): CtlOutcome {
  const i32 = arena.i32;
  const cb = arena.ctlBase;
  const ln = i32[cb + C_LOG_N];
  const lb = i32[cb + C_LOG_BASE];
  const switches = Array.from(i32.subarray(lb, lb + 2 * ln));
  const tn = i32[cb + C_TRACE_N];
  const cap = i32[cb + C_TRACE_CAP];
  const tb = i32[cb + C_TRACE_BASE];
  const from = Math.max(0, tn - cap);
  const trace: number[] = [];
  const names: Record<string, string> = {};
  for (let k = from; k < tn; k++) {
    const e = tb + 2 * (k % cap);
    const point = i32[e] >>> 8;
    const arg = i32[e + 1];
    trace.push(i32[e] & 0xff, point, arg);
    if (ADDR_POINTS.has(point) && !(arg in names)) {
      const n = name(arg);
      if (n) names[arg] = n;
    }
  }
  return {
    mode: CTL_MODE_NAMES[i32[cb + C_MODE]] ?? '?',
    steps: i32[cb + C_STEP], switches, preemptions: i32[cb + C_PREEMPT], violationStep: i32[cb + C_VIOL_STEP],
    diverged: i32[cb + C_DIVERGED], vtimeMs: arena.f64[(cb + C_VTIME_F64) >> 1], budgetSpent: i32[cb + C_STOPPED] === 2,
    trace, traceFrom: from, names,
  };
}

/**
 * The controlled half of an Atomics.notify(word): every thread asleep on
 * `word` becomes runnable. A no-op when the run is not controlled.
 */
export function ctlNotify(i32: Int32Array, word: number): void {
  const cb = i32[H_CTL_BASE];
  if (cb === 0) return;
  for (let tid = 0, n = i32[H_NTHREADS]; tid < n; tid++) {
    const s = slot(cb, tid);
    if (i32[s + CT_STATE] === CT_SLEEPING && i32[s + CT_WORD] === word) i32[s + CT_STATE] = CT_RUN;
  }
}

/** Notify every thread's token word (the harness, when it aborts a controlled run). */
export function ctlKick(i32: Int32Array): void {
  const base = i32[H_PT_BASE];
  const stride = i32[H_PT_STRIDE];
  for (let tid = 0, n = i32[H_NTHREADS]; tid < n; tid++) Atomics.notify(i32, base + tid * stride + T_CTL_RUN);
}
