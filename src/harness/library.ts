import os from 'node:os';
import type { Arena } from '../shm/arena.js';
import type { Task } from '../shm/task.js';
import type { Scenario, StatReport } from '../../stress/types.js';
import { CHECK_INTERVAL_DEFAULT_MS } from '../../stress/types.js';
import { runScenario } from './run.js';
import type { RunConfig, RunResult, RunIO } from './run-types.js';
import { moduleUrl, importScenarios } from './module.js';
import { parseDuration } from './parse.js';
import { sumCtr } from '../../stress/common.js';
import { Viol } from '../shm/kinds.js';

/*
 * The library API's own code (src/index.ts only re-exports it): defining a
 * scenario from actors, and running one from an ES module.
 */

/**
 * The violation kind a library scenario's own oracle reports with
 * `t.violation(ORACLE_FAILED, obj, a, b, c, d)`.
 */
export const ORACLE_FAILED: number = Viol.OracleFailed;

/** What defineScenario() takes. */
export interface ScenarioDefinition {
  name: string;
  description?: string;
  /** Words of shared Int32 state (at arena.scenBase), given the thread count (default 64). */
  words?: (threads: number) => number;
  /** Initialise the shared state on the main thread before the workers start. */
  setup?: (arena: Arena) => void;
  /** One actor per thread: a role name per thread id (default: the first actor's role for every thread). */
  roles?: (threads: number) => string[];
  /**
   * The actors, by role: each loops `while (running(t)) { ... }` and returns
   * when the run stops. They must not allocate or log per operation.
   */
  actors: Record<string, (t: Task) => void>;
  /** Statistics lines (default: the total of per-thread counter 0). */
  stats?: (arena: Arena, elapsedMs: number, final: boolean) => StatReport;
  /** Checks over the stopped world at the end; each string returned is a violation. */
  finalCheck?: (arena: Arena, clean: boolean) => string[];
  /** Checks over a world parked at the pause barrier (every check interval); each string is a violation. */
  quiescentCheck?: (arena: Arena) => string[];
}

/** Build a Scenario from actors; export the result from your scenario module. */
export function defineScenario(d: ScenarioDefinition): Scenario {
  const roleNames = Object.keys(d.actors);
  if (!d.name || !/^[\w.:-]+$/.test(d.name)) throw new Error(`defineScenario: invalid name '${d.name}' (letters, digits, _ . : -)`);
  if (roleNames.length === 0) throw new Error(`defineScenario(${d.name}): no actors`);
  const roles = d.roles ?? ((threads: number) => Array.from({ length: threads }, () => roleNames[0]));
  return {
    name: d.name,
    description: d.description ?? d.name,
    words: (threads) => (d.words ? d.words(threads) : 64),
    setup: (arena) => d.setup?.(arena),
    roles(threads) {
      const r = roles(threads);
      for (const x of r) if (!d.actors[x]) throw new Error(`defineScenario(${d.name}): role '${x}' has no actor (actors: ${roleNames.join(', ')})`);
      return r;
    },
    run(t, role) {
      const fn = d.actors[role];
      if (!fn) throw new Error(`defineScenario(${d.name}): no actor for role '${role}'`);
      fn(t);
    },
    stats: d.stats ?? ((arena) => {
      const ops = sumCtr(arena, Array.from({ length: arena.nthreads }, (_, i) => i), 0);
      return { lines: [`ops: ${ops}`], failures: 0, warnings: 0, data: { ops } };
    }),
    finalCheck: d.finalCheck,
    quiescentCheck: d.quiescentCheck,
  };
}

/** What runTorture() takes: the module, and any run option (defaults: 2 s, every core, quiet). */
export interface TortureOptions extends Partial<Omit<RunConfig, 'durationMs' | 'module' | 'scenario'>> {
  /** The ES module that exports the scenario (a path, a file: URL, or a URL object, e.g. new URL('./x.mjs', import.meta.url)). */
  module: string | URL;
  /** Which exported scenario (default: the module's default export, or its only scenario). */
  scenario?: string;
  /** How long: milliseconds, or '500ms', '10s', '2m'. */
  duration?: number | string;
  /** Where the human output goes (default: nowhere). */
  io?: RunIO;
}

const silent: RunIO = { out: () => undefined, err: () => undefined, isTTY: false };

/** Run a scenario defined with defineScenario() on real worker threads; resolves with the run's result. */
export async function runTorture(o: TortureOptions): Promise<RunResult> {
  const spec = o.module instanceof URL ? o.module.href : moduleUrl(o.module);
  const found = await importScenarios(spec);
  if (found.length === 0) throw new Error(`runTorture: ${spec} exports no scenario (export what defineScenario() returns)`);
  const mod = (await import(spec)) as { default?: unknown };
  if (!o.scenario && found.length > 1 && found[0] !== mod.default) {
    throw new Error(`runTorture: ${spec} exports several scenarios and no default; name one (scenario: ${found.map((s) => s.name).join(', ')})`);
  }
  const name = o.scenario ?? found[0].name;
  const { module: _m, scenario: _s, duration, io, ...rest } = o;
  return runScenario({
    threads: os.availableParallelism(), seed: (Date.now() >>> 0) | 0, bugs: [], watchdogMs: 10_000, statIntervalMs: 3_600_000,
    keepGoing: false, quiet: io === undefined, progress: false, checkIntervalMs: CHECK_INTERVAL_DEFAULT_MS,
    ...rest,
    scenario: name,
    module: spec,
    durationMs: typeof duration === 'string' ? parseDuration(duration) : (duration ?? 2000),
  }, io ?? silent);
}
