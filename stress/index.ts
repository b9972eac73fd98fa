import type { Scenario } from './types.js';
import { rwsemTorture } from './rwsem-torture.js';
import { spinlockTorture } from './spinlock-torture.js';
import { seqcountTorture } from './seqcount-torture.js';
import { rcuTorture } from './rcu-torture.js';
import { refcountTorture } from './refcount-torture.js';
import { deadlockSelftest } from './deadlock-selftest.js';
import { pageFault } from './page-fault.js';
import { RACE_SCENARIOS } from './mm-races.js';

export type { Scenario } from './types.js';

/** Every scenario, by name, in the order `mmtorture list` prints them. */
export const SCENARIOS: readonly Scenario[] = [
  rwsemTorture,
  spinlockTorture,
  seqcountTorture,
  rcuTorture,
  refcountTorture,
  pageFault,
  ...RACE_SCENARIOS,
  deadlockSelftest,
];

const byName = new Map(SCENARIOS.map((s) => [s.name, s]));

export function findScenario(name: string): Scenario | undefined {
  return byName.get(name);
}

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}
