import type { BuiltinScenario } from './types.js';
import { rwsemTorture } from './rwsem-torture.js';
import { spinlockTorture } from './spinlock-torture.js';
import { seqcountTorture } from './seqcount-torture.js';
import { rcuTorture } from './rcu-torture.js';
import { refcountTorture } from './refcount-torture.js';
import { deadlockSelftest } from './deadlock-selftest.js';
import { crashSelftest } from './crash-selftest.js';
import { pageFault } from './page-fault.js';
import { RACE_SCENARIOS } from './mm-races.js';
import { BENCH_WORKLOADS } from './bench-workloads.js';

export type { Scenario, BuiltinScenario } from './types.js';

/** Every scenario, by name, in the order `mmtorture list` prints them. */
export const SCENARIOS: readonly BuiltinScenario[] = [
  rwsemTorture,
  spinlockTorture,
  seqcountTorture,
  rcuTorture,
  refcountTorture,
  pageFault,
  ...RACE_SCENARIOS,
  deadlockSelftest,
  crashSelftest,
];

/**
 * The contention benchmark's workloads (`mmtorture bench`), page-fault first.
 * Their scenario names carry a `bench:` prefix (bench:fault-vs-fork is not
 * the race scenario fault-vs-fork); workloadName() gives the user-facing name.
 */
export const WORKLOADS: readonly BuiltinScenario[] = [pageFault, ...BENCH_WORKLOADS];

export function workloadName(s: BuiltinScenario): string {
  return s.name.replace(/^bench:/, '');
}

export function findWorkload(name: string): BuiltinScenario | undefined {
  return WORKLOADS.find((w) => workloadName(w) === name);
}

const byName = new Map([...SCENARIOS, ...BENCH_WORKLOADS].map((s) => [s.name, s]));

export function findScenario(name: string): BuiltinScenario | undefined {
  return byName.get(name);
}

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}
