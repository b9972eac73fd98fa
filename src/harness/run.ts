import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Piscina } from 'piscina';
import pino, { type Logger } from 'pino';
import { Arena } from '../shm/arena.js';
import { modelDefaults, type ModelConfig } from '../mm/model.js';
import { H_ABORT, H_GO, H_READY, H_STOP, F_KEEP_GOING, F_TRACE, F_NO_CHECK, T_KILL, H_PAUSE, H_PAUSED, T_STATE, H_CHECK_SEQ, H_GENERATION } from '../shm/layout.js';
import { decodeTrace, formatEvent } from '../trace/decode.js';
import { loadScenario } from './module.js';
import { colors, colorEnabled } from './color.js';
import { raceReport } from './report.js';
import { bugWords } from '../bugs/catalogue.js';
import { buildWaitGraph, formatWaitGraph, type WaitGraph } from '../check/waitgraph.js';
import type { StatReport } from '../../stress/types.js';
import type { WorkerResult, WorkerTask } from '../../workers/protocol.js';
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
  /** An ES module (path or URL) that exports the scenario, for scenarios defined outside mmtorture. */
  module?: string;
  /** rcutorture stutter: run this long, then hold every thread at the pause barrier (0 = off). */
  stutterMs?: number;
  /** How long a stutter holds the threads (default: a fifth of stutterMs, at least 50 ms). */
  stutterHoldMs?: number;
  /** Every this often, stop the actors at a quiescent point and restart them on other worker threads (0 = off). */
  shuffleMs?: number;
}

/** Run-time hooks that are not configuration (not logged, not in the JSON summary). */
export interface RunHooks {
  /** Stop early, as if the duration had ended (SIGINT/SIGTERM); the reason names the signal. */
  signal?: AbortSignal;
  /** Log into this logger instead of opening cfg.log (the soak's one log). */
  logger?: Logger;
  /** Called every stat interval instead of printing the scenario's stat lines. */
  onStats?: (s: StatSnapshot) => void;
}

/** A worker pool for runs of `threads` actors (one long-running task per worker). */
export function createPool(threads: number): Piscina {
  return new Piscina({
    filename: workerFile(),
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
    idleTimeout: 60_000,
  });
}

export type RunStatus = 'SUCCESS' | 'FAILURE' | 'HANG' | 'ERROR' | 'INTERRUPTED';

/** Process memory, in MiB. */
export interface MemorySample {
  rssMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
}

/*
 * A full garbage collection on the main thread, before every run. The
 * previous runs' arenas and worker threads are garbage, but the main thread
 * allocates so little that V8 would not collect them for a long time: in a
 * process that runs many (soak, validate, bench, a test suite) RSS would
 * creep up by about 1 MiB a run. (v8's documented way to reach gc() without
 * starting node with --expose-gc.)
 */
let gc: (() => void) | null = null;
function collectGarbage(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc') as () => void;
  }
  gc();
}

export function memorySample(): MemorySample {
  const m = process.memoryUsage();
  const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;
  return { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), externalMiB: mib(m.external + m.arrayBuffers) };
}

/** What a stat interval saw: for stat lines and the log. */
export interface StatSnapshot {
  scenario: string;
  elapsedMs: number;
  ops: number;
  /** Operations per second over the last interval. */
  opsPerSec: number;
  violations: number;
  stats: StatReport;
  lockStat: LockStatRow[];
  memory: MemorySample;
  checks: number;
  stutters: number;
  shuffles: number;
}

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
  /** What the scenario says about this thread count (an actor kind left out, say). */
  notes: string[];
  stats: StatReport;
  lockStat: LockStatRow[];
  violationCount: number;
  violations: DecodedViolation[];
  /** Time from start to the first violation (ms), if any. */
  firstViolationMs: number | null;
  hang: null | { blockedMs: number; graph: WaitGraph; report: string[] };
  errors: string[];
  /** A worker that threw or died: who, what, and its last flight-recorder events. */
  crash: null | { tid: number; role: string; error: string; lastEvents: string[] };
  /** Quiescent checks run during the run (and skipped because an actor could not park). */
  checks: { done: number; skipped: number };
  /** Stutter holds and shuffles done; actor moves: restarts that landed on another worker thread. */
  stutters: number;
  shuffles: { done: number; moved: number };
  /** The signal that ended the run early, if any. */
  interrupted: string | null;
  /** The race report of the first violation (kernel-splat text). */
  report: string[];
  memory: MemorySample;
}

