import type { Arena } from '../src/shm/arena.js';
import type { Task } from '../src/shm/task.js';

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
  /** Bug ids (src/bugs) this scenario is the designated detector for. */
  readonly exposes: readonly string[];
  /** Words of shared state the scenario needs for `threads` threads. */
  words(threads: number): number;
  /** Initialise the shared state (main thread, before workers start). */
  setup(arena: Arena): void;
  /** Actor role names, one per thread. */
  roles(threads: number): string[];
  /** Actor loop for one thread: returns when stop is requested. */
  run(t: Task, role: string): void;
  /** Periodic / final statistics from the per-thread counters. */
  stats(arena: Arena, elapsedMs: number, final: boolean): StatReport;
}
