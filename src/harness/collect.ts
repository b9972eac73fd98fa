import type { Arena } from '../shm/arena.js';
import {
  T_PROGRESS, LS_F64S, LS_ACQ, LS_CONTENDED, LS_WAIT_SUM, LS_WAIT_MAX, LS_HOLD_SUM, LS_HOLD_N, LS_HOLD_MAX,
  LS_FAILED, MAX_LOCK_CLASSES, T_F_LOCKSTAT, H_VIOL_COUNT, V_WORDS, V_KIND, V_TID, V_OP, V_OBJ, V_A, V_B, V_C, V_D,
  V_TIME_F64, V_STEP, T_WAIT_HIST, WH_BUCKETS, T_HOLD_HIST, T_RHOLD_HIST, T_WAKE_HIST,
} from '../shm/layout.js';
import { waitBucketUpperUs, AH_NAMES } from '../sync/lockdep.js';
import { LOCK_CLASS_NAMES } from '../sync/lockclass.js';
import { KASAN_SITES } from '../mm/kasan.js';
import { kindInfo } from '../shm/kinds.js';

/** Sum of every thread's completed operations. */
export function totalOps(arena: Arena): number {
  let s = 0;
  for (let t = 0; t < arena.nthreads; t++) s += arena.i32[arena.pt(t) + T_PROGRESS];
  return s;
}

export function perThreadOps(arena: Arena): number[] {
  return Array.from({ length: arena.nthreads }, (_, t) => arena.i32[arena.pt(t) + T_PROGRESS]);
}

/** /proc/lock_stat, one row per lock class that saw any use. */
export interface LockStatRow {
  class: string;
  acquisitions: number;
  contentions: number;
  failed: number;
  waitTotalMs: number;
  waitAvgUs: number;
  waitMaxUs: number;
  holdAvgUs: number;
  holdMaxUs: number;
  holdSamples: number;
  /** Wait-time percentiles from the log2 histograms (bucket upper bounds, us). */
  waitP50Us: number;
  waitP99Us: number;
  /** Hold-time percentiles of the sampled holds (1 in 16 acquisitions), bucket upper bounds in us: all, exclusive (write) and shared (read). */
  holdP50Us: number;
  holdP99Us: number;
  writeHolds: number;
  writeHoldP50Us: number;
  writeHoldP99Us: number;
  readHoldP99Us: number;
  /** Woken waits (wake_up_process() to the waiter running) and their latency percentiles (us). */
  wakeups: number;
  wakeP50Us: number;
  wakeP99Us: number;
}

/** The percentiles a lock_stat row carries that need samples of their own kind. */
export type LockPercentile = 'waitP50Us' | 'waitP99Us' | 'writeHoldP99Us' | 'wakeP50Us' | 'wakeP99Us';

/** Class `cls`'s percentile `which` (us, a bucket bound), or null when the class had no such samples. */
export function lockPercentile(rows: readonly LockStatRow[], cls: string, which: LockPercentile): number | null {
  const r = rows.find((x) => x.class === cls);
  if (!r) return null;
  const n = which.startsWith('wait') ? r.contentions : which.startsWith('writeHold') ? r.writeHolds : r.wakeups;
  return n ? r[which] : null;
}

/** Percentile p (0..1) of a log2 wait histogram, as the bucket's upper bound in us. */
export function histPercentile(hist: number[], p: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const want = Math.ceil(total * p);
  let acc = 0;
  for (let b = 0; b < hist.length; b++) {
    acc += hist[b];
    if (acc >= want) return waitBucketUpperUs(b);
  }
  return waitBucketUpperUs(hist.length - 1);
}

/** Merged wait histogram of class c over all threads (or the hold / wake-up histograms: `at` T_HOLD_HIST, T_WAKE_HIST). */
export function waitHistogram(arena: Arena, c: number, at: number = T_WAIT_HIST): number[] {
  const h = new Array<number>(WH_BUCKETS).fill(0);
  for (let t = 0; t < arena.nthreads; t++) {
    const base = arena.pt(t) + at + c * WH_BUCKETS;
    for (let b = 0; b < WH_BUCKETS; b++) h[b] += arena.i32[base + b];
  }
  return h;
}