export interface RunIO {
  out: (line: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  /** Colour the status and the report titles (see color.ts). */
  color?: boolean;
}

const defaultIO: RunIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
  color: colorEnabled(Boolean(process.stderr.isTTY)),
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

/** Exit code of a run a signal ended early with nothing found: 128 + the signal number. */
export function signalExitCode(sig: string): number {
  return sig === 'SIGTERM' ? 143 : sig === 'SIGHUP' ? 129 : 130;
}

/**
 * The run lifecycle (DESIGN.md): build the arena, start one long-running
 * task per thread behind a barrier, sample progress, watch for hangs and
 * violations, stutter and shuffle, stop, join (never hang), report.
 */
export async function runScenario(cfg: RunConfig, io: RunIO = defaultIO, hooks: RunHooks = {}): Promise<RunResult> {
  collectGarbage(); // what earlier runs left: memory stays flat over many runs
  const scenario = await loadScenario(cfg.scenario, cfg.module);
  const [bugs0, bugs1] = bugWords(cfg.bugs);
  const ownLogger = !hooks.logger && cfg.log
    ? pino({ level: cfg.logLevel ?? 'info', base: { scenario: cfg.scenario } }, pino.destination({ dest: cfg.log, sync: true, mkdir: true }))
    : null;
  const logger = hooks.logger ?? ownLogger;
  const { progress, quiet, ...loggedConfig } = cfg;
  logger?.info({ phase: 'setup', config: loggedConfig }, 'setup');

  const sopts = { model: { ...modelDefaults(cfg.threads), ...(cfg.model ?? {}) } };
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
  const notes = scenario.notes?.(cfg.threads) ?? [];
  if (!quiet) for (const n of notes) io.err(`${cfg.scenario}: ${n}\n`);
  const i32 = arena.i32;

  const pool = createPool(cfg.threads);
  const errors: string[] = [];
  let crashed = false;
  let crash: RunResult['crash'] = null;
  const onCrash = (tid: number, error: string, how: string) => {
    crashed = true;
    errors.push(`worker ${tid} (${roles[tid]}) ${how}: ${error.split('\n')[0]}`);
    crash ??= { tid, role: roles[tid], error, lastEvents: [] };
    Atomics.store(i32, H_STOP, 1);
    Atomics.store(i32, H_ABORT, 1);
  };
  // Which worker thread ran each actor last (a shuffle moves actors between them).
  const threadOf: number[] = new Array(cfg.threads).fill(-1);
  let moved = 0;
  /** Start one long-running task per actor, handed to the pool in `order`. */
  const launch = (order: readonly number[]): Promise<unknown> => Promise.all(order.map((tid) => {
    const task: WorkerTask = { sab: arena.sab, tid, scenario: cfg.scenario, role: roles[tid], module: cfg.module };
    return pool.run(task).then(
      (r: WorkerResult) => {
        if (threadOf[tid] >= 0 && r.threadId !== threadOf[tid]) moved++;
        threadOf[tid] = r.threadId ?? -1;
        if (r.outcome === 'error') onCrash(tid, r.error ?? 'unknown error', 'crashed');
      },
      (e: unknown) => onCrash(tid, e instanceof Error ? e.message : String(e), 'died'),
    );
  }));
  /** The start barrier: every actor attached and waiting for H_GO. */
  const barrier = async (): Promise<void> => {
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
    Atomics.store(i32, H_GO, 1);
    Atomics.notify(i32, H_GO);
  };
  const tids = roles.map((_, tid) => tid);
  let allDone = launch(tids);
  await barrier();
  const t0 = performance.now();
  const goAt = arena.now(); // violation timestamps are on the arena clock
  logger?.info({ phase: 'run', threads: cfg.threads, roles, notes }, 'run');

  const running = () => tids.filter((tid) => i32[arena.pt(tid) + T_STATE] !== 3).length;
  /** Hold every running actor at the pause barrier (at most 500 ms to get there). */
  const pauseWorld = async (): Promise<boolean> => {
    Atomics.store(i32, H_PAUSE, 1);
    const until = performance.now() + 500;
    while (performance.now() < until) {
      if (Atomics.load(i32, H_PAUSED) >= running()) return true;
      await sleep(1);
    }
    return false;
  };
  const resumeWorld = () => {
    Atomics.store(i32, H_PAUSE, 0);
    Atomics.notify(i32, H_PAUSE);
  };
  const quiescentViolations: DecodedViolation[] = [];
  let checks = 0;
  let checksSkipped = 0;
  /** The quiescent checks over a parked world. */
  const quiescentCheck = () => {
    checks++;
    Atomics.add(i32, H_CHECK_SEQ, 1);
    const tq = arena.now();
    for (const p of scenario.quiescentCheck?.(arena) ?? []) {
      quiescentViolations.push({ kind: 'quiescent-invariant', title: `BUG: quiescent check: ${p}`, tid: -1, op: 0, obj: 0, args: {}, timeMs: tq });
    }
  };
  const doChecks = Boolean(scenario.quiescentCheck) && cfg.checks !== false;

  // Run loop: progress, stats, watchdog, checks, stutter, shuffle.
  let lastOps = 0;
  let lastProgressAt = t0;
  let lastLine = t0;
  let lastStat = t0;
  let lastStatOps = 0;
  let lastCheck = t0;
  let lastStutter = t0;
  let lastShuffle = t0;
  let stutters = 0;
  let shuffles = 0;
  let lastOpsChangeAt = t0;
  let watchOps = -1;
  let hang: RunResult['hang'] = null;
  let firstViolationMs: number | null = null;
  let interrupted: string | null = null;
  const tick = 50;
  let linesOpen = false;
  const stutterHold = cfg.stutterMs ? (cfg.stutterHoldMs ?? Math.max(50, cfg.stutterMs / 5)) : 0;
  const printStats = (final: boolean) => {
    if (quiet) return;
    const rep = scenario.stats(arena, performance.now() - t0, final);
    const head = `${cfg.scenario}: ${final ? 'End of test' : `t=${formatDuration(performance.now() - t0)}`}`;
    if (linesOpen) io.err('\n');
    linesOpen = false;
    io.out(head);
    for (const l of rep.lines) io.out('  ' + l);
  };
  const stopped = () => Atomics.load(i32, H_STOP) !== 0 || crashed || (quiescentViolations.length > 0 && !cfg.keepGoing);
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
    if (stopped()) break; // a violation (or a crash) stopped the run
    if (hooks.signal?.aborted) {
      // The CLI aborts with the signal's name; a library caller may abort with anything.
      interrupted = typeof hooks.signal.reason === 'string' ? hooks.signal.reason : 'abort';
      break;
    }
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
      logger?.info({ phase: 'progress', elapsedMs: Math.round(elapsed), ops, opsPerSec: Math.round(rate), violations: violationCount(arena) }, 'progress');
    }
    const checkDue = doChecks && Boolean(cfg.checkIntervalMs) && now - lastCheck >= (cfg.checkIntervalMs ?? 0);
    if (cfg.stutterMs && now - lastStutter >= cfg.stutterMs) {
      // rcutorture's stutter: every thread idles at once, then all resume.
      const parked = await pauseWorld();
      // Only a hold every thread reached is not a hang; a thread that could
      // not park keeps the watchdog's clock running.
      if (parked) {
        stutters++;
        if (checkDue) {
          quiescentCheck();
          lastCheck = performance.now();
        }
        const until = performance.now() + stutterHold;
        while (performance.now() < until && !hooks.signal?.aborted) await sleep(Math.min(tick, until - performance.now()));
      } else if (checkDue) checksSkipped++;
      resumeWorld();
      lastStutter = performance.now();
      if (parked) lastOpsChangeAt = lastStutter;
      if (stopped()) break;
    } else if (checkDue) {
      // Stop the world at the pause barrier, check, resume.
      if (await pauseWorld()) quiescentCheck();
      else checksSkipped++;
      resumeWorld();
      lastCheck = performance.now();
      if (stopped()) break;
    }
    if (cfg.shuffleMs && now - lastShuffle >= cfg.shuffleMs && elapsed + tick < cfg.durationMs) {
      // Stop every actor at a quiescent point (between operations), then
      // hand them to the pool in a new order: actors restart on other worker
      // threads with fresh thread-local state; the shared world carries on.
      Atomics.store(i32, H_STOP, 1);
      const joined = await Promise.race([allDone.then(() => true), deadline(Math.max(2000, cfg.watchdogMs))]);
      if (!joined) {
        const graph = buildWaitGraph(arena);
        hang = { blockedMs: performance.now() - now, graph, report: formatWaitGraph(graph, performance.now() - now) };
        break;
      }
      if (crashed || (!cfg.keepGoing && violationCount(arena) > 0)) break;
      shuffles++;
      if (doChecks) quiescentCheck();
      if (quiescentViolations.length && !cfg.keepGoing) break;
      Atomics.store(i32, H_READY, 0);
      Atomics.store(i32, H_GO, 0);
      Atomics.store(i32, H_STOP, 0);
      // Count every actor as running again before it is, so no pause barrier
      // passes before the restarted actors have parked too; and give them new
      // random streams (Task mixes the generation into its seed).
      for (const tid of tids) Atomics.store(i32, arena.pt(tid) + T_STATE, 1);
      Atomics.add(i32, H_GENERATION, 1);
      allDone = launch(shuffled(tids, cfg.seed + shuffles));
      await barrier();
      lastShuffle = performance.now();
      lastOpsChangeAt = lastShuffle;
      logger?.info({ phase: 'shuffle', shuffles, moved }, 'shuffle');
    }
    if (now - lastStat >= cfg.statIntervalMs) {
      const tnow = performance.now();
      const snap: StatSnapshot = {
        scenario: cfg.scenario, elapsedMs: tnow - t0, ops, opsPerSec: ((ops - lastStatOps) * 1000) / (tnow - lastStat),
        violations: violationCount(arena) + quiescentViolations.length, stats: scenario.stats(arena, tnow - t0, false),
        lockStat: lockStat(arena), memory: memorySample(), checks, stutters, shuffles,
      };
      lastStat = tnow;
      lastStatOps = ops;
      logger?.info({ phase: 'stats', elapsedMs: Math.round(snap.elapsedMs), ops, opsPerSec: Math.round(snap.opsPerSec), violations: snap.violations, stats: snap.stats.data, memory: snap.memory, checks, stutters, shuffles }, 'stats');
      if (hooks.onStats) {
        if (linesOpen) io.err('\r\x1b[K'); // the hook prints whole lines
        linesOpen = false;
        hooks.onStats(snap);
      } else printStats(false);
    }
    if (elapsed >= cfg.durationMs) break;
  }
  if (linesOpen) {
    io.err('\n');
    linesOpen = false;
  }
  resumeWorld();

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
  const events = cfg.trace === false ? [] : decodeTrace(arena);
  const theCrash = crash as RunResult['crash'];
  if (theCrash) {
    theCrash.lastEvents = events.filter((e) => e.tid === theCrash.tid).slice(-20).map(formatEvent);
  }
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
  } else if (interrupted) {
    status = 'INTERRUPTED';
    exitCode = signalExitCode(interrupted);
  } else {
    status = 'SUCCESS';
    exitCode = EXIT_CLEAN;
  }

  const result: RunResult = {
    status, exitCode, scenario: cfg.scenario, config: loggedConfig, durationMs, ops,
    opsPerSec: ops / (durationMs / 1000), perThreadOps: perThreadOps(arena), roles, notes, stats,
    lockStat: lockStat(arena), violationCount: nViol, violations, firstViolationMs, hang, errors, crash: theCrash,
    checks: { done: checks, skipped: checksSkipped }, stutters, shuffles: { done: shuffles, moved }, interrupted,
    report: violations.length ? raceReport(arena, violations[0], events, roles, cfg.rerun) : [],
    memory: memorySample(),
  };

  // Reports.
  violations.forEach((v, i) => logger?.error({ phase: 'violation', violation: v, ...(i === 0 ? { report: result.report } : {}) }, v.title));
  if (hang) logger?.error({ phase: 'hang', blockedMs: hang.blockedMs, cycle: hang.graph.cycle, threads: hang.graph.threads, report: hang.report }, 'watchdog: no progress');
  errors.forEach((e, i) => logger?.error({ phase: 'error', error: e, ...(theCrash && i === 0 ? { crash: theCrash } : {}) }, 'harness error'));
  if (interrupted) logger?.warn({ phase: 'interrupted', signal: interrupted, elapsedMs: Math.round(durationMs) }, `interrupted by ${interrupted}`);
  if (!quiet) {
    const paint = colors(io.color);
    printStats(true);
    for (const l of formatLockStat(result.lockStat)) io.out(l);
    violations.slice(0, 5).forEach((v, i) => {
      const lines = i === 0 ? result.report : formatViolation(v);
      io.err('\n' + [paint.red(lines[0]), ...lines.slice(1)].join('\n') + '\n');
    });
    if (violations.length > 5) io.err(`(${violations.length - 5} more violations: see --json / --log)\n`);
    if (nViol > violations.length) io.err(`(${nViol - violations.length} more violations not recorded: capacity ${arena.violCap})\n`);
    if (hang) io.err('\n' + [paint.red(`watchdog: no thread made progress for ${formatDuration(hang.blockedMs)}`), ...hang.report].join('\n') + '\n');
    for (const e of errors) io.err(paint.red(e) + '\n');
    if (theCrash) {
      io.err(`  ${theCrash.error.split('\n').slice(1, 6).join('\n  ')}\n`);
      if (theCrash.lastEvents.length) io.err(`  last events of mmtorture/${theCrash.tid} (${theCrash.role}):\n${theCrash.lastEvents.map((l) => '  ' + l).join('\n')}\n`);
    }
    if (interrupted) io.err(`interrupted by ${interrupted} after ${formatDuration(durationMs)}\n`);
    if (status !== 'SUCCESS' && status !== 'INTERRUPTED' && cfg.rerun) io.err(`rerun: ${cfg.rerun}\n`);
    const extra = [stutters ? `${stutters} stutters` : '', shuffles ? `${shuffles} shuffles (${moved} actor moves)` : ''].filter(Boolean).join(', ');
    io.out(`${cfg.scenario}: ${formatDuration(durationMs)}, ${cfg.threads} threads, ${si(ops)} ops (${si(result.opsPerSec)}/s), ${nViol} violations${extra ? ', ' + extra : ''}: ${paint.status(status)}`);
  }
  logger?.info({ phase: 'summary', status, exitCode, ops, durationMs: Math.round(durationMs), violations: nViol, stats: stats.data, lockStat: result.lockStat, memory: result.memory, stutters, shuffles, rerun: cfg.rerun }, 'summary');
  ownLogger?.flush();
  if (cfg.json) writeFileSync(cfg.json, JSON.stringify(result, null, 2) + '\n');
  return result;
}

/** A seeded permutation of `xs` (Fisher-Yates over a xorshift32 stream). */
export function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs];
  let x = (seed | 0) || 0x6d2b79f5;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}
