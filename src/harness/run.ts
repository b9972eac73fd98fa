import { colorEnabled } from './color.js';
import { ScenarioRun } from './lifecycle.js';
import { verdict, report } from './verdict.js';
import type { RunConfig, RunHooks, RunIO, RunResult } from './run-types.js';

export type { RunConfig, RunHooks, RunIO, RunResult, RunStatus, MemorySample, StatSnapshot } from './run-types.js';
export { createPool, workerFile, memorySample, signalExitCode, shuffled } from './pool.js';

const defaultIO: RunIO = {
  out: (l) => process.stdout.write(l + '\n'),
  err: (t) => process.stderr.write(t),
  isTTY: Boolean(process.stderr.isTTY),
  color: colorEnabled(Boolean(process.stderr.isTTY)),
};

/**
 * Run one scenario (DESIGN.md, "The run lifecycle"): set up the arena and the
 * scenario, start one long-running task per thread behind a barrier, tick
 * (progress, watchdog, checks, stutter, shuffle, stats) until the end, join
 * without ever hanging, decide the verdict, report.
 */
export async function runScenario(cfg: RunConfig, io: RunIO = defaultIO, hooks: RunHooks = {}): Promise<RunResult> {
  const run = await ScenarioRun.setup(cfg, io, hooks);
  await run.start();
  await run.tickLoop();
  await run.join();
  const result = verdict(run);
  report(run, result);
  await run.ownLogger?.close();
  return result;
}
