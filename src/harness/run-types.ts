import type { RaceStory } from './report.js';
import type { Logger } from 'pino';
import type { ModelConfig } from '../mm/model.js';
import type { WaitGraph } from '../check/waitgraph.js';
import type { StatReport } from '../../stress/types.js';
import type { LockStatRow, DecodedViolation } from './collect.js';
import type { Piscina } from 'piscina';
import type { CtlOutcome } from '../sync/ctl.js';

/** A controlled schedule (src/sync/ctl.ts): who runs is decided by a seeded scheduler, step by step. */
export interface ScheduleConfig {
  mode: 'pct' | 'random' | 'replay';
  /** The scheduler's seed (the actors' streams come from the run's seed). */
  seed: number;
  /** PCT depth d: d - 1 priority change points. */
  depth: number;
  /** PCT's estimate of the run's steps (the change points fall in [1, steps]). */
  steps: number;
  /** The step budget: actors stop at their next operation boundary after it. */
  maxSteps: number;
  /** Operations per actor: one for all threads, or one per thread (0: until the budget). */
  ops: number[];
  /** replay: the context switches to take, as flat (step, thread) pairs. */
  replay?: number[];
  /** Steps the step trace keeps (a ring; default 4096). */
  traceCap?: number;
}

/* What a run is given and what it gives back (runScenario in run.ts). */

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
  /** --log-target: a pino transport module, with its options (config file: logTargetOptions). */
  logTarget?: string;
  logTargetOptions?: Record<string, unknown>;
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
  /** Precondition assertions on (default true); false: only consequence oracles (--no-direct-asserts). */
  directAsserts?: boolean;
  /** An ES module (path or URL) that exports the scenario, for scenarios defined outside mmtorture. */
  module?: string;
  /** rcutorture stutter: run this long, then hold every thread at the pause barrier (0 = off). */
  stutterMs?: number;
  /** How long a stutter holds the threads (default: a fifth of stutterMs, at least 50 ms). */
  stutterHoldMs?: number;
  /** Every this often, stop the actors at a quiescent point and restart them on other worker threads (0 = off). */
  shuffleMs?: number;
  /** Run under a controlled scheduler instead of the OS's (no jitter, stutter, shuffle or periodic checks). */
  schedule?: ScheduleConfig;
}

/** Run-time hooks that are not configuration (not logged, not in the JSON summary). */
export interface RunHooks {
  /** Stop early, as if the duration had ended (SIGINT/SIGTERM); the reason names the signal. */
  signal?: AbortSignal;
  /** Log into this logger instead of opening cfg.log (the soak's one log). */
  logger?: Logger;
  /** Called every stat interval instead of printing the scenario's stat lines. */
  onStats?: (s: StatSnapshot) => void;
  /** The first snapshot comes this long after the start instead of one stat interval (soak's stats clock runs across turns). */
  firstStatAfterMs?: number;
  /** Added to the progress line's clock (a soak shows its own time, as its turn lines do). */
  clockOffsetMs?: number;
  /** Run on this worker pool (of at least the run's threads) and leave it running: many short controlled runs. */
  pool?: Piscina;
}

export type RunStatus = 'SUCCESS' | 'FAILURE' | 'HANG' | 'ERROR' | 'INTERRUPTED';

/** Process memory, in MiB. */
export interface MemorySample {
  rssMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
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
  /** The first violation's story (the report's event tail, structured), for the HTML swim lanes. */
  story: RaceStory | null;
  memory: MemorySample;
  /** A controlled run: what the scheduler did (steps, the switches made, the step of the first violation, the last steps). */
  schedule?: CtlOutcome;
}

export interface RunIO {
  out: (line: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  /** Colour the status and the report titles (see color.ts). */
  color?: boolean;
}
