import os from 'node:os';
import { CHECK_INTERVAL_DEFAULT_MS } from '../../stress/types.js';
import { writeOutput } from './output.js';
import type { Shard } from './soak.js';
import { BUGS, findBug, unknownBugMessage, type BugEntry } from '../bugs/catalogue.js';
import { SCENARIOS, findScenario } from '../../stress/index.js';
import { rerunCommand } from './rerun.js';
import { runScenario, type RunConfig, type RunIO, type RunResult, type RunStatus } from './run.js';
import { UsageError } from './errors.js';
import { formatDuration, si } from './parse.js';
import type { Era } from '../mm/era.js';
import { exploreSchedules } from './controlled.js';
import { scheduleFileOf, replaySchedule } from './schedule.js';
import { createPool } from './pool.js';

/** The PCT column: depth, operations per actor, step budget of a run, replays of the schedule found, schedules per clean configuration. */
export const PCT_DEPTH = 3;
export const PCT_OPS_DEFAULT = 8;
export const PCT_MAX_STEPS = 100_000;
export const PCT_REPLAYS = 10;
export const PCT_CLEAN_SCHEDULES = 10;

/** The clean runs' thread counts unless --clean-threads says otherwise: the pair, an odd count and an oversubscribed one. */
export const DEFAULT_CLEAN_THREADS = [2, 5, 8];

/**
 * `mmtorture validate`: the harness's proof of detection power. Every
 * catalogued bug switch is run against the scenario that should expose it,
 * R times with different seeds, and must be caught every time; every torture
 * scenario must run clean with no bug switched on.
 */
export interface ValidateOptions {
  /** Runs per bug (each with seed + i). */
  runs: number;
  /** Time limit of one bug run (ms). */
  timeoutMs: number;
  /** Duration of each clean scenario run (ms). */
  cleanMs: number;
  /** Bug ids to validate (default: the whole catalogue). */
  bugs?: string[];
  /** Scenarios to run clean (default: every scenario but the self-tests). */
  scenarios?: string[];
  /** Threads: a bug run uses max(entry.threads, threads). */
  threads?: number;
  /** Thread counts of the clean runs: every clean scenario runs at each (default 2, 5, 8). */
  cleanThreads?: number[];
  /** Base seed (default: random, printed). */
  seed?: number;
  /** Write the report as JSON to this file. */
  json?: string;
  /**
   * Also hunt every mm entry from `mixed` with its defaults (default true):
   * `run mixed --bug X` at the default thread count, jitter and windows,
   * with --era e3 for E3 entries — what a race hunter who does not know the
   * bug would run.
   */
  mixed?: boolean;
  /**
   * Also hunt every mm entry in its tuned row with precondition assertions
   * off (--no-direct-asserts): detection through the race's consequence.
   */
  indirect?: boolean;
  /** Threads of the mixed hunt (default: os.availableParallelism(), run's default). */
  mixedThreads?: number;
  /** Run the clean scenarios (default true); with --bug and no scenarios, only those the chosen bugs use. */
  clean?: boolean;
  /** --shard i/N: the bug entries and clean runs j with j mod N = i-1, seeds as unsharded (merged shards equal one validate). */
  shard?: Shard;
  /**
   * The PCT column (default true): every entry's tuned row under the
   * controlled PCT scheduler (depth 3), schedule seeds seed, seed + 1, ...
   * for up to the timeout; the schedule found replayed PCT_REPLAYS times;
   * and every clean configuration under PCT_CLEAN_SCHEDULES PCT schedules.
   */
  pct?: boolean;
  /** Operations per actor in the PCT column (default PCT_OPS_DEFAULT). */
  pctOps?: number;
  /** SIGINT/SIGTERM: stop after abandoning the current run; the table so far and the JSON say interrupted. */
  signal?: AbortSignal;
}