export function lockStat(arena: Arena): LockStatRow[] {
  const rows: LockStatRow[] = [];
  const f = arena.f64;
  for (let c = 0; c < MAX_LOCK_CLASSES; c++) {
    let acq = 0, con = 0, ws = 0, wm = 0, hs = 0, hn = 0, hm = 0, fail = 0;
    for (let t = 0; t < arena.nthreads; t++) {
      const s = ((arena.pt(t) + T_F_LOCKSTAT) >> 1) + c * LS_F64S;
      acq += f[s + LS_ACQ];
      con += f[s + LS_CONTENDED];
      ws += f[s + LS_WAIT_SUM];
      wm = Math.max(wm, f[s + LS_WAIT_MAX]);
      hs += f[s + LS_HOLD_SUM];
      hn += f[s + LS_HOLD_N];
      hm = Math.max(hm, f[s + LS_HOLD_MAX]);
      fail += f[s + LS_FAILED];
    }
    if (acq === 0 && con === 0 && fail === 0) continue;
    const wh = waitHistogram(arena, c);
    const wh2 = waitHistogram(arena, c, T_HOLD_HIST);
    const rh = waitHistogram(arena, c, T_RHOLD_HIST);
    const hh = wh2.map((x, i) => x + rh[i]);
    const kh = waitHistogram(arena, c, T_WAKE_HIST);
    rows.push({
      class: LOCK_CLASS_NAMES[c] ?? `class#${c}`,
      acquisitions: acq,
      contentions: con,
      failed: fail,
      waitTotalMs: ws,
      waitAvgUs: con ? (ws / con) * 1000 : 0,
      waitMaxUs: wm * 1000,
      holdAvgUs: hn ? (hs / hn) * 1000 : 0,
      holdMaxUs: hm * 1000,
      holdSamples: hn,
      waitP50Us: histPercentile(wh, 0.5),
      waitP99Us: histPercentile(wh, 0.99),
      holdP50Us: histPercentile(hh, 0.5),
      holdP99Us: histPercentile(hh, 0.99),
      writeHolds: wh2.reduce((a, b) => a + b, 0),
      writeHoldP50Us: histPercentile(wh2, 0.5),
      writeHoldP99Us: histPercentile(wh2, 0.99),
      readHoldP99Us: histPercentile(rh, 0.99),
      wakeups: kh.reduce((a, b) => a + b, 0),
      wakeP50Us: histPercentile(kh, 0.5),
      wakeP99Us: histPercentile(kh, 0.99),
    });
  }
  return rows;
}

