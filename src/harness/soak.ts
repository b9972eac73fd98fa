import { writeOutput } from './output.js';
import { openLogSink } from './logsink.js';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { runScenario, memorySample, signalExitCode, type RunIO, type RunResult, type StatSnapshot, type MemorySample, type RunStatus, type RunConfig } from './run.js';
import { loadScenario } from './module.js';
import { usesModel, MM_JITTER_DEFAULT } from '../../stress/types.js';
import { colors } from './color.js';
import { formatDuration, si } from './parse.js';
import { EXIT_CLEAN, EXIT_HARNESS, EXIT_VIOLATION } from './errors.js';
import type { LockStatRow } from './collect.js';
import type { ModelConfig } from '../mm/model.js';
import { rerunCommand } from './rerun.js';
import type { Era } from '../mm/era.js';

/*
 * mmtorture soak: every scenario (or a chosen set) in turn, each turn a full
 * run of --segment on a fresh arena, for --duration in all, with stutter,
 * shuffle and quiescent checks inside every turn. mm scenarios rotate through
 * the chosen eras and per-VMA lock modes. One stats line per scenario per
 * --stat-interval (ops, faults by path, retries, fallbacks, the most
 * contended lock, violations, memory); one line per finished turn; a summary
 * per scenario at the end; SUCCESS or FAILURE and the exit code.
 */

export interface SoakConfig {
  scenarios: string[];
  durationMs: number;
  /** Length of one turn of one scenario. */
  segmentMs: number;
  threads: number;
  /** Vary the thread count between turns over these counts (--threads 2,5,8 or --threads-sweep); overrides `threads`. */
  threadCounts?: number[];
  seed: number;
  eras: Era[];
  perVmaLock: boolean[];
  /** Model sizes (--mm-pages, --vmas, --folios) for every mm turn. */
  model?: Partial<ModelConfig>;
  /** --jitter; undefined: MM_JITTER_DEFAULT for mm turns, the scenario's default (none) for the others. */
  jitter?: number;
  stutterMs: number;
  stutterHoldMs?: number;
  shuffleMs: number;
  checkIntervalMs: number;
  statIntervalMs: number;
  watchdogMs: number;
  keepGoing: boolean;
  bugs: string[];
  params: number[];
  trace: boolean;
  checks: boolean;
  directAsserts?: boolean;
  /** The per-second progress line, on a terminal only (an 8-hour soak into a pipe would be 28,800 lines). */
  progress?: boolean;
  module?: string;
  json?: string;
  log?: string;
  logLevel?: string;
  logTarget?: string;
  logTargetOptions?: Record<string, unknown>;
  /** The effective configuration as the user gave it (echoed, logged, in the JSON summary). */
  effective?: Record<string, unknown>;
  /** --shard i/N: this machine runs global turns i-1, i-1+N, i-1+2N, ... of the rotation (seed + global turn). */
  shard?: Shard;
  /**
   * --schedule: every turn is controlled runs (schedule seeds seed + turn,
   * +1, ... for the turn's length) instead of one run under the OS's
   * scheduler; a failing turn writes its schedule file.
   */
  schedule?: SoakSchedule;
}

/** The controlled scheduler of a soak's turns (run --schedule's flags but the seed, which is per turn). */
export interface SoakSchedule {
  mode: 'pct' | 'random';
  depth: number;
  ops: number[];
  maxSteps: number;
}

/** One machine's part of a fleet soak or validate: index 1..count. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * The global turn numbers a shard runs, in order: turn g is configuration
 * g mod P of the plan with seed + g, so N shards together run every global
 * turn exactly once with no coordination, and every shard whose count is
 * prime to P meets every configuration once per P of its turns.
 */
export function shardTurn(shard: Shard | undefined, local: number): number {
  return shard ? shard.index - 1 + local * shard.count : local;
}

/** How many distinct configurations of a P-configuration plan `turns` local turns of a shard meet. */
export function shardCoverage(shard: Shard | undefined, planLength: number, turns: number): number {
  const seen = new Set<number>();
  for (let i = 0; i < turns && seen.size < planLength; i++) seen.add(shardTurn(shard, i) % planLength);
  return seen.size;
}

