import { Arena } from './arena.js';
import { kickSleepers } from './kick.js';
import {
  H_BUGS0, H_BUGS1, H_ABORT, H_STOP, H_FLAGS, H_VIOL_COUNT, H_EPOCH_F64, H_SEED,
  F_KEEP_GOING, T_F_LOCKSTAT, T_CTR, T_F_CTR, T_PROGRESS, T_TR_HEAD, T_TR_RING,
  TR_CAP, TR_WORDS, TR_OP, TR_OBJ, TR_A, TR_B, TR_C, TR_SEQ, TR_T_F64,
  V_KIND, V_TID, V_OP, V_OBJ, V_A, V_B, V_C, V_D, V_TIME_F64, V_WORDS, T_CUR_OP,
  H_FLAGS as H_FLAGS_, F_TRACE, F_NO_CHECK, F_NO_DIRECT, H_JITTER, H_PAUSE, H_PAUSED, T_STATE, STATE_PARKED, H_TRACE_OFF, H_GENERATION,
  V_STEP, C_STEP, C_VIOL_STEP, C_VTIME_F64, C_STOPPED,
} from './layout.js';

/** Thrown out of any wait when the run is aborted (watchdog, fatal violation). */
export class RunAborted extends Error {
  constructor() {
    super('run aborted');
  }
}
/** Preallocated so the hot path never allocates. */
export const RUN_ABORTED = new RunAborted();

/**
 * `current`: the per-thread context every modelled function receives. It
 * caches the typed views and the thread's region bases so hot paths do only
 * index arithmetic.
 */
/** Delay windows a run can widen (W_* in src/mm/debug.ts are 1..15; all 16 slots are drawn). */
export const DELAY_WINDOWS = 16;

export class Task {
  readonly arena: Arena;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly tid: number;
  /** Base word of this thread's region. */
  readonly base: number;
  /** f64 index of this thread's lock_stat block. */
  readonly lsBase: number;
  /** f64 index of this thread's float counters. */
  readonly fctrBase: number;
  /** Bug switches, refreshed once per operation by `readBugs()`. */
  bugs0 = 0;
  bugs1 = 0;
  /** xorshift32 state (seeded per thread). */
  rng: number;
  /** Hold-time sampling countdown (lock_stat hold times are sampled 1 in 16). */
  holdSample = 0;
  /**
   * The lockdep subclass of the acquisition in progress (spin_lock_nested,
   * mmap_write_lock_nested): set by the _nested wrapper, recorded with the
   * held lock and cleared by lockAcquired().
   */
  lockSubclass = 0;
  readonly timeBase: number;
  /** Flight recorder on (read once; events are only written when true). */
  readonly tracing: boolean;
  /** Race-window widening: maximum spin of a delay point (0 = off). */
  readonly jitter: number;
  /**
   * Per delay window w, the mask of the draw that opens it (a window opens
   * when rand() & delayMask[w] is 0): one in 2 to one in 64, seeded from the
   * run's seed, shuffle generation and window epoch and the same on every
   * thread, so each epoch of a run widens some windows often and others
   * rarely (drawWindows).
   */
  readonly delayMask = new Int32Array(DELAY_WINDOWS);
  /** Oracles on (lockdep validation); off with --no-check. */
  readonly checks: boolean;
  /**
   * Precondition assertions at the call site (lockdep_assert_held-style
   * mmap/VMA lock asserts, vma_mark_attached/detached's VM_BUG_ONs,
   * might_fault, lockdep's unlock balance): on with the checks unless
   * --no-direct-asserts, which leaves a bug to show through its race.
   */
  readonly directAsserts: boolean;
  /**
   * Base of the controlled scheduler's region (0: the run is not controlled):
   * scheduling points hand the token over there (src/sync/ctl.ts), and now()
   * is the scheduler's virtual time.
   */
  readonly ctl: number;
  private readonly vtF: number;
  /** Delay points do something: --jitter is on, or the run is controlled (read once, in delayPoint). */
  readonly windowed: boolean;

