import { createPool, signalExitCode } from './pool.js';
import { runScenario } from './run.js';
import { EXIT_CLEAN, EXIT_HARNESS } from './errors.js';
import { formatDuration, si } from './parse.js';
import { scheduleFileOf, writeScheduleFile, replayConfig, formatSteps } from './schedule.js';
import type { RunConfig, RunHooks, RunIO, RunResult, ScheduleConfig } from './run-types.js';

/*
 * Many short controlled runs (issue #14): the same configuration under the
 * controlled scheduler with schedule seeds seed, seed + 1, ... on one worker
 * pool, until a run fails, the time budget or the iteration budget is spent.
 * PCT's step estimate k starts from `steps` and follows the longest run seen
 * (as shuttle's PctScheduler does), so the change points cover the run.
 */

export interface ExploreOptions {
  mode: 'pct' | 'random';
  /** The first schedule seed. */
  seed: number;
  depth: number;
  /** Operations per actor (one for all, or one per thread). */
  ops: number[];
  /** Step budget of one run. */
  maxSteps: number;
  /** Wall-clock budget (ms) and iteration budget. */
  budgetMs: number;
  maxRuns: number;
  /** Initial PCT step estimate (default: the first run's steps). */
  steps?: number;
  /** Stop at the first failing run whose first violation is of one of these kinds (default: any failure). */
  kinds?: readonly string[];
  /** Called after every run (progress). */
  onRun?: (i: number, r: RunResult) => void;
  signal?: AbortSignal;
}

export interface ExploreResult {
  /** The failing run, if one was found. */
  found: RunResult | null;
  /** Its schedule configuration (replays it). */
  schedule: ScheduleConfig | null;
  runs: number;
  /** Steps summed over every run, and to the detection (steps of the earlier runs plus the failing run's violation step). */
  totalSteps: number;
  stepsToDetect: number | null;
  elapsedMs: number;
  /** Runs that ended in a harness error or hang without a violation (none expected). */
  errors: string[];
  /** The last run (the failing one when found), and the operations of every run summed. */
  last: RunResult | null;
  ops: number;
}

const quietIO: RunIO = { out: () => undefined, err: () => undefined, isTTY: false };

/** The schedule of run `i` of an exploration. */
export function scheduleOf(o: ExploreOptions, i: number, k: number): ScheduleConfig {
  return { mode: o.mode, seed: (o.seed + i) | 0, depth: o.depth, steps: k, maxSteps: o.maxSteps, ops: o.ops };
}

export async function exploreSchedules(base: RunConfig, o: ExploreOptions, hooks: RunHooks = {}): Promise<ExploreResult> {
  const pool = hooks.pool ?? createPool(base.threads);
  const t0 = performance.now();
  let k = o.steps ?? 0;
  let totalSteps = 0;
  const errors: string[] = [];
  let runs = 0;
  let last: RunResult | null = null;
  let ops = 0;
  try {
    for (let i = 0; i < o.maxRuns; i++) {
      if (o.signal?.aborted || performance.now() - t0 > o.budgetMs) break;
      runs = i + 1;
      const schedule = scheduleOf(o, i, k > 0 ? k : Math.min(1000, o.maxSteps));
      const cfg: RunConfig = { ...base, schedule, quiet: true, progress: false, json: undefined, log: undefined, rerun: undefined };
      const r = await runScenario(cfg, quietIO, { pool });
      const steps = r.schedule?.steps ?? 0;
      last = r;
      ops += r.ops;
      o.onRun?.(i, r);
      if (r.status === 'FAILURE' && (!o.kinds || o.kinds.includes(r.violations[0]?.kind ?? ''))) {
        const vs = r.schedule?.violationStep ?? -1;
        return { found: r, schedule, runs: i + 1, totalSteps: totalSteps + steps, stepsToDetect: totalSteps + (vs >= 0 ? vs : steps), elapsedMs: performance.now() - t0, errors, last, ops };
      }
      if (r.status === 'ERROR' || r.status === 'HANG') {
        errors.push(`schedule seed ${schedule.seed}: ${r.status} ${r.errors[0] ?? (r.hang ? 'hang' : '')}`);
        if (r.status === 'ERROR') break; // the pool may be broken
      }
      totalSteps += steps;
      // PCT's k follows the longest run that ended on its own (one that spent
      // its budget is a livelock of the priorities, not the run's length).
      if (o.steps === undefined && !r.schedule?.budgetSpent) k = Math.max(k, steps);
    }
  } finally {
    if (!hooks.pool) await pool.destroy().catch(() => undefined);
  }
  return { found: null, schedule: null, runs, totalSteps, stepsToDetect: null, elapsedMs: performance.now() - t0, errors, last, ops };
}

