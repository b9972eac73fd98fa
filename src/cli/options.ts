import os from 'node:os';
import { Command, Option } from 'commander';
import { SCENARIOS as BUILTIN } from '../../stress/index.js';
import { loadScenario, loadModule } from '../harness/module.js';
import { colorEnabled } from '../harness/color.js';
import { loadConfig, applyConfig } from '../harness/config.js';
import { findBug, unknownBugMessage } from '../bugs/catalogue.js';
import { signalExitCode } from '../harness/run.js';
import { UsageError } from '../harness/errors.js';
import { prepareOutput, isStdoutTaken } from '../harness/output.js';
import { checkLogTarget } from '../harness/logsink.js';
import { parseDuration, parseIntIn, parseIntList } from '../harness/parse.js';
import type { ModelConfig } from '../mm/model.js';
import { MAX_THREADS } from '../../stress/actors.js';
import { ERA_NAMES, type Era } from '../mm/era.js';
import { MM_JITTER_DEFAULT, CHECK_INTERVAL_DEFAULT_MS } from '../../stress/types.js';

/*
 * The CLI's shared options (`run` and `soak`), their validation into a run
 * configuration (every bad value a one-line usage error), --config, and
 * signal handling. src/cli.ts has the commands.
 */

/** What `soak` rotates by default: every scenario but the harness self-tests. */
export function soakDefault(): string[] {
  return BUILTIN.filter((s) => !s.selftest).map((s) => s.name);
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function collect(value: string, previous: string[]): string[] {
  return previous.concat(value.split(',').map((s) => s.trim()).filter(Boolean));
}

export interface RunOpts {
  threads?: string;
  duration: string;
  seed?: string;
  bug: string[];
  json?: string;
  log?: string;
  logLevel: string;
  logTarget?: string;
  watchdog: string;
  statInterval: string;
  keepGoing?: boolean;
  progress: boolean;
  param: string[];
  era: string;
  perVmaLock: string;
  mmPages?: string;
  vmas?: string;
  folios?: string;
  checkInterval: string;
  jitter?: string;
  trace: boolean;
  check: boolean;
  directAsserts: boolean;
  stutter: string;
  stutterHold?: string;
  shuffle: string;
  module?: string;
  config?: string;
}

/** The controlled-scheduler flags (run, hunt). */
export interface ScheduleOpts {
  schedule?: string;
  pctDepth: string;
  ops: string;
  maxSteps: string;
  scheduleSeed?: string;
  scheduleFile?: string;
}

export const SCHEDULERS = ['pct', 'random'];

export function addScheduleOptions(cmd: Command, mode?: string): Command {
  const sched = new Option('--schedule <mode>', `run under a controlled scheduler instead of the OS's: ${SCHEDULERS.join(' or ')} (PCT: Burckhardt et al., ASPLOS 2010); many short runs with schedule seeds --schedule-seed, +1, ... for --duration, until one fails; it writes a schedule file for replay and shrink`);
  return cmd
    .addOption(mode ? sched.default(mode) : sched)
    .option('--pct-depth <d>', 'PCT depth: d - 1 priority change points per run (1..9)', '3')
    .option('--ops <n>', 'controlled runs: operations per actor (a list gives one per thread)', '4')
    .option('--max-steps <n>', 'controlled runs: the step budget of one run (actors stop at their next operation after it)', '100000')
    .option('--schedule-seed <n>', 'the first schedule seed (default: --seed)')
    .option('--schedule-file <file>', 'where a failing controlled run writes its schedule (default: mmtorture-<scenario>-<seed>.schedule.json)');
}

/** The controlled-scheduler options, or null when --schedule is not given; bad values are usage errors. */
export function validateSchedule(o: ScheduleOpts, seed: number) {
  if (o.schedule === undefined) return null;
  if (!SCHEDULERS.includes(o.schedule)) throw new UsageError(`invalid --schedule '${o.schedule}' (valid: ${SCHEDULERS.join(', ')})`);
  prepareOutput(o.scheduleFile, '--schedule-file');
  return {
    mode: o.schedule as 'pct' | 'random',
    depth: parseIntIn(o.pctDepth, '--pct-depth', 1, 9),
    ops: String(o.ops).split(',').map((x) => parseIntIn(x.trim(), '--ops', 1, 1_000_000)),
    maxSteps: parseIntIn(o.maxSteps, '--max-steps', 100, 50_000_000),
    scheduleSeed: o.scheduleSeed === undefined ? seed : parseIntIn(o.scheduleSeed, '--schedule-seed', 0, 0xffffffff) | 0,
    scheduleFile: o.scheduleFile,
  };
}

export function parseEra(e: string): Era {
  const v = ERA_NAMES[e.trim().toLowerCase()];
  if (!v) throw new UsageError(`invalid --era '${e}' (valid: ${Object.keys(ERA_NAMES).join(', ')})`);
  return v;
}

/** A duration flag where 0 means off. */
export function parseOptDuration(text: string, what: string): number {
  return text.trim() === '0' ? 0 : parseDuration(text, what);
}

/** Validate the options `run` and `soak` share; every bad value is a one-line usage error. */
export async function validateCommon(o: RunOpts, threadList = false) {
  if (o.module) await loadModule(o.module);
  prepareOutput(o.json, '--json');
  prepareOutput(o.log, '--log');
  checkLogTarget(o.logTarget);
  for (const b of o.bug) {
    if (!findBug(b)) throw new UsageError(unknownBugMessage(b));
  }
  if (!LOG_LEVELS.includes(o.logLevel)) throw new UsageError(`invalid --log-level '${o.logLevel}' (valid: ${LOG_LEVELS.join(', ')})`);
  const threadCounts = o.threads === undefined ? [os.availableParallelism()]
    : threadList ? parseIntList(o.threads, '--threads', 1, MAX_THREADS) : [parseIntIn(o.threads, '--threads', 1, MAX_THREADS)];
  const threads = threadCounts[0];
  const seed = o.seed === undefined ? (Date.now() ^ (process.pid << 8)) >>> 0 : parseIntIn(o.seed, '--seed', 0, 0xffffffff);
  const params = o.param.map((p) => {
    if (!/^-?\d+$/.test(p)) throw new UsageError(`invalid --param '${p}' (expected an integer)`);
    return parseInt(p, 10);
  });
  if (params.length > 12) throw new UsageError(`too many --param values (${params.length}, at most 12)`);
  const model: Partial<ModelConfig> = {};
  if (o.mmPages !== undefined) {
    const v = parseIntIn(o.mmPages, '--mm-pages', 64, 1 << 20);
    if ((v & (v - 1)) !== 0) throw new UsageError(`invalid --mm-pages '${o.mmPages}' (expected a power of two 64..1048576)`);
    model.mmPages = v;
  }
  if (o.vmas !== undefined) model.vmas = parseIntIn(o.vmas, '--vmas', 16, 1 << 20);
  if (o.folios !== undefined) model.folios = parseIntIn(o.folios, '--folios', 64, 1 << 22);
  const stutterMs = parseOptDuration(o.stutter, '--stutter');
  return {
    checkIntervalMs: parseOptDuration(o.checkInterval, '--check-interval'),
    jitter: o.jitter === undefined ? undefined : parseIntIn(o.jitter, '--jitter', 0, 1_000_000),
    trace: o.trace,
    checks: o.check,
    directAsserts: o.directAsserts,
    model,
    threads,
    threadCounts,
    durationMs: parseDuration(o.duration, '--duration'),
    seed: seed | 0,
    bugs: [...new Set(o.bug)],
    watchdogMs: parseDuration(o.watchdog, '--watchdog'),
    statIntervalMs: parseDuration(o.statInterval, '--stat-interval'),
    keepGoing: Boolean(o.keepGoing),
    params,
    stutterMs,
    stutterHoldMs: o.stutterHold === undefined ? undefined : parseDuration(o.stutterHold, '--stutter-hold'),
    shuffleMs: parseOptDuration(o.shuffle, '--shuffle'),
    module: o.module,
    json: o.json,
    log: o.log,
    logLevel: o.logLevel,
    logTarget: o.logTarget,
  };
}

export async function validateRun(scenarioName: string, o: RunOpts) {
  await loadScenario(scenarioName, o.module);
  const { threadCounts: _tc, ...common } = await validateCommon(o);
  if (o.perVmaLock !== 'on' && o.perVmaLock !== 'off') throw new UsageError(`invalid --per-vma-lock '${o.perVmaLock}' (valid: on, off)`);
  return { ...common, scenario: scenarioName, model: { ...common.model, era: parseEra(o.era), perVmaLock: o.perVmaLock === 'on' } };
}

/** The options `run` and `soak` share. */
export function addRunOptions(cmd: Command, d: { duration: string; statInterval: string; stutter: string; shuffle: string }): Command {
  return cmd
    .option('--config <file>', 'read options from a JSON file (keys: the flags in camelCase; flags on the command line win)')
    .option('-t, --threads <n>', 'worker threads (default: os.availableParallelism()); soak also takes a list or a range (2,5,8 or 1-16) and varies the count between turns')
    .option('-d, --duration <time>', 'how long to run (ms, s, m, h)', d.duration)
    .option('--seed <n>', 'seed for every per-thread PRNG (default: random, printed)')
    .option('-b, --bug <id>', 'switch on a catalogued bug (repeatable, or comma-separated)', collect, [])
    .option('--json <file>', 'write the summary as JSON')
    .option('--log-target <module>', 'also send the log to a pino transport (pino/file, pino-loki, pino-elasticsearch, a path); its options: logTargetOptions in the --config file')
    .option('--log <file>', 'write pino JSON lines (phases, progress, stats, violations with their reports, summary); read it back with `mmtorture report`')
    .addOption(new Option('--log-level <level>', 'pino log level').default('info'))
    .option('--watchdog <time>', 'no progress for this long is a hang: report waiters, exit 3', '10s')
    .option('--stat-interval <time>', 'print the statistics lines this often', d.statInterval)
    .option('--keep-going', 'record every violation instead of stopping at the first')
    .option('--param <n>', 'scenario parameter (repeatable; e.g. rwsem-torture: acq_writer_lim ms)', collect, [])
    .option('--no-progress', 'no per-second progress line on stderr')
    .option('--per-vma-lock <mode>', 'on, or off: every fault takes mmap_lock (the contention baseline); soak also takes both', 'on')
    .option('--mm-pages <n>', 'pages per address space (power of two; default 1024)')
    .option('--vmas <n>', 'VMA slab size (default 512)')
    .option('--folios <n>', 'folio slab size (default 8192)')
    .option('--check-interval <time>', 'scenarios with quiescent checks (mm, library ones that define them): stop the world and check this often (0: only at the end)', `${CHECK_INTERVAL_DEFAULT_MS / 1000}s`)
    .option('--jitter <n>', `widen race windows: each named delay point opens with its own seeded probability (1/2 to 1/64 per run) and spins up to n iterations (0: off; default ${MM_JITTER_DEFAULT} for mixed and soak's mm turns, else 0)`)
    .option('--stutter <time>', 'rcutorture stutter: run this long, then hold every thread at the pause barrier (0: off)', d.stutter)
    .option('--stutter-hold <time>', 'how long a stutter holds the threads (default: a fifth of --stutter, at least 50ms)')
    .option('--shuffle <time>', 'this often, stop every actor between operations and restart it on another worker thread (0: off)', d.shuffle)
    .option('--module <file>', 'an ES module exporting scenarios defined with the library API (defineScenario)')
    .option('--no-trace', 'no flight recorder (per-thread event rings)')
    .option('--no-check', 'no oracles beyond the scenario\'s own: lockdep off, no quiescent checks (lets a bug deadlock for real)')
    .option('--no-direct-asserts', 'precondition assertions off (mmap/VMA lock asserts, vma_mark_attached/detached, might_fault, unlock balance): a bug must show through its consequences');
}

/**
 * Wire SIGINT/SIGTERM to an AbortController: the first signal stops the run
 * at the next tick (final checks, summary, logs); a second one exits at once.
 */
export function onSignals(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const handler = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) {
      process.stderr.write(`mmtorture: second ${sig}: exiting now\n`);
      process.exit(signalExitCode(sig));
    }
    process.stderr.write(`\nmmtorture: ${sig}: stopping (again to exit at once)\n`);
    ac.abort(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Human text: stdout, or stderr once an output file is '-' (stdout then carries only that). */
export function humanOut(text: string): void {
  (isStdoutTaken() ? process.stderr : process.stdout).write(text);
}

export const stdIO = () => ({
  out: (l: string) => humanOut(l + '\n'),
  err: (t: string) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
  color: colorEnabled(Boolean(process.stdout.isTTY && process.stderr.isTTY)),
});

/** Read --config before the action: validated keys fill the flags the command line left unset. */
export function configHook(positional: Record<string, Record<string, unknown>>) {
  return (_parent: Command, cmd: Command) => {
    const file = cmd.getOptionValue('config') as string | undefined;
    if (!file) return;
    const data = loadConfig(file, cmd, positional);
    applyConfig(cmd, data);
    (cmd as Command & { configPositional?: Record<string, unknown> }).configPositional = data;
  };
}

export function configPositional(cmd: Command): Record<string, unknown> {
  return (cmd as Command & { configPositional?: Record<string, unknown> }).configPositional ?? {};
}
