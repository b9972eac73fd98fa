import {
  ARENA_MAGIC, LAYOUT_VERSION, LINE, HEADER_WORDS, PT_STRIDE,
  H_MAGIC, H_VERSION, H_NTHREADS, H_TOTAL_WORDS, H_PT_BASE, H_PT_STRIDE,
  H_VIOL_BASE, H_VIOL_CAP, H_SCEN_BASE, H_SCEN_WORDS, H_BUGS0, H_BUGS1,
  H_SEED, H_FLAGS, H_ERA, H_EPOCH_F64, H_PARAMS, H_NPARAMS, H_JITTER,
  V_WORDS, VIOL_CAP_DEFAULT, T_TID, H_CTL_BASE, C_VTIME_F64, H_RCU_GP_SEQ, H_RCU_GP_DONE, H_LOCKDEP_BASE, MAX_LOCK_CLASSES,
} from './layout.js';

export interface ArenaOptions {
  threads: number;
  /** Words reserved for the scenario's own state (rounded up to a cache line). */
  scenarioWords: number;
  bugs0?: number;
  bugs1?: number;
  seed?: number;
  flags?: number;
  era?: number;
  jitter?: number;
  params?: readonly number[];
  violationCapacity?: number;
  /** Words for the controlled scheduler's region (0 or absent: not a controlled run; src/sync/ctl.ts fills it). */
  ctlWords?: number;
}

function roundUp(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

/**
 * The shared arena: one SharedArrayBuffer with an Int32Array and a
 * Float64Array view. Everything a worker needs is in the header, so a worker
 * attaches from the buffer alone.
 */
export class Arena {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly nthreads: number;
  readonly ptBase: number;
  readonly ptStride: number;
  readonly violBase: number;
  readonly violCap: number;
  readonly scenBase: number;
  readonly scenWords: number;
  /** Base of the controlled scheduler's region, 0 when the run is not controlled. */
  readonly ctlBase: number;

  private constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
    this.f64 = new Float64Array(sab);
    const h = this.i32;
    if (h[H_MAGIC] !== ARENA_MAGIC) throw new Error(`arena: bad magic 0x${(h[H_MAGIC] >>> 0).toString(16)}`);
    if (h[H_VERSION] !== LAYOUT_VERSION) throw new Error(`arena: layout version ${h[H_VERSION]} != ${LAYOUT_VERSION}`);
    this.nthreads = h[H_NTHREADS];
    this.ptBase = h[H_PT_BASE];
    this.ptStride = h[H_PT_STRIDE];
    this.violBase = h[H_VIOL_BASE];
    this.violCap = h[H_VIOL_CAP];
    this.scenBase = h[H_SCEN_BASE];
    this.scenWords = h[H_SCEN_WORDS];
    this.ctlBase = h[H_CTL_BASE];
  }

  /** Build a new arena (main thread). */
  static create(o: ArenaOptions): Arena {
    if (!Number.isInteger(o.threads) || o.threads < 1) throw new Error(`arena: threads must be >= 1, got ${o.threads}`);
    const violCap = o.violationCapacity ?? VIOL_CAP_DEFAULT;
    const ptBase = HEADER_WORDS;
    const violBase = ptBase + o.threads * PT_STRIDE;
    const lockdepBase = roundUp(violBase + violCap * V_WORDS, LINE);
    const scenBase = roundUp(lockdepBase + MAX_LOCK_CLASSES * MAX_LOCK_CLASSES, LINE);
    const scenWords = roundUp(Math.max(0, o.scenarioWords), LINE);
    const ctlWords = roundUp(Math.max(0, o.ctlWords ?? 0), LINE);
    const total = scenBase + scenWords + ctlWords;
    const sab = alignedSab(total * 4);
    const h = new Int32Array(sab);
    h[H_MAGIC] = ARENA_MAGIC;
    h[H_VERSION] = LAYOUT_VERSION;
    h[H_NTHREADS] = o.threads;
    h[H_TOTAL_WORDS] = total;
    h[H_PT_BASE] = ptBase;
    h[H_PT_STRIDE] = PT_STRIDE;
    h[H_VIOL_BASE] = violBase;
    h[H_VIOL_CAP] = violCap;
    h[H_SCEN_BASE] = scenBase;
    h[H_SCEN_WORDS] = scenWords;
    h[H_LOCKDEP_BASE] = lockdepBase;
    h[H_CTL_BASE] = ctlWords > 0 ? scenBase + scenWords : 0;
    h[H_BUGS0] = o.bugs0 ?? 0;
    h[H_BUGS1] = o.bugs1 ?? 0;
    h[H_SEED] = o.seed ?? 1;
    h[H_FLAGS] = o.flags ?? 0;
    h[H_ERA] = o.era ?? 0;
    h[H_JITTER] = o.jitter ?? 0;
    const params = o.params ?? [];
    if (params.length > H_NPARAMS) throw new Error(`arena: at most ${H_NPARAMS} scenario params`);
    for (let i = 0; i < params.length; i++) h[H_PARAMS + i] = params[i] | 0;
    h[H_RCU_GP_SEQ] = 1;
    h[H_RCU_GP_DONE] = 1;
    new Float64Array(sab)[H_EPOCH_F64 >> 1] = performance.timeOrigin + performance.now();
    for (let t = 0; t < o.threads; t++) h[ptBase + t * PT_STRIDE + T_TID] = t;
    return new Arena(sab);
  }

  /** Attach to an arena built elsewhere (worker side). */
  static attach(sab: SharedArrayBuffer): Arena {
    return new Arena(sab);
  }

  /** Base word index of thread `tid`'s region. */
  pt(tid: number): number {
    return this.ptBase + tid * this.ptStride;
  }

  param(i: number): number {
    return this.i32[H_PARAMS + i];
  }

  get epoch(): number {
    return this.f64[H_EPOCH_F64 >> 1];
  }

  /** Milliseconds since the arena was created, comparable across threads (a controlled run's virtual time). */
  now(): number {
    if (this.ctlBase !== 0) return this.f64[(this.ctlBase + C_VTIME_F64) >> 1];
    return performance.timeOrigin + performance.now() - this.epoch;
  }
}

/**
 * A page-aligned SharedArrayBuffer of at least `bytes` (the buffer of a
 * shared WebAssembly.Memory), zeroed. `new SharedArrayBuffer` takes its
 * memory from malloc, which starts it 16, 32 or 48 bytes past a 64-byte
 * boundary as often as on one, so the arena's 16-word lines (LINE) would not
 * be the hardware's cache lines and words padded apart could still share one.
 */
export function alignedSab(bytes: number): SharedArrayBuffer {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer } } }).WebAssembly;
  return new wasm.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
}
