import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createPool } from './pool.js';
import { runScenario } from './run.js';
import { writeOutput } from './output.js';
import { UsageError } from './errors.js';
import { POINT_NAMES, P_WINDOW, P_OP, P_WAKE, ADDR_POINTS, type CtlOutcome } from '../sync/ctl.js';
import { WINDOW_NAMES } from '../mm/debug.js';
import type { Piscina } from 'piscina';
import type { RunConfig, RunIO, RunResult, ScheduleConfig } from './run-types.js';

/*
 * Schedule files (issue #14): what a failing controlled run did, compact
 * enough to mail — the configuration, the scheduler and its seed, and the
 * context switches it made (step, thread). `replay` re-executes them and
 * must reach the same violation at the same step with the same report;
 * `shrink` minimises them (fewer operations per actor, fewer switches) by
 * delta debugging while the same oracle still fires.
 */

export const SCHEDULE_FORMAT = 'mmtorture-schedule';
export const SCHEDULE_VERSION = 1;

/** What of a RunConfig a schedule file keeps (everything that decides the interleaving and the oracles). */
export type ScheduleRunConfig = Pick<RunConfig, 'scenario' | 'threads' | 'seed' | 'bugs' | 'model' | 'params' | 'checks' | 'directAsserts' | 'trace' | 'module' | 'keepGoing'>;

export interface ScheduleFile {
  format: typeof SCHEDULE_FORMAT;
  version: number;
  created: string;
  config: ScheduleRunConfig;
  /** How the schedule was found: the scheduler, its seed and bounds. */
  found: { mode: string; seed: number; depth: number; steps: number };
  /** Operations per actor (one per thread) and the step budget the run had. */
  ops: number[];
  maxSteps: number;
  /** The context switches, flat (step, thread) pairs; the first is the start. */
  switches: number[];
  /** What it must reproduce. */
  expect: { violation: string; title: string; tid: number; step: number; steps: number; preemptions: number; report: string };
  /** For a reader: the actors, and the last steps before the violation. */
  roles: string[];
  story: string[];
}

const KEEP: (keyof ScheduleRunConfig)[] = ['scenario', 'threads', 'seed', 'bugs', 'model', 'params', 'checks', 'directAsserts', 'trace', 'module', 'keepGoing'];

export function scheduleRunConfig(cfg: RunConfig): ScheduleRunConfig {
  const out: Record<string, unknown> = {};
  for (const k of KEEP) if (cfg[k] !== undefined) out[k] = cfg[k];
  return out as ScheduleRunConfig;
}

