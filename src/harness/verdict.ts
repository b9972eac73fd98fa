import { writeOutput } from './output.js';
import type { Arena } from '../shm/arena.js';
import { buildWaitGraph, formatWaitGraph } from '../check/waitgraph.js';
import { decodeTrace, formatEvent } from '../trace/decode.js';
import { colors } from './color.js';
import { raceReport, raceStory } from './report.js';
import { objectNamer } from '../trace/names.js';
import { perThreadOps, lockStat, formatLockStat, decodeViolations, formatViolation, violationCount, totalOps } from './collect.js';
import { EXIT_CLEAN, EXIT_HARNESS, EXIT_VIOLATION } from './errors.js';
import { formatDuration, si } from './parse.js';
import type { RunResult, RunStatus } from './run-types.js';
import { memorySample, signalExitCode } from './pool.js';
import type { ScenarioRun } from './lifecycle.js';
import { ctlOutcome } from '../sync/ctl.js';

/* The last two phases of a run (lifecycle.ts has the others): verdict and report. */

/** A hang report: the wait-for graph now, before anything is unwound. */
export function hangOf(arena: Arena, blockedMs: number): NonNullable<RunResult['hang']> {
  const graph = buildWaitGraph(arena);
  const namer = objectNamer(arena);
  return { blockedMs, graph, report: formatWaitGraph(graph, blockedMs, (a) => (namer.objectOf(a) ? namer.name(a) : `lock @${a}`)) };
}

/** Phase 5: the final checks over the stopped world, the status and the result. */
export function verdict(run: ScenarioRun): RunResult {
  const { cfg, arena, scenario, errors, hang, crashed, durationMs } = run;
  const ops = totalOps(arena);
  const stats = scenario.stats(arena, durationMs, true);
  const violations = decodeViolations(arena);
  violations.push(...run.quiescentViolations);
  // Quiescent checks at the end, only over a cleanly stopped world.
  if (scenario.finalCheck && cfg.checks !== false && !crashed && !hang && errors.length === 0) {
    const t1 = arena.now();
    for (const p of scenario.finalCheck(arena, violations.length === 0 && violationCount(arena) === 0)) {
      violations.push({ kind: 'quiescent-invariant', title: `BUG: quiescent check: ${p}`, tid: -1, op: 0, obj: 0, args: {}, timeMs: t1 });
    }
  }
  const nViol = Math.max(violationCount(arena), violations.length);
  // Time to detect, from the violation's own timestamp (the loop only samples every tick).
  let firstViolationMs = run.firstViolationMs;
  if (violations.length) firstViolationMs = Math.max(0, violations[0].timeMs - run.goAt);
  else if (firstViolationMs === null && nViol > 0) firstViolationMs = durationMs;
  const events = cfg.trace === false ? [] : decodeTrace(arena);
  const story = violations.length ? raceStory(arena, violations[0], events, run.roles, { goAt: run.goAt }) : null;
  const namer = objectNamer(arena);
  const theCrash = run.crash;
  if (theCrash) theCrash.lastEvents = events.filter((e) => e.tid === theCrash.tid).slice(-20).map(formatEvent);
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
  } else if (run.interrupted) {
    status = 'INTERRUPTED';
    exitCode = signalExitCode(run.interrupted);
  } else {
    status = 'SUCCESS';
    exitCode = EXIT_CLEAN;
  }
  return {
    status, exitCode, scenario: cfg.scenario, config: run.loggedConfig, durationMs, ops,
    opsPerSec: ops / (durationMs / 1000), perThreadOps: perThreadOps(arena), roles: run.roles, notes: run.notes, stats,
    lockStat: lockStat(arena), violationCount: nViol, violations, firstViolationMs, hang, errors, crash: theCrash,
    checks: { done: run.checks, skipped: run.checksSkipped }, stutters: run.stutters, shuffles: { done: run.shuffles, moved: run.moved },
    interrupted: run.interrupted,
    report: story ? raceReport(arena, violations[0], events, run.roles, cfg.rerun, { goAt: run.goAt }, story) : [],
    story,
    memory: memorySample(),
    ...(run.controlled ? { schedule: ctlOutcome(arena, (a) => { const n = namer.name(a); return n.startsWith('@') ? null : n; }) } : {}),
  };
}