/** An entry under the controlled PCT scheduler. */
export interface ValidatePctCell {
  found: boolean;
  /** Schedules run (to the one that failed, or all within the budget). */
  schedules: number;
  /** Steps over all schedules up to the violation, and the violation's step in its own run. */
  stepsToDetect: number | null;
  violationStep: number | null;
  ms: number;
  oracle: string | null;
  /** Replays of the schedule found that reached the same violation at the same step with the same report and schedule. */
  replayed: number;
  replays: number;
  scheduleSeed: number | null;
  errors: string[];
}

export interface ValidateRun {
  seed: number;
  status: RunStatus;
  detected: boolean;
  /** Time from start to the first violation (ms), if detected. */
  timeMs: number | null;
  /** The violation kind that fired first. */
  oracle: string | null;
  violations: number;
  durationMs: number;
}

export interface ValidateBugRow {
  id: string;
  scenario: string;
  threads: number;
  /** Runs that ended in FAILURE (the bug was caught). */
  detected: number;
  runs: number;
  medianMs: number | null;
  maxMs: number | null;
  /** Distinct first-firing violation kinds, most frequent first. */
  oracles: string[];
  /** Oracles that fired but are not in the catalogue entry's symptom list. */
  unexpectedOracles: string[];
  perRun: ValidateRun[];
  /** The same bug hunted from `mixed` with its defaults (mm entries, unless --no-mixed). */
  mixed?: { threads: number; detected: number; runs: number; medianMs: number | null; maxMs: number | null; oracles: string[]; perRun: ValidateRun[] };
  /** The tuned row again with --no-direct-asserts (mm entries, with --indirect). */
  indirect?: { scenario: string; era: Era; detected: number; runs: number; medianMs: number | null; maxMs: number | null; oracles: string[]; perRun: ValidateRun[] };
  /** The tuned row under the PCT scheduler (unless --no-pct). */
  pct?: ValidatePctCell;
}

export interface ValidateCleanRow {
  scenario: string;
  threads: number;
  durationMs: number;
  ops: number;
  violations: number;
  status: RunStatus;
  /** The same configuration under PCT_CLEAN_SCHEDULES PCT schedules (unless --no-pct). */
  pct?: { schedules: number; steps: number; violations: number; errors: string[] };
}

export interface ValidateReport {
  date: string;
  machine: { cpu: string; cores: number; node: string };
  runs: number;
  timeoutMs: number;
  cleanMs: number;
  seed: number;
  bugs: ValidateBugRow[];
  clean: ValidateCleanRow[];
  pass: boolean;
  /** The shard this report covers ("i/N"), or null for the whole matrix. */
  shard: string | null;
  host: string;
  /** The signal that stopped validate early, or null; an interrupted validate never passes. */
  interrupted: string | null;
}

const defaultIO: RunIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
};
const silentIO: RunIO = { out: () => undefined, err: () => undefined, isTTY: false };

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function runConfig(scenario: string, threads: number, durationMs: number, seed: number, bugs: string[], era: Era = 1, jitter?: number): RunConfig {
  return {
    scenario, threads, durationMs, seed: seed | 0, bugs,
    watchdogMs: 10_000, statIntervalMs: Math.max(durationMs, 60_000), keepGoing: false,
    quiet: true, progress: false, model: { era }, jitter, checkIntervalMs: 1000,
  };
}

/**
 * One entry's tuned row under PCT: schedules until one fails (or the
 * budget), then its schedule file replayed PCT_REPLAYS times.
 */
async function pctCell(base: RunConfig, seed: number, ops: number, budgetMs: number, signal?: AbortSignal): Promise<ValidatePctCell> {
  const pool = createPool(base.threads);
  try {
    const ex = await exploreSchedules(base, { mode: 'pct', seed, depth: PCT_DEPTH, ops: [ops], maxSteps: PCT_MAX_STEPS, budgetMs, maxRuns: Number.MAX_SAFE_INTEGER, signal }, { pool });
    const cell: ValidatePctCell = {
      found: Boolean(ex.found), schedules: ex.runs, stepsToDetect: ex.stepsToDetect, violationStep: ex.found?.schedule?.violationStep ?? null,
      ms: ex.elapsedMs, oracle: ex.found?.violations[0]?.kind ?? null, replayed: 0, replays: 0, scheduleSeed: ex.schedule?.seed ?? null, errors: ex.errors,
    };
    if (ex.found && ex.schedule) {
      const file = scheduleFileOf({ ...base, schedule: ex.schedule }, ex.found);
      for (let k = 0; k < PCT_REPLAYS; k++) {
        cell.replays++;
        if ((await replaySchedule(file, { pool })).same) cell.replayed++;
      }
    }
    return cell;
  } finally {
    await pool.destroy().catch(() => undefined);
  }
}