export function formatLockStat(rows: LockStatRow[]): string[] {
  if (rows.length === 0) return [];
  const head = ['class', 'acquisitions', 'contentions', 'failed', 'wait-avg(us)', 'wait-p50', 'wait-p99', 'wait-max(us)', 'hold-avg(us)', 'hold-p99', 'W-hold-p99', 'hold-max(us)', 'wakeups', 'wake-p50', 'wake-p99'];
  const body = rows.map((r) => [
    r.class, String(r.acquisitions), String(r.contentions), String(r.failed),
    r.waitAvgUs.toFixed(1), r.contentions ? `<${r.waitP50Us}` : '-', r.contentions ? `<${r.waitP99Us}` : '-', r.waitMaxUs.toFixed(1),
    r.holdAvgUs.toFixed(2), r.holdSamples ? `<${r.holdP99Us}` : '-', r.writeHolds ? `<${r.writeHoldP99Us}` : '-', r.holdMaxUs.toFixed(1),
    String(r.wakeups), r.wakeups ? `<${r.wakeP50Us}` : '-', r.wakeups ? `<${r.wakeP99Us}` : '-',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return ['lock_stat:', '  ' + fmt(head), ...body.map((b) => '  ' + fmt(b))];
}

export interface DecodedViolation {
  kind: string;
  title: string;
  tid: number;
  op: number;
  obj: number;
  args: Record<string, number>;
  timeMs: number;
  /** A controlled run: the scheduling step it happened at. */
  step?: number;
}

export function violationCount(arena: Arena): number {
  return Atomics.load(arena.i32, H_VIOL_COUNT);
}

/** Decode the violation records workers wrote into the arena. */
export function decodeViolations(arena: Arena): DecodedViolation[] {
  const i32 = arena.i32;
  const n = Math.min(violationCount(arena), arena.violCap);
  const out: DecodedViolation[] = [];
  for (let k = 0; k < n; k++) {
    const v = arena.violBase + k * V_WORDS;
    const kindNo = Atomics.load(i32, v + V_KIND);
    if (kindNo === 0) continue; // still being written
    const info = kindInfo(kindNo);
    const raw = [i32[v + V_A], i32[v + V_B], i32[v + V_C], i32[v + V_D]];
    const args: Record<string, number> = {};
    raw.forEach((x, i) => {
      if (i < info.args.length) args[info.args[i]] = x;
    });
    const step = i32[v + V_STEP];
    out.push({ kind: info.name, title: info.title, tid: i32[v + V_TID], op: i32[v + V_OP], obj: i32[v + V_OBJ], args, timeMs: arena.f64[(v + V_TIME_F64) >> 1], ...(arena.ctlBase !== 0 && step >= 0 ? { step } : {}) });
  }
  return out.sort((a, b) => a.timeMs - b.timeMs);
}

const OBJ_STATES = ['free', 'live', 'pending an RCU free', 'freed and allocated again'];

/** Argument names that hold an arena address (an object or a lock), named by the report's namer. */
export const REF_ARG = /lock|vma|^mm$|child mm|folio|object|anon_vma|obj$/;

/** One argument of a violation as a person reads it: lock classes, modes, callers, sites, threads and objects by name. */
function formatArg(kind: string, k: string, x: number, name?: (addr: number) => string | null): string {
  if (name && REF_ARG.test(k) && k !== 'lastRelease') {
    const n = name(x);
    if (n) return `${k}=${n}`;
  }
  if (k === 'class' && LOCK_CLASS_NAMES[x] !== undefined) return `class=${LOCK_CLASS_NAMES[x]}`;
  if (k === 'mode' && (kind === 'bad-unlock-balance' || kind === 'recursive-locking')) return `mode=${x === 1 ? 'read' : 'write'}`;
  if (k === 'caller' && AH_NAMES[x]) return `in ${AH_NAMES[x]}()`;
  if (k === 'site' && KASAN_SITES[x]) return `in ${KASAN_SITES[x]}`;
  if (k === 'state' && kind === 'kasan-use-after-free') return `state=${OBJ_STATES[x] ?? x}`;
  if (/ mm slot$/.test(k) || k === 'mm slot') return `${k.replace(/ ?slot$/, '')}=mm#${x}`;
  if (k === 'lastRelease') return `last released by ${x >= 0 ? `mmtorture/${x}` : 'nobody yet'}`;
  if (k === 'waitedMs') return `slept ${x} ms`;
  return `${k}=${x}`;
}

/** A violation's arguments, named (formatArg). */
export function formatArgs(v: DecodedViolation, name?: (addr: number) => string | null): string {
  return Object.entries(v.args).map(([k, x]) => formatArg(v.kind, k, x, name)).join(' ');
}

export function formatViolation(v: DecodedViolation, name?: (addr: number) => string | null): string[] {
  const args = formatArgs(v, name);
  const who = v.tid >= 0 ? `thread mmtorture/${v.tid}` : 'the main thread (quiescent check)';
  const obj = v.obj ? (name?.(v.obj) ?? `@${v.obj}`) : null;
  return [
    v.title,
    `  ${who} at ${v.timeMs.toFixed(3)} ms${obj ? `, object ${obj}` : ''}${args ? `: ${args}` : ''}`,
  ];
}
