/**
 * mmtorture as a library: define a torture scenario (actors, shared state,
 * oracles) in an ES module and run it on real worker threads from code, for
 * example inside a vitest test. The README has a complete example.
 *
 * A scenario's module is imported by the main thread and by every worker, so
 * it must be loadable by Node on its own: JavaScript (or compiled TypeScript)
 * that exports the value defineScenario() returns.
 */
export type { Arena } from './shm/arena.js';
export type { Task } from './shm/task.js';
export type { Scenario, StatReport, ScenarioOptions } from '../stress/types.js';
export type { RunConfig, RunResult, RunStatus, RunIO, StatSnapshot } from './harness/run.js';
export type { ScheduleConfig } from './harness/run-types.js';
export type { CtlOutcome } from './sync/ctl.js';
// The controlled scheduler: many short PCT/random runs, schedule files, replay, shrink.
export { exploreSchedules, type ExploreOptions, type ExploreResult } from './harness/controlled.js';
export { scheduleFileOf, writeScheduleFile, readScheduleFile, replaySchedule, shrinkSchedule, formatSteps, type ScheduleFile } from './harness/schedule.js';
export type { SoakConfig, SoakReport } from './harness/soak.js';
export { runScenario } from './harness/run.js';
export { runSoak } from './harness/soak.js';
export { running, spinDelay, sumCtr, ctr, tidsOf } from '../stress/common.js';
export { SCENARIOS, findScenario, scenarioNames } from '../stress/index.js';
export { BUGS, findBug, bugIds } from './bugs/catalogue.js';
export { KINDS } from './shm/kinds.js';
export { EXIT_CLEAN, EXIT_VIOLATION, EXIT_USAGE, EXIT_HARNESS } from './harness/errors.js';
// The kernel primitives, for actors that lock like the kernel does.
export { spinLock, spinUnlock, spinLockInit } from './sync/spinlock.js';
export { initRwsem, downRead, upRead, downWrite, upWrite, downReadTrylock, downWriteTrylock } from './sync/rwsem.js';
export { rcuReadLock, rcuReadUnlock, synchronizeRcu } from './sync/rcu.js';
export { LC_TORTURE_SPIN, LC_TORTURE_RWSEM } from './sync/lockclass.js';

export { ORACLE_FAILED, defineScenario, runTorture, type ScenarioDefinition, type TortureOptions } from './harness/library.js';