/**
 * The shard a job engine's environment names (Slurm job arrays, Kubernetes
 * Indexed Jobs), or null; said, never applied, when --shard is not given.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv): { text: string; shard: Shard | null } | null {
  const id = env.SLURM_ARRAY_TASK_ID;
  if (id !== undefined) {
    const min = Number(env.SLURM_ARRAY_TASK_MIN ?? 1); // Slurm always sets it; arrays start at 1 by convention
    const count = Number(env.SLURM_ARRAY_TASK_COUNT);
    const index = Number(id) - min + 1;
    const shard = Number.isInteger(index) && Number.isInteger(count) && index >= 1 && index <= count ? { index, count } : null;
    return { text: `SLURM_ARRAY_TASK_ID=${id}${env.SLURM_ARRAY_TASK_COUNT ? ` of SLURM_ARRAY_TASK_COUNT=${env.SLURM_ARRAY_TASK_COUNT}` : ''}`, shard };
  }
  const k = env.JOB_COMPLETION_INDEX;
  if (k !== undefined) return { text: `JOB_COMPLETION_INDEX=${k} (the job's completions count is not in the environment)`, shard: null };
  return null;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function shardText(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** One scenario in one configuration: what a turn runs. */
export interface SoakTurnKind {
  scenario: string;
  era: Era | null;
  perVmaLock: boolean | null;
  /** Threads of this turn (null: the soak's one --threads). */
  threads: number | null;
}

export interface SoakTotals {
  label: string;
  turns: number;
  durationMs: number;
  ops: number;
  faults: number;
  violations: number;
  checks: number;
  stutters: number;
  shuffles: number;
  failed: number;
  /** The scenario counts faults (mm scenarios); the summary shows '-' for the others. */
  hasFaults: boolean;
}

export interface SoakSegment {
  index: number;
  /** The global turn (index i of shard s/N is turn s-1 + i N). */
  turn: number;
  label: string;
  seed: number;
  status: RunStatus;
  durationMs: number;
  ops: number;
  violations: number;
  memory: MemorySample;
  rerun: string;
}

export interface SoakReport {
  status: RunStatus;
  exitCode: number;
  config: Record<string, unknown>;
  host: string;
  shard: string | null;
  coverage: { configurations: number; covered: number };
  startedAt: string;
  durationMs: number;
  ops: number;
  violations: number;
  perScenario: SoakTotals[];
  segments: SoakSegment[];
  memory: { start: MemorySample; end: MemorySample; maxRssMiB: number };
  interrupted: string | null;
  /** Turns that failed: their reports and the command that reproduces each. */
  failures: { segment: number; label: string; status: RunStatus; rerun: string; report: string[]; errors: string[]; hang: string[] }[];
}

export function turnLabel(k: SoakTurnKind): string {
  const parts: string[] = [];
  if (k.era !== null) parts.push(`E${k.era}${k.perVmaLock ? '' : ', mmap_lock only'}`);
  if (k.threads !== null) parts.push(`${k.threads} thread${k.threads === 1 ? '' : 's'}`);
  return parts.length ? `${k.scenario} (${parts.join(', ')})` : k.scenario;
}

/**
 * The rotation: every scenario; mm scenarios once per era and per-VMA lock
 * mode; with several thread counts, every configuration at every count, in
 * an order where the count changes every turn and all P x T combinations
 * come once in P x T turns (turn i: configuration i mod P, count
 * (i mod P + floor(i / P)) mod T).
 */
export async function soakPlan(cfg: Pick<SoakConfig, 'scenarios' | 'eras' | 'perVmaLock' | 'module' | 'threadCounts'>): Promise<SoakTurnKind[]> {
  const configs: SoakTurnKind[] = [];
  for (const name of cfg.scenarios) {
    const s = await loadScenario(name, cfg.module);
    if (!usesModel(s)) {
      configs.push({ scenario: name, era: null, perVmaLock: null, threads: null });
      continue;
    }
    for (const era of cfg.eras) for (const pvl of cfg.perVmaLock) configs.push({ scenario: name, era, perVmaLock: pvl, threads: null });
  }
  const counts = cfg.threadCounts && cfg.threadCounts.length > 1 ? cfg.threadCounts : null;
  if (!counts) return configs;
  const p = configs.length;
  const out: SoakTurnKind[] = [];
  for (let i = 0; i < p * counts.length; i++) {
    const c = i % p;
    out.push({ ...configs[c], threads: counts[(c + Math.floor(i / p)) % counts.length] });
  }
  return out;
}