/** The rerun command of a missed run: exactly the configuration validate ran (check interval included). */
function rerunLine(b: BugEntry, threads: number, timeoutMs: number, seed: number): string {
  const cfg = runConfig(b.scenario, threads, timeoutMs, seed, [b.id], b.era ?? 1, b.jitter ?? 0);
  return rerunCommand({ ...cfg, duration: formatDuration(timeoutMs), usesModel: Boolean(findScenario(b.scenario)?.usesModel), params: [] });
}

function table(head: string[], rows: string[][], rightAlign: boolean[]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (cells: string[]) =>
    cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return ['  ' + fmt(head), ...rows.map((r) => '  ' + fmt(r))];
}

const ms = (x: number | null) => (x === null ? '-' : String(Math.round(x)));

function detectedCell(r: ValidateBugRow): string {
  const missed = new Map<string, number>();
  for (const p of r.perRun) {
    if (p.detected) continue;
    const why = p.status === 'SUCCESS' ? 'missed' : p.status;
    missed.set(why, (missed.get(why) ?? 0) + 1);
  }
  const extra = [...missed].map(([why, n]) => `${n} ${why}`).join(', ');
  return `${r.detected}/${r.runs}${extra ? ` (${extra})` : ''}`;
}

export function oracleCell(r: ValidateBugRow): string {
  if (r.oracles.length === 0) return '-';
  const counts = new Map<string, number>();
  for (const p of r.perRun) if (p.detected) counts.set(p.oracle ?? '?', (counts.get(p.oracle ?? '?') ?? 0) + 1);
  return r.oracles
    .map((o) => `${o}${r.oracles.length > 1 ? ` ×${counts.get(o)}` : ''}${r.unexpectedOracles.includes(o) ? ' (unexpected)' : ''}`)
    .join(', ');
}