/** Phase 6: the log records, the printed report and summary line, the JSON file. */
export function report(run: ScenarioRun, result: RunResult): void {
  const { cfg, io, logger } = run;
  const { violations, hang, errors, crash, interrupted, status, durationMs, ops } = result;
  const nViol = result.violationCount;
  const namer = objectNamer(run.arena);
  const named = (addr: number) => (namer.objectOf(addr) ? namer.name(addr) : null);
  violations.forEach((v, i) => logger?.error({ phase: 'violation', violation: v, ...(i === 0 ? { report: result.report, story: result.story, roles: result.roles } : { lines: formatViolation(v, named) }) }, v.title));
  if (hang) logger?.error({ phase: 'hang', blockedMs: hang.blockedMs, cycle: hang.graph.cycle, threads: hang.graph.threads, report: hang.report }, 'watchdog: no progress');
  errors.forEach((e, i) => logger?.error({ phase: 'error', error: e, ...(crash && i === 0 ? { crash } : {}) }, 'harness error'));
  if (interrupted) logger?.warn({ phase: 'interrupted', signal: interrupted, elapsedMs: Math.round(durationMs) }, `interrupted by ${interrupted}`);
  if (!cfg.quiet) {
    const paint = colors(io.color);
    run.printStats(true);
    for (const l of formatLockStat(result.lockStat)) io.out(l);
    violations.slice(0, 5).forEach((v, i) => {
      const lines = i === 0 ? result.report : formatViolation(v, named);
      io.err('\n' + [paint.red(lines[0]), ...lines.slice(1)].join('\n') + '\n');
    });
    if (violations.length > 5) io.err(`(${violations.length - 5} more violations: see --json / --log)\n`);
    if (nViol > violations.length) io.err(`(${nViol - violations.length} more violations not recorded: capacity ${run.arena.violCap})\n`);
    if (hang) io.err('\n' + [paint.red(`watchdog: no thread made progress for ${formatDuration(hang.blockedMs)}`), ...hang.report].join('\n') + '\n');
    for (const e of errors) io.err(paint.red(e) + '\n');
    if (crash) {
      io.err(`  ${crash.error.split('\n').slice(1, 6).join('\n  ')}\n`);
      if (crash.lastEvents.length) io.err(`  last events of mmtorture/${crash.tid} (${crash.role}):\n${crash.lastEvents.map((l) => '  ' + l).join('\n')}\n`);
    }
    if (interrupted) io.err(`interrupted by ${interrupted} after ${formatDuration(durationMs)}\n`);
    if (status !== 'SUCCESS' && status !== 'INTERRUPTED' && cfg.rerun) io.err(`rerun: ${cfg.rerun}\n`);
    const sh = result.shuffles;
    const extra = [result.stutters ? `${result.stutters} stutters` : '', sh.done ? `${sh.done} shuffles (${sh.moved} actor moves)` : ''].filter(Boolean).join(', ');
    io.out(`${cfg.scenario}: ${formatDuration(durationMs)}, ${cfg.threads} threads, ${si(ops)} ops (${si(result.opsPerSec)}/s), ${nViol} violations${extra ? ', ' + extra : ''}: ${paint.status(status)}`);
  }
  logger?.info({ phase: 'summary', status, exitCode: result.exitCode, ops, durationMs: Math.round(durationMs), violations: nViol, stats: result.stats.data, lockStat: result.lockStat, memory: result.memory, stutters: result.stutters, shuffles: result.shuffles.done, rerun: cfg.rerun }, 'summary');
  if (cfg.json) writeOutput(cfg.json, JSON.stringify(result, null, 2) + '\n');
}