/** --threads-sweep: 1, 2, 3, 5, 8, then doubling up to 4 x the cores (at least 16): oversubscribed on purpose. */
export function threadSweep(cores: number): number[] {
  const out = [1, 2, 3, 5, 8];
  for (let n = 16; n <= Math.max(16, 4 * cores); n *= 2) out.push(n);
  return out;
}

function topLock(rows: LockStatRow[]): string {
  const top = [...rows].sort((a, b) => b.waitTotalMs - a.waitTotalMs)[0];
  if (!top || top.contentions === 0) return 'no lock contention';
  return `top wait ${top.class}: ${si(top.contentions)}/${si(top.acquisitions)} contended, p99 ${top.waitP99Us}us, max ${Math.round(top.waitMaxUs)}us`;
}

/** The soak's stats line for one interval of one turn. */
export function soakStatLine(label: string, totalElapsedMs: number, s: StatSnapshot): string {
  const d = s.stats.data as Record<string, number>;
  const parts = [`[${formatDuration(totalElapsedMs).padStart(6)}] ${label} t=${formatDuration(s.elapsedMs)}: ops ${si(s.ops)} (${si(s.opsPerSec)}/s)`];
  if (typeof d.faults === 'number') {
    const f = d.faults || 1;
    const pct = (n: number) => `${((100 * (n ?? 0)) / f).toFixed(1)}%`;
    parts.push(`faults ${si(d.faults)} (per-VMA ${pct(d.vma_lock_success)}, mmap_lock ${pct(d.mmap_lock_faults)}, SIGSEGV ${pct(d.sigsegv)})`);
    parts.push(`retries ${si((d.vma_lock_retry ?? 0) + (d.mmap_lock_retry ?? 0))}`);
    parts.push(`vma-lock fallbacks ${si(d.vma_lock_abort ?? 0)}`);
  }
  parts.push(topLock(s.lockStat));
  parts.push(`checks ${s.checks} stutters ${s.stutters} shuffles ${s.shuffles}`);
  parts.push(`violations ${s.violations}`);
  parts.push(`rss ${s.memory.rssMiB} MiB heap ${s.memory.heapUsedMiB} MiB`);
  return parts.join(' | ');
}

/** The jitter of a turn: --jitter, else soak widens every mm turn's race windows. */
function turnJitter(cfg: SoakConfig, k: SoakTurnKind): number | undefined {
  return cfg.jitter ?? (k.era !== null ? MM_JITTER_DEFAULT : undefined);
}

function rerunLine(cfg: SoakConfig, k: SoakTurnKind, seed: number, durationMs: number): string {
  return rerunCommand({
    ...cfg, jitter: turnJitter(cfg, k), scenario: k.scenario, threads: k.threads ?? cfg.threads, duration: durationMs, seed, usesModel: k.era !== null,
    model: k.era === null ? undefined : { ...cfg.model, era: k.era, perVmaLock: Boolean(k.perVmaLock) },
  });
}

/**
 * One soak turn under the controlled scheduler: schedules with seeds from
 * the turn's seed for the turn's length (exploreSchedules); the result is
 * the failing run, with its schedule file written and `mmtorture replay
 * FILE` as its rerun, or the last run with every run's operations summed.
 */
