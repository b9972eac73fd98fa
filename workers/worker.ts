import { threadId } from 'node:worker_threads';
import { Arena } from '../src/shm/arena.js';
import { Task, RunAborted } from '../src/shm/task.js';
import { H_ABORT, H_GO, H_READY, T_STATE, STATE_DONE, STATE_RUNNING } from '../src/shm/layout.js';
import { findScenario, type Scenario } from '../stress/index.js';
import { ctlExit, ctlWaitToken } from '../src/sync/ctl.js';
import { setControlled } from '../stress/common.js';
import { importScenarios } from '../stress/modules.js';
import type { WorkerTask, WorkerResult } from './protocol.js';

export type { WorkerTask, WorkerResult };

async function resolve(task: WorkerTask): Promise<Scenario | undefined> {
  if (task.module) {
    const s = (await importScenarios(task.module)).find((x) => x.name === task.scenario);
    if (s) return s;
  }
  return findScenario(task.scenario);
}

/**
 * A CPU: attach to the arena from the buffer alone, wait at the start
 * barrier, run one actor loop until the stop word, report how it ended.
 */
export default async function runActor(task: WorkerTask): Promise<WorkerResult> {
  const arena = Arena.attach(task.sab);
  const i32 = arena.i32;
  let scenario: Scenario | undefined;
  try {
    scenario = await resolve(task);
  } catch (e) {
    return { tid: task.tid, outcome: 'error', error: `cannot load ${task.module}: ${e instanceof Error ? e.stack : String(e)}`, threadId };
  }
  if (!scenario) return { tid: task.tid, outcome: 'error', error: `unknown scenario ${task.scenario}`, threadId };
  const t = new Task(arena, task.tid);
  Atomics.add(i32, H_READY, 1);
  Atomics.notify(i32, H_READY);
  while (Atomics.load(i32, H_GO) === 0) {
    Atomics.wait(i32, H_GO, 0, 50);
    if (Atomics.load(i32, H_ABORT) !== 0) return { tid: task.tid, outcome: 'aborted', threadId };
  }
  i32[t.base + T_STATE] = STATE_RUNNING;
  setControlled(t.ctl !== 0 ? t : null);
  try {
    if (t.ctl !== 0) ctlWaitToken(t);
    scenario.run(t, task.role);
    return { tid: task.tid, outcome: 'ok', threadId };
  } catch (e) {
    if (e instanceof RunAborted) return { tid: task.tid, outcome: 'aborted', threadId };
    const err = e as Error;
    return { tid: task.tid, outcome: 'error', error: err && err.stack ? err.stack : String(e), threadId };
  } finally {
    if (t.ctl !== 0) ctlExit(t);
    i32[t.base + T_STATE] = STATE_DONE;
  }
}