  constructor(arena: Arena, tid: number) {
    this.arena = arena;
    this.i32 = arena.i32;
    this.f64 = arena.f64;
    this.tid = tid;
    this.base = arena.pt(tid);
    this.lsBase = (this.base + T_F_LOCKSTAT) >> 1;
    this.fctrBase = (this.base + T_F_CTR) >> 1;
    this.timeBase = performance.timeOrigin - arena.f64[H_EPOCH_F64 >> 1];
    this.rng = seedMix(this.i32[H_SEED] ^ Math.imul(this.i32[H_GENERATION], 0x2545f491), tid);
    this.tracing = (this.i32[H_FLAGS_] & F_TRACE) !== 0;
    this.jitter = this.i32[H_JITTER];
    this.drawWindows(0);
    this.checks = (this.i32[H_FLAGS_] & F_NO_CHECK) === 0;
    this.directAsserts = this.checks && (this.i32[H_FLAGS_] & F_NO_DIRECT) === 0;
    this.ctl = arena.ctlBase;
    this.vtF = (this.ctl + C_VTIME_F64) >> 1;
    this.windowed = this.jitter !== 0 || this.ctl !== 0;
    this.readBugs();
  }

  /** Read the bug switches into locals (once per operation, DESIGN.md rule 6). */
  readBugs(): void {
    this.bugs0 = this.i32[H_BUGS0];
    this.bugs1 = this.i32[H_BUGS1];
  }

  /** Milliseconds since the arena epoch; comparable across threads. */
  now(): number {
    if (this.ctl !== 0) return this.f64[this.vtF];
    return performance.now() + this.timeBase;
  }

  /** xorshift32: a seeded pseudo-random 32-bit value (never Math.random). */
  rand(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    return x >>> 0;
  }

  /** Uniform integer in [0, n). */
  randInt(n: number): number {
    return this.rand() % n;
  }

  /**
   * The pause barrier (stutter, stop-the-world checks): park while H_PAUSE is
   * set. Only called where the thread holds no lock and no operation is half
   * done (between operations, or inside a fault that released its locks).
   */
  parkIfPaused(): void {
    const i32 = this.i32;
    if (Atomics.load(i32, H_PAUSE) === 0) return;
    const prev = i32[this.base + T_STATE];
    i32[this.base + T_STATE] = STATE_PARKED;
    Atomics.add(i32, H_PAUSED, 1);
    Atomics.notify(i32, H_PAUSED);
    try {
      for (;;) {
        const v = Atomics.load(i32, H_PAUSE);
        if (v === 0 || Atomics.load(i32, H_STOP) !== 0) break;
        // resumeWorld() notifies H_PAUSE, and every stop or abort kicks it (kickSleepers); 500 ms is a safety timeout.
        Atomics.wait(i32, H_PAUSE, v, PAUSE_SAFETY_MS);
        if (Atomics.load(i32, H_ABORT) !== 0) throw RUN_ABORTED;
      }
    } finally {
      Atomics.sub(i32, H_PAUSED, 1);
      i32[this.base + T_STATE] = prev;
    }
  }

  /** The run is stopping (a controlled run also once its step budget is spent: waits for other actors then give up). */
  stopRequested(): boolean {
    if (this.ctl !== 0 && this.i32[this.ctl + C_STOPPED] !== 0) return true;
    return Atomics.load(this.i32, H_STOP) !== 0;
  }

  aborted(): boolean {
    return Atomics.load(this.i32, H_ABORT) !== 0;
  }

  /** Bump this thread's counter `i` (plain: only the owner writes it). */
  count(i: number, n = 1): void {
    this.i32[this.base + T_CTR + i] += n;
  }

  fmax(i: number, v: number): void {
    const k = this.fctrBase + i;
    if (v > this.f64[k]) this.f64[k] = v;
  }