async function controlledTurn(cfg: RunConfig, sc: SoakSchedule, signal?: AbortSignal): Promise<{ res: RunResult; rerun?: string }> {
  const { exploreSchedules, defaultScheduleFile } = await import('./controlled.js');
  const { scheduleFileOf, writeScheduleFile } = await import('./schedule.js');
  let faults = 0;
  const ex = await exploreSchedules({ ...cfg, rerun: undefined }, {
    mode: sc.mode, seed: cfg.seed, depth: sc.depth, ops: sc.ops, maxSteps: sc.maxSteps, budgetMs: cfg.durationMs, maxRuns: Number.MAX_SAFE_INTEGER, signal,
    onRun: (_i, r) => {
      const f = (r.stats.data as Record<string, unknown>).faults;
      if (typeof f === 'number') faults += f;
    },
  });
  // The turn's faults are every schedule's (the soak summary's column), as its ops are.
  const withFaults = (r: RunResult): RunResult => (typeof (r.stats.data as Record<string, unknown>).faults === 'number' ? { ...r, stats: { ...r.stats, data: { ...r.stats.data, faults } } } : r);
  if (ex.found && ex.schedule) {
    const path = defaultScheduleFile(cfg.scenario, cfg.seed);
    writeScheduleFile(path, scheduleFileOf({ ...cfg, schedule: ex.schedule }, ex.found));
    return {
      res: { ...withFaults(ex.found), durationMs: ex.elapsedMs, ops: ex.ops, report: [...ex.found.report, `schedule: ${sc.mode} seed ${ex.schedule.seed} (schedule ${ex.runs} of the turn), violation at step ${ex.found.schedule?.violationStep ?? -1}`] },
      rerun: `mmtorture replay ${path}`,
    };
  }
  const last = ex.last;
  if (!last) throw new Error(`soak: no controlled run of ${cfg.scenario} started in ${formatDuration(cfg.durationMs)}`);
  const status: RunStatus = ex.errors.length ? 'ERROR' : signal?.aborted ? 'INTERRUPTED' : last.status === 'INTERRUPTED' ? 'SUCCESS' : last.status;
  return {
    res: {
      ...withFaults(last), status, durationMs: ex.elapsedMs, ops: ex.ops, opsPerSec: ex.ops / Math.max(1e-3, ex.elapsedMs / 1000), errors: [...ex.errors, ...last.errors],
      interrupted: signal?.aborted ? (typeof signal.reason === 'string' ? signal.reason : 'abort') : null,
    },
  };
}

function worse(a: RunStatus, b: RunStatus): RunStatus {
  const rank: Record<RunStatus, number> = { SUCCESS: 0, INTERRUPTED: 1, FAILURE: 2, HANG: 3, ERROR: 4 };
  return rank[b] > rank[a] ? b : a;
}