export interface ControlledRunOptions {
  mode: 'pct' | 'random';
  depth: number;
  ops: number[];
  maxSteps: number;
  /** The first schedule seed. */
  scheduleSeed: number;
  /** Where a failing schedule is written (default: mmtorture-<scenario>-<seed>.schedule.json). */
  scheduleFile?: string;
  /** Only a first violation of these kinds counts (hunt: the oracle a parallel run fired). */
  kinds?: readonly string[];
}

/** The default schedule file name of a failing controlled run. */
export function defaultScheduleFile(scenario: string, seed: number): string {
  return `mmtorture-${scenario}-${seed >>> 0}.schedule.json`;
}

/**
 * `run --schedule pct|random` (and `hunt`'s second half): explore schedules
 * for the run's duration; on a failure write its schedule file, run it once
 * more in the open (the report, --json and --log come from that replay,
 * which must reproduce the violation at the same step) and print how to
 * replay and shrink it. Returns the exit code.
 */
export async function runControlled(cfg: RunConfig, o: ControlledRunOptions, io: RunIO, signal?: AbortSignal): Promise<number> {
  const pool = createPool(cfg.threads);
  try {
    let lastLine = performance.now();
    const t0 = lastLine;
    const ex = await exploreSchedules(cfg, {
      mode: o.mode, seed: o.scheduleSeed, depth: o.depth, ops: o.ops, maxSteps: o.maxSteps, budgetMs: cfg.durationMs, maxRuns: Number.MAX_SAFE_INTEGER, signal, kinds: o.kinds,
      onRun: (i) => {
        const now = performance.now();
        if (cfg.progress === false || now - lastLine < 1000) return;
        lastLine = now;
        io.err(`[${formatDuration(now - t0).padStart(6)}] ${cfg.scenario}: ${i + 1} schedules (${o.mode}), no violation yet\n`);
      },
    }, { pool });
    if (!ex.found) {
      for (const e of ex.errors) io.err(e + '\n');
      const interrupted = signal?.aborted;
      const status = ex.errors.length ? 'ERROR' : interrupted ? 'INTERRUPTED' : 'SUCCESS';
      io.out(`${cfg.scenario}: ${formatDuration(ex.elapsedMs)}, ${cfg.threads} threads, ${ex.runs} schedules (${o.mode}, depth ${o.depth}, ${o.ops.join(',')} ops per actor), ${si(ex.totalSteps)} steps, 0 violations: ${status}`);
      return ex.errors.length ? EXIT_HARNESS : interrupted ? signalExitCode(typeof signal?.reason === 'string' ? signal.reason : 'SIGINT') : EXIT_CLEAN;
    }
    const found = ex.found;
    const file = scheduleFileOf({ ...cfg, schedule: ex.schedule! }, found);
    const path = o.scheduleFile ?? defaultScheduleFile(cfg.scenario, cfg.seed);
    writeScheduleFile(path, file);
    const shown = await runScenario({ ...replayConfig(file), quiet: cfg.quiet, json: cfg.json, log: cfg.log, logLevel: cfg.logLevel, logTarget: cfg.logTarget, logTargetOptions: cfg.logTargetOptions, rerun: `mmtorture replay ${path}` }, io, { pool });
    const s = shown.schedule!;
    if ((shown.violations[0]?.kind ?? '') !== file.expect.violation || s.violationStep !== file.expect.step) {
      io.err(`BUG: mmtorture: the schedule did not reproduce when run again (${shown.violations[0]?.kind ?? 'no violation'} at step ${s.violationStep}, expected ${file.expect.violation} at step ${file.expect.step})\n`);
      return EXIT_HARNESS;
    }
    io.err(`\nthe steps before the violation (thread, what it did):\n${formatSteps(s, shown.roles, { compact: true, last: 30, until: s.violationStep }).join('\n')}\n`);
    io.err(`\nschedule: ${o.mode} seed ${ex.schedule!.seed} (run ${ex.runs} of the exploration, ${formatDuration(ex.elapsedMs)}), violation at step ${s.violationStep} of ${s.steps}, ${s.preemptions} preemptions, ${s.switches.length / 2} context switches\n`);
    io.err(`replay: mmtorture replay ${path}\nshrink: mmtorture shrink ${path}\n`);
    return shown.exitCode;
  } finally {
    await pool.destroy().catch(() => undefined);
  }
}