export async function runValidate(opts: ValidateOptions, io: RunIO = defaultIO): Promise<ValidateReport> {
  const bugIdsWanted = opts.bugs && opts.bugs.length ? [...new Set(opts.bugs)] : BUGS.map((b) => b.id);
  const entries = bugIdsWanted.map((id) => {
    const b = findBug(id);
    if (!b) throw new UsageError(unknownBugMessage(id));
    return b;
  });
  const cleanValid = SCENARIOS.filter((s) => !s.selftest).map((s) => s.name);
  // Chosen bugs without chosen scenarios: the clean runs of the scenarios they use (and mixed, which hunts the mm ones).
  const used = [...new Set(entries.flatMap((b) => [b.scenario, ...(opts.mixed !== false && findScenario(b.scenario)?.usesModel ? ['mixed'] : [])]))];
  const cleanNames = opts.clean === false ? [] : opts.scenarios ? [...new Set(opts.scenarios)] : opts.bugs && opts.bugs.length ? cleanValid.filter((n) => used.includes(n)) : cleanValid;
  for (const n of cleanNames) {
    if (!findScenario(n) || !cleanValid.includes(n)) throw new UsageError(`invalid clean scenario '${n}' (valid: ${cleanValid.join(', ')})`);
  }
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new UsageError(`invalid runs '${opts.runs}' (expected an integer >= 1)`);
  const seed = (opts.seed ?? (Date.now() ^ (process.pid << 8))) >>> 0;
  const extraThreads = opts.threads ?? 0;

  const cleanThreads = opts.cleanThreads ?? DEFAULT_CLEAN_THREADS;
  const cleanRuns: [string, string, Era, number][] = [];
  for (const name of cleanNames) {
    const eras: [string, Era][] = findScenario(name)?.usesModel ? [[`${name} (E1)`, 1], [`${name} (E3)`, 3]] : [[name, 1]];
    for (const [label, era] of eras) for (const t of cleanThreads) cleanRuns.push([name, label, era, t]);
  }
  // The shard's part: item j of [bug entries..., clean runs...] when j mod N = i-1.
  const mine = (j: number) => !opts.shard || j % opts.shard.count === opts.shard.index - 1;
  const myEntries = entries.filter((_, k) => mine(k));
  const myClean = cleanRuns.filter((_, c) => mine(entries.length + c));
  const mixedThreads = opts.mixedThreads ?? os.availableParallelism();
  const withPct = opts.pct !== false;
  const pctOps = opts.pctOps ?? PCT_OPS_DEFAULT;
  const columns = (b: BugEntry) => 1 + (opts.mixed !== false && findScenario(b.scenario)?.usesModel ? 1 : 0) + (opts.indirect && findScenario(b.scenario)?.usesModel ? 1 : 0);
  const bugRuns = myEntries.reduce((a, b) => a + columns(b) * opts.runs, 0);
  const pctRows = withPct ? myEntries.length : 0;
  const totalRuns = bugRuns + pctRows + myClean.length;
  const host = os.hostname();
  io.out(`mmtorture validate: ${myEntries.length} bugs × ${opts.runs} runs${opts.mixed !== false ? ' (+ the mixed hunt for mm bugs)' : ''}${opts.indirect ? ' (+ without direct asserts)' : ''}${withPct ? ' (+ PCT)' : ''} = ${bugRuns} bug runs${withPct ? ` + ${pctRows} PCT hunts` : ''} (timeout ${formatDuration(opts.timeoutMs)} each), ` +
    `${myClean.length ? `${myClean.length} clean runs (${formatDuration(opts.cleanMs)} each: ${cleanNames.length} scenarios, mm ones in E1 and E3, at ${cleanThreads.join(', ')} threads)` : 'no clean runs'}; at most ${formatDuration((bugRuns + pctRows) * opts.timeoutMs + myClean.length * opts.cleanMs)}; seed=${seed}`);
  if (opts.shard) io.out(`shard ${opts.shard.index}/${opts.shard.count} on ${host}: bug entries and clean runs j with j mod ${opts.shard.count} = ${opts.shard.index - 1} of ${entries.length} + ${cleanRuns.length}; seeds as unsharded, so the merged shards are one validate`);
  const started = performance.now();
  let done = 0;
  let worstLeftMs = (bugRuns + pctRows) * opts.timeoutMs + myClean.length * opts.cleanMs;
  let interrupted: string | null = null;
  /** A signal came: no further run starts. */
  const stopNow = () => {
    if (!interrupted && opts.signal?.aborted) interrupted = typeof opts.signal.reason === 'string' ? opts.signal.reason : 'abort';
    return interrupted !== null;
  };
  /** One finished run: a progress line with the share done, the time so far and the most that is left. */
  const progress = (what: string, plannedMs: number) => {
    done++;
    worstLeftMs -= plannedMs;
    io.err(`[${done}/${totalRuns} ${Math.floor((100 * done) / Math.max(1, totalRuns))}% ${formatDuration(performance.now() - started)}, at most ${formatDuration(Math.max(0, worstLeftMs))} left] ${what}\n`);
  };

  /** `runs` runs of one configuration (seed + i each): what happened and how fast it was caught. */
  const hunt = async (b: BugEntry, label: string, cfgOf: (runSeed: number) => RunConfig) => {
    const perRun: ValidateRun[] = [];
    for (let i = 0; i < opts.runs && !stopNow(); i++) {
      const runSeed = (seed + i) >>> 0;
      let r: RunResult;
      try {
        r = await runScenario(cfgOf(runSeed), silentIO, { signal: opts.signal });
      } catch (e) {
        perRun.push({ seed: runSeed, status: 'ERROR', detected: false, timeMs: null, oracle: null, violations: 0, durationMs: 0 });
        io.err(`validate: ${b.id} seed ${runSeed}: ${e instanceof Error ? e.message : String(e)}\n`);
        progress(`${label} run ${i + 1}/${opts.runs}: ERROR`, opts.timeoutMs);
        continue;
      }
      if (r.status === 'INTERRUPTED' || (opts.signal?.aborted && r.status === 'SUCCESS')) {
        // Abandoned, not missed: it counts neither way.
        interrupted = r.interrupted ?? (typeof opts.signal?.reason === 'string' ? opts.signal.reason : 'abort');
        break;
      }
      const detected = r.status === 'FAILURE';
      progress(`${label} run ${i + 1}/${opts.runs}: ${detected ? `caught in ${formatDuration(r.firstViolationMs ?? r.durationMs)} (${r.violations[0]?.kind ?? '?'})` : r.status === 'SUCCESS' ? 'missed' : r.status}`, opts.timeoutMs);
      perRun.push({
        seed: runSeed, status: r.status, detected,
        timeMs: detected ? r.firstViolationMs : null,
        oracle: detected ? (r.violations[0]?.kind ?? null) : null,
        violations: r.violationCount, durationMs: r.durationMs,
      });
    }
    const hits = perRun.filter((p) => p.detected);
    const times = hits.map((p) => p.timeMs).filter((t): t is number => t !== null);
    const counts = new Map<string, number>();
    for (const p of hits) if (p.oracle) counts.set(p.oracle, (counts.get(p.oracle) ?? 0) + 1);
    const oracles = [...counts].sort((x, y) => y[1] - x[1]).map(([o]) => o);
    return { detected: hits.length, runs: perRun.length, medianMs: median(times), maxMs: times.length ? Math.max(...times) : null, oracles, perRun };
  };
  const bugRows: ValidateBugRow[] = [];
  for (const [k, b] of myEntries.entries()) {
    if (stopNow()) break;
    const threads = Math.max(b.threads, extraThreads);
    const h = await hunt(b, b.id, (s) => runConfig(b.scenario, threads, opts.timeoutMs, s, [b.id], b.era ?? 1, b.jitter ?? 0));
    const row: ValidateBugRow = { id: b.id, scenario: b.scenario, threads, ...h, unexpectedOracles: h.oracles.filter((o) => !b.symptom.includes(o)) };
    if (opts.mixed !== false && findScenario(b.scenario)?.usesModel) {
      // run's defaults: mixed's own jitter (none given), quiescent checks every CHECK_INTERVAL_DEFAULT_MS.
      const m = interrupted ? null : await hunt(b, `${b.id} from mixed`, (s) => ({ ...runConfig('mixed', mixedThreads, opts.timeoutMs, s, [b.id], b.era ?? 1), checkIntervalMs: CHECK_INTERVAL_DEFAULT_MS }));
      if (m) row.mixed = { threads: mixedThreads, ...m };
    }
    if (opts.indirect && findScenario(b.scenario)?.usesModel) {
      // The entry's own row, or where its consequence shows (the catalogue's `indirect`, with its reason).
      const scenario = b.indirect?.scenario ?? b.scenario;
      const era = b.indirect?.era ?? b.era ?? 1;
      if (!interrupted) {
        const h = await hunt(b, `${b.id} without direct asserts`, (s) => ({ ...runConfig(scenario, threads, opts.timeoutMs, s, [b.id], era, b.indirect?.jitter ?? b.jitter ?? 0), directAsserts: false, model: { era, perVmaLock: b.indirect?.perVmaLock ?? true } }));
        row.indirect = { scenario, era, ...h };
      }
    }
    if (withPct && !interrupted) {
      row.pct = await pctCell(runConfig(b.scenario, threads, opts.timeoutMs, seed, [b.id], b.era ?? 1), seed, pctOps, opts.timeoutMs, opts.signal);
      progress(`${b.id} under PCT: ${row.pct.found ? `caught after ${row.pct.schedules} schedules, ${si(row.pct.stepsToDetect ?? 0)} steps, ${formatDuration(row.pct.ms)} (${row.pct.oracle}); replayed ${row.pct.replayed}/${row.pct.replays}` : `missed in ${row.pct.schedules} schedules`}`, opts.timeoutMs);
    }
    if (row.runs === 0) break; // interrupted before its first run ended
    bugRows.push(row);
    io.err(`[bug ${k + 1}/${myEntries.length}] ${b.id}: ${detectedCell(row)} detected${row.mixed ? `; from mixed: ${row.mixed.detected}/${row.mixed.runs}` : ''}${row.indirect ? `; without direct asserts: ${row.indirect.detected}/${row.indirect.runs}` : ''}\n`);
  }

  const cleanRows: ValidateCleanRow[] = [];
  for (const [name, label, era, threads] of myClean) {
    if (stopNow()) break;
    let row: ValidateCleanRow;
    try {
      const r = await runScenario(runConfig(name, threads, opts.cleanMs, seed, [], era), silentIO, { signal: opts.signal });
      if (r.status === 'INTERRUPTED' || opts.signal?.aborted) {
        interrupted = r.interrupted ?? (typeof opts.signal?.reason === 'string' ? opts.signal.reason : 'abort');
        break;
      }
      row = { scenario: label, threads, durationMs: r.durationMs, ops: r.ops, violations: r.violationCount, status: r.status };
      if (withPct) {
        const ex = await exploreSchedules(runConfig(name, threads, opts.cleanMs, seed, [], era), { mode: 'pct', seed, depth: PCT_DEPTH, ops: [pctOps], maxSteps: PCT_MAX_STEPS, budgetMs: 60_000, maxRuns: PCT_CLEAN_SCHEDULES, signal: opts.signal });
        row.pct = { schedules: ex.runs, steps: ex.totalSteps, violations: ex.found ? ex.found.violationCount : 0, errors: ex.errors };
      }
    } catch (e) {
      io.err(`validate: clean ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
      row = { scenario: label, threads, durationMs: 0, ops: 0, violations: 0, status: 'ERROR' };
    }
    cleanRows.push(row);
    progress(`clean ${label}, ${threads} threads: ${si(row.ops)} ops, ${row.violations} violations: ${row.status}`, opts.cleanMs);
  }

  const bugsOk = bugRows.filter((r) => r.detected === r.runs).length;
  const cleanOk = cleanRows.filter((r) => r.status === 'SUCCESS' && r.violations === 0 && (!r.pct || (r.pct.violations === 0 && r.pct.errors.length === 0))).length;
  const pass = !interrupted && bugsOk === bugRows.length && cleanOk === cleanRows.length;

  // Report.
  io.out('');
  io.out(`Bugs (${opts.runs} runs each, seeds ${seed}..${(seed + opts.runs - 1) >>> 0}, timeout ${formatDuration(opts.timeoutMs)}):`);
  const mixedCell = (r: ValidateBugRow) => (r.mixed ? `${r.mixed.detected}/${r.mixed.runs}${r.mixed.medianMs === null ? '' : ` ${ms(r.mixed.medianMs)}ms`}` : '-');
  const pctCellText = (r: ValidateBugRow) => (r.pct ? (r.pct.found ? `${r.pct.schedules} sch ${si(r.pct.stepsToDetect ?? 0)} st ${ms(r.pct.ms)}ms ${r.pct.replayed}/${r.pct.replays}` : `missed (${r.pct.schedules} sch)`) : '-');
  const indirectCell = (r: ValidateBugRow) => (r.indirect ? `${r.indirect.scenario !== r.scenario ? `(${r.indirect.scenario}) ` : ''}${r.indirect.detected}/${r.indirect.runs}${r.indirect.medianMs === null ? '' : ` ${ms(r.indirect.medianMs)}ms`}${r.indirect.oracles.length ? ` ${r.indirect.oracles.join(', ')}` : ''}` : '-');
  for (const l of table(
    ['bug', 'scenario', 'threads', 'detected', 'median ms', 'max ms', 'oracle(s)', `mixed (${mixedThreads} thr)`, ...(withPct ? [`PCT d${PCT_DEPTH} (schedules, steps, ms, replayed)`] : []), ...(opts.indirect ? ['no direct asserts'] : [])],
    bugRows.map((r) => [r.id, r.scenario, String(r.threads), detectedCell(r), ms(r.medianMs), ms(r.maxMs), oracleCell(r), mixedCell(r), ...(withPct ? [pctCellText(r)] : []), ...(opts.indirect ? [indirectCell(r)] : [])]),
    [false, false, true, true, true, true, false, true, true],
  )) io.out(l);
  const misses = bugRows.flatMap((r) => r.perRun.filter((p) => !p.detected).map((p) => ({ r, p })));
  if (misses.length) {
    io.out('');
    io.out('Not detected:');
    for (const { r, p } of misses) {
      const b = findBug(r.id) as BugEntry;
      io.out(`  ${r.id} seed ${p.seed}: ${p.status === 'SUCCESS' ? 'no violation' : p.status}; rerun: ${rerunLine(b, r.threads, opts.timeoutMs, p.seed)}`);
    }
  }
  const hunted = bugRows.filter((r) => r.mixed);
  if (hunted.length) {
    const missed = hunted.flatMap((r) => r.mixed!.perRun.filter((p) => !p.detected).map((p) => ({ r, p })));
    io.out('');
    io.out(`From mixed with its defaults (${mixedThreads} threads): ${hunted.filter((r) => r.mixed!.detected === r.mixed!.runs).length}/${hunted.length} mm bugs caught in every run (not part of PASS)`);
    for (const { r, p } of missed) {
      const b = findBug(r.id) as BugEntry;
      io.out(`  ${r.id} seed ${p.seed}: ${p.status === 'SUCCESS' ? 'no violation' : p.status}; rerun: mmtorture run mixed --bug ${r.id} --era e${b.era ?? 1} --threads ${mixedThreads} --duration ${formatDuration(opts.timeoutMs)} --seed ${p.seed}`);
    }
  }
  if (cleanRows.length) {
    io.out('');
    io.out(`Clean scenarios (no bugs, ${formatDuration(opts.cleanMs)} each, seed ${seed}):`);
    for (const l of table(
      ['scenario', 'threads', 'ops', 'violations', 'status', ...(withPct ? ['PCT schedules', 'PCT violations'] : [])],
      cleanRows.map((r) => [r.scenario, String(r.threads), String(r.ops), String(r.violations), r.status, ...(r.pct ? [String(r.pct.schedules), String(r.pct.violations + r.pct.errors.length)] : withPct ? ['-', '-'] : [])]),
      [false, true, true, true, false, true, true],
    )) io.out(l);
  }
  io.out('');
  if (interrupted) io.out(`interrupted by ${interrupted} after ${formatDuration(performance.now() - started)}: ${done} of ${totalRuns} runs finished; the tables hold those`);
  io.out(`validate${opts.shard ? ` (shard ${opts.shard.index}/${opts.shard.count})` : ''}: ${bugsOk}/${bugRows.length} bugs detected in every run, ${cleanOk}/${cleanRows.length} clean runs without a violation: ${interrupted ? 'INTERRUPTED' : pass ? 'PASS' : 'FAIL'}`);

  const report: ValidateReport = {
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version },
    runs: opts.runs,
    timeoutMs: opts.timeoutMs,
    cleanMs: opts.cleanMs,
    seed,
    bugs: bugRows,
    clean: cleanRows,
    pass,
    shard: opts.shard ? `${opts.shard.index}/${opts.shard.count}` : null,
    host,
    interrupted,
  };
  if (opts.json) writeOutput(opts.json, JSON.stringify(report, null, 2) + '\n');
  return report;
}