export async function runSoak(cfg: SoakConfig, io: RunIO, signal?: AbortSignal): Promise<SoakReport> {
  const paint = colors(io.color);
  const plan = await soakPlan(cfg);
  const host = hostname();
  const sink = openLogSink(cfg, { soak: true });
  const logger: Logger | null = sink?.logger ?? null;
  const config = cfg.effective ?? { ...cfg };
  const startedAt = new Date().toISOString();
  logger?.info({ phase: 'soak-start', config, plan: plan.map(turnLabel), host, shard: cfg.shard ? shardText(cfg.shard) : null }, 'soak start');
  const memStart = memorySample();
  let maxRss = memStart.rssMiB;
  const t0 = performance.now();
  const totals = new Map<string, SoakTotals>();
  for (const k of plan) {
    const label = turnLabel(k);
    totals.set(label, { label, turns: 0, durationMs: 0, ops: 0, faults: 0, violations: 0, checks: 0, stutters: 0, shuffles: 0, failed: 0, hasFaults: false });
  }
  const segments: SoakSegment[] = [];
  const failures: SoakReport['failures'] = [];
  let status: RunStatus = 'SUCCESS';
  let exitCode: number = EXIT_CLEAN;
  let interrupted: string | null = null;
  const threadsText = cfg.threadCounts && cfg.threadCounts.length > 1 ? `threads ${cfg.threadCounts.join(',')}` : `${cfg.threads} threads`;
  const expectTurns = Math.max(1, Math.floor(cfg.durationMs / cfg.segmentMs));
  const expectCover = shardCoverage(cfg.shard, plan.length, expectTurns);
  io.out(`soak: ${plan.length} scenario configurations in rotation, ${formatDuration(cfg.segmentMs)} turns, ${formatDuration(cfg.durationMs)} in all, ${threadsText}, seed ${cfg.seed >>> 0}`);
  if (cfg.shard) io.out(`shard ${shardText(cfg.shard)} on ${host}: global turns ${cfg.shard.index - 1}, ${cfg.shard.index - 1 + cfg.shard.count}, ${cfg.shard.index - 1 + 2 * cfg.shard.count}, ... of the rotation, turn g with seed ${cfg.seed >>> 0} + g`);
  const share = plan.length / gcd(cfg.shard?.count ?? 1, plan.length);
  const rest = expectCover < share ? ` (${share === plan.length ? 'the whole rotation' : `this shard's ${share}`} takes ${formatDuration(share * cfg.segmentMs)})` : '';
  const together = cfg.shard && share < plan.length ? `; the ${cfg.shard.count} shards together cover all ${plan.length}` : '';
  io.out(`coverage: at most ${expectTurns} turns will meet ${expectCover} of the ${plan.length} configurations${rest}${together}`);
  // The stats clock runs across turns, so a segment shorter than the stat interval still gets its lines.
  let nextStatAt = cfg.statIntervalMs;

  for (let i = 0; ; i++) {
    const elapsed = performance.now() - t0;
    const left = cfg.durationMs - elapsed;
    if (signal?.aborted) {
      interrupted = typeof signal.reason === 'string' ? signal.reason : 'abort';
      break;
    }
    if (left < Math.min(cfg.segmentMs, 250)) break;
    const g = shardTurn(cfg.shard, i);
    const k = plan[g % plan.length];
    const label = turnLabel(k);
    const seed = (cfg.seed + g) | 0;
    const durationMs = Math.min(cfg.segmentMs, left);
    let rerun = rerunLine(cfg, k, seed, durationMs);
    const segStart = performance.now() - t0;
    const turnCfg: RunConfig = {
      scenario: k.scenario, module: cfg.module, threads: k.threads ?? cfg.threads, durationMs, seed, bugs: cfg.bugs, params: cfg.params,
      watchdogMs: cfg.watchdogMs, statIntervalMs: cfg.statIntervalMs, keepGoing: cfg.keepGoing,
      model: k.era === null ? undefined : { ...cfg.model, era: k.era, perVmaLock: Boolean(k.perVmaLock) },
      checkIntervalMs: cfg.checkIntervalMs, jitter: turnJitter(cfg, k), trace: cfg.trace, checks: cfg.checks, directAsserts: cfg.directAsserts,
      stutterMs: cfg.stutterMs, stutterHoldMs: cfg.stutterHoldMs, shuffleMs: cfg.shuffleMs,
      quiet: true, progress: Boolean(cfg.progress) && io.isTTY, rerun,
    };
    const ctl = cfg.schedule ? await controlledTurn(turnCfg, cfg.schedule, signal) : null;
    if (ctl?.rerun) rerun = ctl.rerun; // a controlled turn's failure: mmtorture replay FILE
    const res: RunResult = ctl ? ctl.res : await runScenario(turnCfg, io, {
      signal,
      logger: logger?.child({ segment: i, turn: g, scenario: k.scenario, label }),
      firstStatAfterMs: Math.max(0, nextStatAt - segStart),
      clockOffsetMs: segStart,
      onStats: (s) => {
        maxRss = Math.max(maxRss, s.memory.rssMiB);
        nextStatAt = segStart + s.elapsedMs + cfg.statIntervalMs;
        io.out(soakStatLine(label, segStart + s.elapsedMs, s));
      },
    });
    maxRss = Math.max(maxRss, res.memory.rssMiB);
    const tot = totals.get(label) as SoakTotals;
    const d = res.stats.data as Record<string, number>;
    tot.turns++;
    tot.durationMs += res.durationMs;
    tot.ops += res.ops;
    tot.faults += typeof d.faults === 'number' ? d.faults : 0;
    if (typeof d.faults === 'number') tot.hasFaults = true;
    tot.violations += res.violationCount;
    tot.checks += res.checks.done;
    tot.stutters += res.stutters;
    tot.shuffles += res.shuffles.done;
    segments.push({ index: i, turn: g, label, seed: seed >>> 0, status: res.status, durationMs: Math.round(res.durationMs), ops: res.ops, violations: res.violationCount, memory: res.memory, rerun });
    const soFar = performance.now() - t0;
    io.out(`[${formatDuration(soFar).padStart(6)}] turn ${i + 1} (${Math.min(100, Math.floor((100 * soFar) / cfg.durationMs))}%, ${formatDuration(Math.max(0, cfg.durationMs - soFar))} left): ${label}: ${formatDuration(res.durationMs)}, ${si(res.ops)} ops (${si(res.opsPerSec)}/s), ${res.checks.done} checks, ${res.stutters} stutters, ${res.shuffles.done} shuffles, ${res.violationCount} violations, rss ${res.memory.rssMiB} MiB: ${paint.status(res.status)}`);
    if (res.status === 'INTERRUPTED') {
      interrupted = res.interrupted;
      break;
    }
    if (res.status !== 'SUCCESS') {
      tot.failed++;
      status = worse(status, res.status);
      failures.push({ segment: i, label, status: res.status, rerun, report: res.report, errors: res.errors, hang: res.hang?.report ?? [] });
      const lines = [...res.report, ...(res.hang ? [`watchdog: no thread made progress for ${formatDuration(res.hang.blockedMs)}`, ...res.hang.report] : []), ...res.errors, ...(res.crash?.lastEvents ?? [])];
      if (lines.length) io.err('\n' + [paint.red(lines[0]), ...lines.slice(1)].join('\n') + '\n');
      io.err(`rerun: ${rerun}\n`);
      if (!cfg.keepGoing || res.status === 'ERROR') break;
    }
    if (res.interrupted) {
      interrupted = res.interrupted;
      break;
    }
  }
  const durationMs = performance.now() - t0;
  if (status === 'SUCCESS' && interrupted) status = 'INTERRUPTED';
  exitCode = status === 'SUCCESS' ? EXIT_CLEAN
    : status === 'FAILURE' ? EXIT_VIOLATION
      : status === 'INTERRUPTED' ? signalExitCode(interrupted ?? 'SIGINT')
        : EXIT_HARNESS;
  const memEnd = memorySample();
  const perScenario = [...totals.values()];
  const covered = perScenario.filter((t) => t.turns > 0).length;
  const ops = perScenario.reduce((a, t) => a + t.ops, 0);
  const violations = perScenario.reduce((a, t) => a + t.violations, 0);
  const report: SoakReport = {
    status, exitCode, config, host, shard: cfg.shard ? shardText(cfg.shard) : null, coverage: { configurations: plan.length, covered }, startedAt, durationMs, ops, violations, perScenario, segments,
    memory: { start: memStart, end: memEnd, maxRssMiB: Math.max(maxRss, memEnd.rssMiB) }, interrupted, failures,
  };

  // The summary, per scenario configuration.
  const w = Math.max(8, ...perScenario.map((t) => t.label.length));
  io.out('');
  io.out(`soak summary (${formatDuration(durationMs)}, ${segments.length} turns):`);
  io.out(`  ${'scenario'.padEnd(w)}  turns      time        ops     faults  checks  stutters  shuffles  violations`);
  for (const t of perScenario) {
    if (!t.turns) continue;
    io.out(`  ${t.label.padEnd(w)}  ${String(t.turns).padStart(5)}  ${formatDuration(t.durationMs).padStart(8)}  ${si(t.ops).padStart(9)}  ${(t.hasFaults ? si(t.faults) : '-').padStart(9)}  ${String(t.checks).padStart(6)}  ${String(t.stutters).padStart(8)}  ${String(t.shuffles).padStart(8)}  ${String(t.violations).padStart(10)}`);
  }
  io.out(`coverage: ${covered} of the ${plan.length} configurations in ${segments.length} turns${cfg.shard ? ` (shard ${shardText(cfg.shard)} on ${host})` : ''}`);
  io.out(`memory: rss ${memStart.rssMiB} MiB at start, ${memEnd.rssMiB} MiB at end, ${report.memory.maxRssMiB} MiB max; heap ${memStart.heapUsedMiB} -> ${memEnd.heapUsedMiB} MiB`);
  if (interrupted) io.err(`interrupted by ${interrupted} after ${formatDuration(durationMs)}\n`);
  io.out(`soak: ${formatDuration(durationMs)}, ${segments.length} turns, ${si(ops)} ops, ${violations} violations: ${paint.status(status)}`);
  logger?.info({ phase: 'soak-summary', host, shard: report.shard, coverage: report.coverage, status, exitCode, durationMs: Math.round(durationMs), ops, violations, perScenario, memory: report.memory, interrupted, failures: failures.map((f) => ({ segment: f.segment, label: f.label, status: f.status, rerun: f.rerun })) }, 'soak summary');
  await sink?.close();
  if (cfg.json) writeOutput(cfg.json, JSON.stringify(report, null, 2) + '\n');
  return report;
}
