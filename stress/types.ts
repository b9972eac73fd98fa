import type { Arena } from '../src/shm/arena.js';
import type { Task } from '../src/shm/task.js';
import type { ModelConfig } from '../src/mm/model.js';

/** A statistics line block printed every stat interval (locktorture style). */
export interface StatReport {
  lines: string[];
  /** Oracle failures counted by the scenario itself (also recorded as violations). */
  failures: number;
  /** Unfairness or other soft warnings (`???`). */
  warnings: number;
  /** Machine-readable numbers for JSON and logs. */
  data: Record<string, unknown>;
}

/**
 * A torture scenario: which actors run on which threads, the shared state
 * they use, and how the main thread reports on it. The same module is
 * imported by the main thread (setup, reports) and by every worker (actors).
 */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  /** Words of shared state the scenario needs for `threads` threads. */
  words(threads: number, opts: ScenarioOptions): number;
  /** Initialise the shared state (main thread, before workers start). */
  setup(arena: Arena, opts: ScenarioOptions): void;
  /** Actor role names, one per thread. */
  roles(threads: number): string[];
  /** Lines the run prints before it starts at this thread count (an actor kind left out, and why). */
  notes?(threads: number): string[];
  /** Actor loop for one thread: returns when stop is requested. */
  run(t: Task, role: string): void;
  /** Periodic / final statistics from the per-thread counters. */
  stats(arena: Arena, elapsedMs: number, final: boolean): StatReport;
  /**
   * Quiescent checks after every actor has stopped (main thread): returns
   * the problems found, each reported as a violation.
   */
  finalCheck?(arena: Arena, clean: boolean): string[];
  /** Checks over a world stopped at the pause barrier (every --check-interval). */
  quiescentCheck?(arena: Arena): string[];
}

/** A scenario of mmtorture's own: what the harness knows about it beyond the public Scenario. */
export interface BuiltinScenario extends Scenario {
  /** Bug ids (src/bugs) this scenario is the designated detector for. */
  readonly exposes: readonly string[];
  /** Whether the scenario runs on the mm model (then --era, --per-vma-lock etc. apply). */
  readonly usesModel?: boolean;
  /** A harness self-test that must fail (deadlock, crash): never run clean, never soaked. */
  readonly selftest?: boolean;
  /** --jitter when the user gives none (mixed: MM_JITTER_DEFAULT). */
  readonly defaultJitter?: number;
  /** Model sizes this scenario needs at `threads` threads with `params` (over the defaults; the user's flags still win). */
  modelFor?(threads: number, params: readonly number[]): Partial<ModelConfig>;
}

/**
 * The race-window widening `mixed` and soak's mm turns run with unless
 * --jitter says otherwise: the longest spin of an opened delay window.
 */
export const MM_JITTER_DEFAULT = 10000;

/**
 * How often a run stops the world for the quiescent checks when nothing says
 * otherwise (--check-interval, RunConfig.checkIntervalMs). A check costs
 * about 1.5 ms at 2 threads and 6 ms at 16 (pause barrier + check, mixed,
 * 2 cores, 2026-12-07): 0.15-0.6 % of the run at 1 s.
 */
export const CHECK_INTERVAL_DEFAULT_MS = 1000;

/** The jitter a run of `s` uses: the one asked for, else the scenario's default, else none. */
export function effectiveJitter(s: Scenario, asked: number | undefined): number {
  return asked ?? (s as Partial<BuiltinScenario>).defaultJitter ?? 0;
}

/** Does the scenario run on the mm model (a built-in mm scenario; never a library one)? */
export function usesModel(s: Scenario): boolean {
  return (s as Partial<BuiltinScenario>).usesModel === true;
}

/** Options a scenario is set up with. */
export interface ScenarioOptions {
  model: ModelConfig;
}
