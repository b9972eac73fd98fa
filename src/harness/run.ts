import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { Piscina } from 'piscina';
import pino from 'pino';
import { Arena } from '../shm/arena.js';
import { DEFAULT_MODEL, type ModelConfig } from '../mm/model.js';
import { H_ABORT, H_GO, H_READY, H_STOP, F_KEEP_GOING, F_TRACE, F_NO_CHECK, T_KILL, H_PAUSE, H_PAUSED, T_STATE, H_CHECK_SEQ } from '../shm/layout.js';
import { decodeTrace } from '../trace/decode.js';
import { raceReport } from './report.js';
import { bugWords } from '../bugs/catalogue.js';
import { buildWaitGraph, formatWaitGraph, type WaitGraph } from '../check/waitgraph.js';
import { findScenario, type Scenario } from '../../stress/index.js';
import type { StatReport } from '../../stress/types.js';
import type { WorkerResult, WorkerTask } from '../../workers/worker.js';
import {
  totalOps, perThreadOps, lockStat, formatLockStat, decodeViolations, formatViolation, violationCount,
  type LockStatRow, type DecodedViolation,
} from './collect.js';
import { EXIT_CLEAN, EXIT_HARNESS, EXIT_VIOLATION } from './errors.js';
import { formatDuration, si } from './parse.js';

export interface RunConfig {
  scenario: string;
  threads: number;
  durationMs: number;
  seed: number;
  bugs: string[];
  /** No thread made progress for this long: report and exit 3. */
  watchdogMs: number;
  statIntervalMs: number;
  keepGoing: boolean;
  /** Scenario parameters (H_PARAMS). */
  params?: number[];
  json?: string;
  log?: string;
  logLevel?: string;
  /** Print the per-second progress line on stderr. */
  progress?: boolean;
  /** Print stat lines and summary on stdout. */
  quiet?: boolean;
  /** The command line that reproduces this run (for reports). */
  rerun?: string;
  /** mm model configuration (era, per-VMA locking, sizes) for mm scenarios. */
  model?: Partial<ModelConfig>;
  /** Quiescent checks at a stop-the-world barrier this often (0 = only at the end). */
  checkIntervalMs?: number;
  /** Race-window widening: maximum spin at a delay point (0 = off). */
  jitter?: number;
  /** Flight recorder on (default true). */
  trace?: boolean;
  /** Oracles on (default true): lockdep, quiescent and final checks. */
  checks?: boolean;
}

export type RunStatus = 'SUCCESS' | 'FAILURE' | 'HANG' | 'ERROR';

export interface RunResult {
  status: RunStatus;
  exitCode: number;
  scenario: string;
  config: Omit<RunConfig, 'progress' | 'quiet'>;
  durationMs: number;
  ops: number;
  opsPerSec: number;
  perThreadOps: number[];
  roles: string[];
  stats: StatReport;
  lockStat: LockStatRow[];
  violationCount: number;
  violations: DecodedViolation[];
  /** Time from start to the first violation (ms), if any. */
  firstViolationMs: number | null;
  hang: null | { blockedMs: number; graph: WaitGraph; report: string[] };
  errors: string[];
  /** Quiescent checks run during the run (and skipped because an actor could not park). */
  checks: { done: number; skipped: number };
  /** The race report of the first violation (kernel-splat text). */
  report: string[];
}

export interface RunIO {
  out: (line: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
}

const defaultIO: RunIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
};

/** The compiled worker entry point (tests running from src/ use the build in dist/). */
export function workerFile(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) return path.resolve(path.dirname(here), '../../dist/workers/worker.js');
  return path.resolve(path.dirname(here), '../../workers/worker.js');
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A timer that does not keep the process alive (for races against the join). */
const deadline = (ms: number) => new Promise<false>((r) => setTimeout(() => r(false), ms).unref());

/**
 * The run lifecycle (DESIGN.md): build the arena, start one long-running
 * task per thread behind a barrier, sample progress, watch for hangs and
 * violations, stop, join (never hang), report.
 */