/** A short digest of a report (its text is deterministic under a controlled schedule). */
export function reportDigest(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

/** Per-thread operation limits as an array of `threads` entries. */
export function opsPerThread(ops: readonly number[], threads: number): number[] {
  return Array.from({ length: threads }, (_, k) => (ops.length === 0 ? 0 : ops[k] ?? ops[ops.length - 1]));
}

/** The schedule file of a failing controlled run. */
export function scheduleFileOf(cfg: RunConfig, r: RunResult): ScheduleFile {
  const s = cfg.schedule!;
  const o = r.schedule!;
  const v = r.violations[0];
  return {
    format: SCHEDULE_FORMAT, version: SCHEDULE_VERSION, created: new Date().toISOString(),
    config: scheduleRunConfig(cfg),
    found: { mode: s.mode, seed: s.seed, depth: s.depth, steps: s.steps },
    ops: opsPerThread(s.ops, cfg.threads), maxSteps: s.maxSteps,
    switches: o.switches,
    expect: { violation: v?.kind ?? '', title: v?.title ?? '', tid: v?.tid ?? -1, step: o.violationStep, steps: o.steps, preemptions: o.preemptions, report: reportDigest(r.report) },
    roles: r.roles,
    story: formatSteps(o, r.roles, { compact: true, last: 60, until: o.violationStep }),
  };
}

export function writeScheduleFile(path: string, f: ScheduleFile): void {
  writeOutput(path, JSON.stringify(f, null, 1).replace(/\[\n\s+([\d,\s-]+)\n\s*\]/g, (_, xs: string) => `[${xs.replace(/\s+/g, '')}]`) + '\n');
}

/** Read and check a schedule file; a bad one is a usage error naming what is wrong. */
export function readScheduleFile(path: string): ScheduleFile {
  let f: ScheduleFile;
  try {
    f = JSON.parse(readFileSync(path, 'utf8')) as ScheduleFile;
  } catch (e) {
    throw new UsageError(`cannot read schedule file ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (f?.format !== SCHEDULE_FORMAT) throw new UsageError(`${path} is not a schedule file (format ${JSON.stringify(f?.format)}, want ${SCHEDULE_FORMAT})`);
  if (f.version !== SCHEDULE_VERSION) throw new UsageError(`${path}: schedule file version ${f.version} (this mmtorture reads ${SCHEDULE_VERSION})`);
  if (!f.config || typeof f.config.scenario !== 'string' || !Number.isInteger(f.config.threads)) throw new UsageError(`${path}: no scenario or thread count in its config`);
  if (!Array.isArray(f.switches) || f.switches.length % 2 !== 0 || !f.switches.every(Number.isInteger)) throw new UsageError(`${path}: switches must be (step, thread) integer pairs`);
  if (!Array.isArray(f.ops) || !f.ops.every((x) => Number.isInteger(x) && x >= 0)) throw new UsageError(`${path}: ops must be non-negative integers`);
  return f;
}

/** The run configuration that replays `f` (lenient: switches that cannot be taken are counted as divergence). */
export function replayConfig(f: ScheduleFile, over: { switches?: number[]; ops?: number[]; traceCap?: number } = {}): RunConfig {
  const schedule: ScheduleConfig = {
    mode: 'replay', seed: f.found.seed, depth: f.found.depth, steps: f.found.steps, maxSteps: f.maxSteps,
    ops: over.ops ?? f.ops, replay: over.switches ?? f.switches, traceCap: over.traceCap,
  };
  return {
    ...f.config, bugs: f.config.bugs ?? [], durationMs: 600_000, watchdogMs: 5000, statIntervalMs: 1e9, keepGoing: f.config.keepGoing ?? false,
    quiet: true, progress: false, schedule,
  };
}

const quietIO: RunIO = { out: () => undefined, err: () => undefined, isTTY: false };

export interface ReplayOutcome {
  result: RunResult;
  /** Same first violation (kind) at the same step, with the same report and the same switches written back. */
  same: boolean;
  differences: string[];
}

/** Replay a schedule file and compare with what it expects. */
export async function replaySchedule(f: ScheduleFile, opts: { traceCap?: number; pool?: Piscina } = {}): Promise<ReplayOutcome> {
  const cfg = replayConfig(f, { traceCap: opts.traceCap });
  const result = await runScenario(cfg, quietIO, opts.pool ? { pool: opts.pool } : {});
  const o = result.schedule!;
  const v = result.violations[0];
  const differences: string[] = [];
  if ((v?.kind ?? '') !== f.expect.violation) differences.push(`violation ${v?.kind ?? 'none'} (expected ${f.expect.violation})`);
  if (o.violationStep !== f.expect.step) differences.push(`at step ${o.violationStep} (expected ${f.expect.step})`);
  if (reportDigest(result.report) !== f.expect.report) differences.push('a different report');
  if (o.diverged) differences.push(`${o.diverged} recorded switches could not be taken`);
  if (o.switches.length !== f.switches.length || o.switches.some((x, k) => x !== f.switches[k])) differences.push('a different schedule written back');
  return { result, same: differences.length === 0, differences };
}

/** Name of a step's argument. */
function argText(o: CtlOutcome, point: number, arg: number, roles: readonly string[]): string {
  if (point === P_WINDOW) return arg < 0 ? 'test-to-set' : WINDOW_NAMES[arg] ?? `window ${arg}`;
  if (point === P_OP) return `#${arg}`;
  if (point === P_WAKE) return `T${arg} ${roles[arg] ?? ''}`.trimEnd();
  if (!ADDR_POINTS.has(point)) return '';
  return o.names[arg] ?? `@${arg}`;
}

/** A compact line keeps this many of a run's first and last steps, and every step on an object of the violation. */
const KEEP_HEAD = 4;
const KEEP_TAIL = 8;

/**
 * The step trace for a person: one line per step, or (compact) one line per
 * run of consecutive steps of one thread — who did what, in which order. A
 * long run keeps its first and last steps and every step on an object the
 * violating thread touched in its last run (the rest as "… n more …").
 */
export function formatSteps(o: CtlOutcome, roles: readonly string[], opts: { compact?: boolean; last?: number; until?: number } = {}): string[] {
  const n = o.trace.length / 3;
  const steps: { step: number; tid: number; text: string }[] = [];
  for (let k = 0; k < n; k++) {
    if (opts.until !== undefined && o.traceFrom + k + 1 > opts.until) break;
    const tid = o.trace[3 * k];
    const point = o.trace[3 * k + 1];
    const a = argText(o, point, o.trace[3 * k + 2], roles);
    steps.push({ step: o.traceFrom + k + 1, tid, text: `${POINT_NAMES[point] ?? `point ${point}`}${a ? ' ' + a : ''}` });
  }
  const mark = (s: number) => (s === o.violationStep ? '  <-- violation' : '');
  const width = Math.max(...roles.map((r) => r.length), 4);
  const who = (tid: number) => `T${tid} ${(roles[tid] ?? '').padEnd(width)}`;
  let lines: string[];
  if (!opts.compact) {
    lines = steps.map((s) => `${String(s.step).padStart(7)}  ${who(s.tid)}  ${s.text}${mark(s.step)}`);
  } else {
    const runs: { step: number; tid: number; text: string }[][] = [];
    for (let k = 0; k < steps.length;) {
      let j = k;
      while (j + 1 < steps.length && steps[j + 1].tid === steps[k].tid) j++;
      runs.push(steps.slice(k, j + 1));
      k = j + 1;
    }
    // The objects of the violation: what the violating thread's last run named.
    const last = runs[runs.length - 1] ?? [];
    const focus = new Set(last.flatMap((s) => s.text.split(' ').slice(1)).filter((w) => /#\d/.test(w) && !/->|_cache/.test(w)));
    const onFocus = (s: { text: string }) => s.text.split(' ').slice(1).some((w) => focus.has(w));
    lines = runs.map((run) => {
      const span = run.length === 1 ? `${run[0].step}` : `${run[0].step}-${run[run.length - 1].step}`;
      const hit = run.some((s) => s.step === o.violationStep);
      const parts: string[] = [];
      let skipped = 0;
      run.forEach((s, i) => {
        if (run.length <= KEEP_HEAD + KEEP_TAIL || i < KEEP_HEAD || i >= run.length - KEEP_TAIL || onFocus(s)) {
          if (skipped) parts.push(`… ${skipped} more …`);
          skipped = 0;
          parts.push(s.text);
        } else skipped++;
      });
      return `${span.padStart(13)}  ${who(run[0].tid)}  ${parts.join(', ')}${hit ? '  <-- violation' : ''}`;
    });
  }
  return opts.last && lines.length > opts.last ? [`  (${lines.length - opts.last} earlier lines)`, ...lines.slice(-opts.last)] : lines;
}

export interface ShrinkOutcome {
  file: ScheduleFile;
  tests: number;
  before: { steps: number; switches: number; preemptions: number; ops: number[] };
  after: { steps: number; switches: number; preemptions: number; ops: number[] };
  result: RunResult;
}

/**
 * Minimise a failing schedule while the same oracle (the first violation's
 * kind) still fires: first fewer operations per actor, then delta debugging
 * (ddmin, Zeller & Hildebrandt 2002) over the context switches — a removed
 * switch lets the running thread go on, or the lowest-numbered runnable one
 * when it blocks. Each accepted candidate is replaced by the schedule it
 * actually executed, so the result replays exactly.
 */
export async function shrinkSchedule(f: ScheduleFile, opts: { maxTests?: number; onTest?: (n: number, ok: boolean) => void } = {}): Promise<ShrinkOutcome> {
  const want = f.expect.violation;
  const maxTests = opts.maxTests ?? 2000;
  const pool = createPool(f.config.threads);
  let tests = 0;
  try {
    const test = async (switches: number[], ops: number[]): Promise<RunResult | null> => {
      tests++;
      const r = await runScenario(replayConfig(f, { switches, ops }), quietIO, { pool });
      // The same oracle first (a quiescent check's violation has no step: it runs after the actors).
      const ok = r.status === 'FAILURE' && r.violations[0]?.kind === want;
      opts.onTest?.(tests, ok);
      return ok ? r : null;
    };
    const first = await test(f.switches, f.ops);
    if (!first) throw new UsageError(`the schedule does not fail with ${want} when replayed: nothing to shrink`);
    let best = first;
    let ops = [...f.ops];
    let sw = first.schedule!.switches;
    // 1. Fewer operations per actor: the smallest count per thread that still fails.
    for (let tid = 0; tid < ops.length && tests < maxTests; tid++) {
      let lo = 1;
      let hi = ops[tid] === 0 ? Math.max(1, best.perThreadOps[tid] ?? 1) : ops[tid];
      while (lo < hi && tests < maxTests) {
        const mid = (lo + hi) >> 1;
        const cand = ops.map((x, k) => (k === tid ? mid : x));
        const r = await test(sw, cand);
        if (r) {
          hi = mid;
          best = r;
          sw = r.schedule!.switches;
          ops = cand;
        } else lo = mid + 1;
      }
      if (hi !== ops[tid]) {
        const cand = ops.map((x, k) => (k === tid ? hi : x));
        const r = await test(sw, cand);
        if (r) {
          best = r;
          sw = r.schedule!.switches;
          ops = cand;
        }
      }
    }
    // 2. ddmin over the switches (the first pair, the start, stays).
    let items = pairs(sw).slice(1);
    let n = 2;
    while (items.length >= 1 && tests < maxTests) {
      const chunk = Math.ceil(items.length / n);
      let reduced = false;
      for (let start = 0; start < items.length && tests < maxTests; start += chunk) {
        const cand = [...items.slice(0, start), ...items.slice(start + chunk)];
        const r = await test(flat([pairs(sw)[0], ...cand]), ops);
        if (r && (r.schedule!.switches.length < sw.length || (r.schedule!.switches.length === sw.length && r.schedule!.preemptions < best.schedule!.preemptions))) {
          best = r;
          sw = r.schedule!.switches;
          items = pairs(sw).slice(1);
          // The executed schedule may keep forced switches; go on from it.
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
      if (!reduced) {
        if (chunk <= 1) break;
        n = Math.min(items.length, n * 2);
      }
    }
    const o = best.schedule!;
    const cfg = replayConfig(f, { switches: sw, ops });
    const file = scheduleFileOf({ ...cfg, schedule: { ...cfg.schedule!, mode: f.found.mode as ScheduleConfig['mode'], seed: f.found.seed } }, best);
    file.found = { ...f.found };
    file.ops = ops;
    return {
      file, tests, result: best,
      before: { steps: f.expect.step, switches: f.switches.length / 2, preemptions: f.expect.preemptions, ops: f.ops },
      after: { steps: o.violationStep, switches: o.switches.length / 2, preemptions: o.preemptions, ops },
    };
  } finally {
    await pool.destroy().catch(() => undefined);
  }
}

function pairs(xs: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let k = 0; k + 1 < xs.length; k += 2) out.push([xs[k], xs[k + 1]]);
  return out;
}

function flat(ps: readonly [number, number][]): number[] {
  return ps.flatMap((p) => p);
}