  fadd(i: number, v: number): void {
    this.f64[this.fctrBase + i] += v;
  }

  progress(): void {
    this.i32[this.base + T_PROGRESS]++;
  }

  setOp(op: number): void {
    this.i32[this.base + T_CUR_OP] = op;
  }

  /**
   * Flight recorder: append one event to this thread's ring. `seq` is a
   * global sequence number so the decoder can merge rings in a total order.
   */
  trace(op: number, obj: number, a: number, b: number, c: number): void {
    const i32 = this.i32;
    if (i32[H_TRACE_OFF] !== 0) return; // frozen at the first violation
    const head = i32[this.base + T_TR_HEAD];
    const e = this.base + T_TR_RING + (head & (TR_CAP - 1)) * TR_WORDS;
    this.f64[(e + TR_T_F64) >> 1] = this.now();
    i32[e + TR_OP] = op;
    i32[e + TR_OBJ] = obj;
    i32[e + TR_A] = a;
    i32[e + TR_B] = b;
    i32[e + TR_C] = c;
    i32[e + TR_SEQ] = head; // per-thread order; rings merge by time
    i32[this.base + T_TR_HEAD] = head + 1;
  }

  /**
   * Record a violation into the arena. Unless --keep-going, raise the stop
   * word so every actor finishes its current operation.
   */
  /**
   * Draw each delay window's probability (delayMask) for window epoch `e`:
   * the same on every thread for one run, generation and epoch. Epoch 0 is
   * the draw a thread starts with; a run re-draws them every
   * WINDOW_EPOCH_MS (stress/mm-races.ts), so no seed keeps the window a
   * race needs at one in 64 for the whole run.
   */
  drawWindows(e: number): void {
    const g = this.i32[H_SEED] ^ Math.imul(this.i32[H_GENERATION] + 1, 0x2545f491) ^ Math.imul(e, 0x9e3779b1);
    for (let w = 0; w < DELAY_WINDOWS; w++) this.delayMask[w] = (1 << (1 + (seedMix(g, w + 1) >>> 0) % 6)) - 1;
  }

  violation(kind: number, obj: number, a: number, b: number, c: number, d: number): void {
    const a32 = this.arena;
    const i32 = this.i32;
    const n = Atomics.add(i32, H_VIOL_COUNT, 1);
    // traceoff_on_warning: keep the events that led here (with --keep-going
    // the rings would otherwise wrap long before the report is written).
    if (n === 0) Atomics.store(i32, H_TRACE_OFF, 1);
    if (n < a32.violCap) {
      const v = a32.violBase + n * V_WORDS;
      i32[v + V_TID] = this.tid;
      i32[v + V_OP] = i32[this.base + T_CUR_OP];
      i32[v + V_OBJ] = obj;
      i32[v + V_A] = a;
      i32[v + V_B] = b;
      i32[v + V_C] = c;
      i32[v + V_D] = d;
      this.f64[(v + V_TIME_F64) >> 1] = this.now();
      i32[v + V_STEP] = this.ctl !== 0 ? i32[this.ctl + C_STEP] : -1;
      Atomics.store(i32, v + V_KIND, kind); // published last
    }
    if (this.ctl !== 0 && i32[this.ctl + C_VIOL_STEP] < 0) i32[this.ctl + C_VIOL_STEP] = i32[this.ctl + C_STEP];
    if ((i32[H_FLAGS] & F_KEEP_GOING) === 0) {
      Atomics.store(i32, H_STOP, 1);
      kickSleepers(i32); // parked and sleeping actors learn of the stop now
    }
  }
}

const PAUSE_SAFETY_MS = 500;

/** splitmix-style mixing of the run seed with the thread index; never 0. */
export function seedMix(seed: number, tid: number): number {
  let z = (seed ^ Math.imul(tid + 1, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return z === 0 ? 0x6d2b79f5 : z;
}