export async function runScenario(cfg: RunConfig, io: RunIO = defaultIO): Promise<RunResult> {
  const scenario = findScenario(cfg.scenario) as Scenario;
  if (!scenario) throw new Error(`unknown scenario ${cfg.scenario}`);
  const [bugs0, bugs1] = bugWords(cfg.bugs);
  const logger = cfg.log
    ? pino({ level: cfg.logLevel ?? 'info', base: { scenario: cfg.scenario } }, pino.destination({ dest: cfg.log, sync: true, mkdir: true }))
    : null;
  const { progress, quiet, ...loggedConfig } = cfg;
  logger?.info({ phase: 'setup', config: loggedConfig }, 'setup');

  const sopts = { model: { ...DEFAULT_MODEL, ...(cfg.model ?? {}) } };
  const arena = Arena.create({
    threads: cfg.threads,
    scenarioWords: scenario.words(cfg.threads, sopts),
    bugs0, bugs1,
    seed: cfg.seed,
    flags: (cfg.keepGoing ? F_KEEP_GOING : 0) | (cfg.trace === false ? 0 : F_TRACE) | (cfg.checks === false ? F_NO_CHECK : 0),
    jitter: cfg.jitter ?? 0,
    params: cfg.params,
  });
  scenario.setup(arena, sopts);
  const roles = scenario.roles(cfg.threads);
  const i32 = arena.i32;

  const pool = new Piscina({
    filename: workerFile(),
    minThreads: cfg.threads,
    maxThreads: cfg.threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
  });
  const errors: string[] = [];
  let crashed = false;
  const results: (WorkerResult | null)[] = new Array(cfg.threads).fill(null);
  const tasks = roles.map((role, tid) => {
    const task: WorkerTask = { sab: arena.sab, tid, scenario: cfg.scenario, role };
    return pool.run(task).then(
      (r: WorkerResult) => {
        results[tid] = r;
        if (r.outcome === 'error') {
          crashed = true;
          errors.push(`worker ${tid} (${role}) crashed: ${r.error}`);
          Atomics.store(i32, H_STOP, 1);
          Atomics.store(i32, H_ABORT, 1);
        }
      },
      (e: unknown) => {
        crashed = true;
        errors.push(`worker ${tid} (${role}) died: ${e instanceof Error ? e.message : String(e)}`);
        results[tid] = { tid, outcome: 'error', error: String(e) };
        Atomics.store(i32, H_STOP, 1);
        Atomics.store(i32, H_ABORT, 1);
      },
    );
  });
  const allDone = Promise.all(tasks);

  // Start barrier.
  const barrierDeadline = Date.now() + 30_000;
  while (Atomics.load(i32, H_READY) < cfg.threads && !crashed) {
    if (Date.now() > barrierDeadline) {
      errors.push(`start barrier: only ${Atomics.load(i32, H_READY)}/${cfg.threads} workers arrived within 30s`);
      crashed = true;
      Atomics.store(i32, H_ABORT, 1);
      break;
    }
    await sleep(2);
  }
  const t0 = performance.now();
  const goAt = arena.now(); // violation timestamps are on the arena clock
  Atomics.store(i32, H_GO, 1);
  Atomics.notify(i32, H_GO);
  logger?.info({ phase: 'run', threads: cfg.threads, roles }, 'run');

  // Run loop: progress, stats, watchdog.
  let lastOps = 0;
  let lastProgressAt = t0;
  let lastLine = t0;
  let lastStat = t0;
  let lastCheck = t0;
  let checks = 0;
  let checksSkipped = 0;
  const quiescentViolations: DecodedViolation[] = [];
  let lastOpsChangeAt = t0;
  let watchOps = -1;
  let hang: RunResult['hang'] = null;
  let firstViolationMs: number | null = null;
  const tick = 50;
  let linesOpen = false;
  const printStats = (final: boolean) => {
    if (quiet) return;
    const rep = scenario.stats(arena, performance.now() - t0, final);
    const head = `${cfg.scenario}: ${final ? 'End of test' : `t=${formatDuration(performance.now() - t0)}`}`;
    if (linesOpen) io.err('\n');
    linesOpen = false;
    io.out(head);
    for (const l of rep.lines) io.out('  ' + l);
  };
  while (!crashed) {
    await sleep(tick);
    const now = performance.now();
    const elapsed = now - t0;
    const ops = totalOps(arena);
    if (ops !== watchOps) {
      watchOps = ops;
      lastOpsChangeAt = now;
    }
    if (firstViolationMs === null && violationCount(arena) > 0) firstViolationMs = elapsed;
    if (Atomics.load(i32, H_STOP) !== 0) break; // a violation (or a crash) stopped the run
    if (now - lastOpsChangeAt >= cfg.watchdogMs) {
      const graph = buildWaitGraph(arena);
      const blockedMs = now - lastOpsChangeAt;
      hang = { blockedMs, graph, report: formatWaitGraph(graph, blockedMs) };
      break;
    }
    if (now - lastLine >= 1000) {
      const rate = ((ops - lastOps) * 1000) / (now - lastProgressAt);
      lastOps = ops;
      lastProgressAt = now;
      lastLine = now;
      const line = `[${formatDuration(elapsed).padStart(6)}] ${cfg.scenario}: ops ${si(ops)} (${si(rate)}/s) violations ${violationCount(arena)}`;
      if (progress) {
        if (io.isTTY) {
          io.err(`\r\x1b[K${line}`);
          linesOpen = true;
        } else {
          io.err(line + '\n');
        }
      }
      logger?.info({ phase: 'stats', elapsedMs: Math.round(elapsed), ops, opsPerSec: Math.round(rate), violations: violationCount(arena) }, 'stats');
    }
    if (scenario.quiescentCheck && cfg.checks !== false && cfg.checkIntervalMs && now - lastCheck >= cfg.checkIntervalMs) {
      // Stop the world at the pause barrier, check, resume.
      Atomics.store(i32, H_PAUSE, 1);
      const until = performance.now() + 500;
      let parked = false;
      while (performance.now() < until) {
        let running = 0;
        for (let tid = 0; tid < cfg.threads; tid++) if (i32[arena.pt(tid) + T_STATE] !== 3) running++;
        if (Atomics.load(i32, H_PAUSED) >= running) {
          parked = true;
          break;
        }
        await sleep(1);
      }
      if (parked) {
        checks++;
        Atomics.add(i32, H_CHECK_SEQ, 1);
        const tq = arena.now();
        for (const p of scenario.quiescentCheck(arena)) {
          quiescentViolations.push({ kind: 'quiescent-invariant', title: `BUG: quiescent check: ${p}`, tid: -1, op: 0, obj: 0, args: {}, timeMs: tq });
        }
      } else {
        checksSkipped++;
      }
      Atomics.store(i32, H_PAUSE, 0);
      Atomics.notify(i32, H_PAUSE);
      lastCheck = performance.now();
      if (quiescentViolations.length && !cfg.keepGoing) break;
    }
    if (now - lastStat >= cfg.statIntervalMs) {
      lastStat = now;
      printStats(false);
    }
    if (elapsed >= cfg.durationMs) break;
  }
  if (linesOpen) {
    io.err('\n');
    linesOpen = false;
  }

  // Stop and join; never hang: abort unwinds every wait, destroy kills the rest.
  Atomics.store(i32, H_STOP, 1);
  if (hang) {
    Atomics.store(i32, H_ABORT, 1);
    for (let tid = 0; tid < cfg.threads; tid++) Atomics.store(i32, arena.pt(tid) + T_KILL, 1);
  }
  // After a violation the actors only finish their current operation; one
  // still blocked seconds later is blocked by the bug's consequence.
  const stoppedByViolation = violationCount(arena) > 0 || quiescentViolations.length > 0;
  const joinBudget = stoppedByViolation ? 3000 : Math.max(2000, cfg.watchdogMs);
  const joined = await Promise.race([allDone.then(() => true), deadline(joinBudget)]);
  let lateJoin = false;
  if (!joined) {
    // Someone is stuck: build the graph before we unwind it.
    if (!hang) {
      const graph = buildWaitGraph(arena);
      hang = { blockedMs: joinBudget, graph, report: formatWaitGraph(graph, joinBudget) };
    }
    Atomics.store(i32, H_ABORT, 1);
    lateJoin = !(await Promise.race([allDone.then(() => true), deadline(2000)]));
  }
  if (lateJoin) errors.push('workers did not unwind after abort; terminated');
  await pool.destroy().catch(() => undefined);
  const durationMs = performance.now() - t0;

  const ops = totalOps(arena);
  const stats = scenario.stats(arena, durationMs, true);
  const violations = decodeViolations(arena);
  violations.push(...quiescentViolations);
  // Quiescent checks at the end, only over a cleanly stopped world.
  if (scenario.finalCheck && cfg.checks !== false && !crashed && !hang && errors.length === 0) {
    const t1 = arena.now();
    for (const p of scenario.finalCheck(arena, violations.length === 0 && violationCount(arena) === 0)) {
      violations.push({ kind: 'quiescent-invariant', title: `BUG: quiescent check: ${p}`, tid: -1, op: 0, obj: 0, args: {}, timeMs: t1 });
    }
  }
  const nViol = Math.max(violationCount(arena), violations.length);
  // Time to detect, from the violation's own timestamp (the loop above only samples every tick).
  if (violations.length) firstViolationMs = Math.max(0, violations[0].timeMs - goAt);
  else if (firstViolationMs === null && nViol > 0) firstViolationMs = durationMs;
  let status: RunStatus;
  let exitCode: number;
  if (crashed || errors.length) {
    status = 'ERROR';
    exitCode = EXIT_HARNESS;
  } else if (nViol > 0 || stats.failures > 0) {
    // A hang after a violation is the violation's consequence (a leaked lock):
    // the run found a bug; the hang report is printed with it.
    status = 'FAILURE';
    exitCode = EXIT_VIOLATION;
  } else if (hang) {
    status = 'HANG';
    exitCode = EXIT_HARNESS;
  } else {
    status = 'SUCCESS';
    exitCode = EXIT_CLEAN;
  }

  const result: RunResult = {
    status, exitCode, scenario: cfg.scenario, config: loggedConfig, durationMs, ops,
    opsPerSec: ops / (durationMs / 1000), perThreadOps: perThreadOps(arena), roles, stats,
    lockStat: lockStat(arena), violationCount: nViol, violations, firstViolationMs, hang, errors,
    checks: { done: checks, skipped: checksSkipped },
    report: violations.length ? raceReport(arena, violations[0], cfg.trace === false ? [] : decodeTrace(arena), roles, cfg.rerun) : [],
  };

  // Reports.
  violations.forEach((v, i) => logger?.error({ phase: 'violation', violation: v, ...(i === 0 ? { report: result.report } : {}) }, v.title));
  if (hang) logger?.error({ phase: 'hang', blockedMs: hang.blockedMs, cycle: hang.graph.cycle, threads: hang.graph.threads }, 'watchdog: no progress');
  for (const e of errors) logger?.error({ phase: 'error', error: e }, 'harness error');
  if (!quiet) {
    printStats(true);
    for (const l of formatLockStat(result.lockStat)) io.out(l);
    const events = cfg.trace === false ? [] : decodeTrace(arena);
    violations.slice(0, 5).forEach((v, i) => {
      io.err('\n' + (i === 0 ? raceReport(arena, v, events, roles, cfg.rerun) : formatViolation(v)).join('\n') + '\n');
    });
    if (violations.length > 5) io.err(`(${violations.length - 5} more violations: see --json / --log)\n`);
    if (nViol > violations.length) io.err(`(${nViol - violations.length} more violations not recorded: capacity ${arena.violCap})\n`);
    if (hang) io.err('\n' + [`watchdog: no thread made progress for ${formatDuration(hang.blockedMs)}`, ...hang.report].join('\n') + '\n');
    for (const e of errors) io.err(e + '\n');
    if (status !== 'SUCCESS' && cfg.rerun) io.err(`rerun: ${cfg.rerun}\n`);
    io.out(`${cfg.scenario}: ${formatDuration(durationMs)}, ${cfg.threads} threads, ${si(ops)} ops (${si(result.opsPerSec)}/s), ${nViol} violations: ${status}`);
  }
  logger?.info({ phase: 'summary', status, exitCode, ops, durationMs: Math.round(durationMs), violations: nViol, stats: stats.data, lockStat: result.lockStat }, 'summary');
  logger?.flush();
  if (cfg.json) writeFileSync(cfg.json, JSON.stringify(result, null, 2) + '\n');
  return result;
}
