import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runScenario, type RunConfig } from '../src/harness/run.js';
import { exploreSchedules } from '../src/harness/controlled.js';
import { scheduleFileOf, writeScheduleFile, readScheduleFile, replaySchedule, shrinkSchedule, formatSteps } from '../src/harness/schedule.js';
import type { ScheduleConfig } from '../src/harness/run-types.js';
import { runCli, expectUsageError } from './helpers/cli.js';

/*
 * The controlled scheduler (issue #14): one seed gives one interleaving, bit
 * for bit; a failing schedule written to a file replays to the same
 * violation at the same step with the same report and writes the same
 * schedule back; shrinking keeps the failure and never lengthens it.
 */

const silent = { out: () => undefined, err: () => undefined, isTTY: false };
const dir = mkdtempSync(path.join(os.tmpdir(), 'mmtorture-sched-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cfg(over: Partial<RunConfig>, schedule: Partial<ScheduleConfig> = {}): RunConfig {
  return {
    scenario: 'fault-vs-munmap', threads: 3, durationMs: 60_000, seed: 11, bugs: [], watchdogMs: 5000, statIntervalMs: 1e9,
    keepGoing: false, quiet: true, progress: false,
    schedule: { mode: 'pct', seed: 5, depth: 3, steps: 2000, maxSteps: 100_000, ops: [4], ...schedule },
    ...over,
  };
}

describe('controlled schedules are deterministic', () => {
  for (const [scenario, threads, mode] of [['fault-vs-munmap', 3, 'random'], ['mixed', 5, 'pct'], ['rwsem-torture', 4, 'random']] as const) {
    it(`${scenario} at ${threads} threads under ${mode}: two runs with one seed make the same switches, steps and trace`, async () => {
      const a = await runScenario(cfg({ scenario, threads }, { mode }), silent);
      const b = await runScenario(cfg({ scenario, threads }, { mode }), silent);
      expect(a.status).toBe('SUCCESS');
      expect(a.schedule!.steps).toBeGreaterThan(50);
      expect(a.schedule!.switches.length).toBeGreaterThan(2);
      expect(b.schedule!.steps).toBe(a.schedule!.steps);
      expect(b.schedule!.switches).toEqual(a.schedule!.switches);
      expect(b.schedule!.trace).toEqual(a.schedule!.trace);
      expect(b.perThreadOps).toEqual(a.perThreadOps);
      // Another schedule seed is another interleaving.
      const c = await runScenario(cfg({ scenario, threads }, { mode, seed: 6 }), silent);
      expect(c.schedule!.switches).not.toEqual(a.schedule!.switches);
    });
  }
});

describe('clean scenarios under the controlled scheduler', () => {
  for (const [scenario, threads] of [['fault-vs-munmap', 3], ['fault-vs-fork', 4], ['mixed', 8], ['uffd-copy', 3], ['rcu-torture', 3]] as const) {
    it(`${scenario} at ${threads} threads: 15 PCT schedules, zero violations`, async () => {
      const r = await exploreSchedules({ ...cfg({ scenario, threads }), schedule: undefined }, { mode: 'pct', seed: 1, depth: 3, ops: [4], maxSteps: 100_000, budgetMs: 60_000, maxRuns: 15 });
      expect(r.errors).toEqual([]);
      expect(r.found).toBeNull();
      expect(r.runs).toBe(15);
      expect(r.totalSteps).toBeGreaterThan(15 * 20);
    });
  }
});

/** Find a failing schedule of `bug` in `scenario` (random scheduler, at most 20 s), as a file. */
async function failingFile(scenario: string, threads: number, bug: string, name: string) {
  const base = { ...cfg({ scenario, threads, bugs: [bug] }), schedule: undefined };
  const ex = await exploreSchedules(base, { mode: 'random', seed: 1, depth: 3, ops: [4], maxSteps: 100_000, budgetMs: 20_000, maxRuns: 5000 });
  expect(ex.found, `${bug} found under the random scheduler`).not.toBeNull();
  const file = path.join(dir, name);
  writeScheduleFile(file, scheduleFileOf({ ...base, schedule: ex.schedule! }, ex.found!));
  return { file, found: ex.found! };
}

describe('replay: fail, file, replay, the same violation at the same step', () => {
  for (const [scenario, threads, bug] of [
    ['rwsem-torture', 2, 'rwsem-reader-ignores-writer'],
    ['spinlock-torture', 2, 'spinlock-racy-acquire'],
    ['fault-vs-munmap', 3, 'B1'],
    ['swap-retry', 2, 'b1-caller-end-read'],
    ['anon-vma-prepare', 3, 'b5c-use-after-retry'],
  ] as const) {
    it(`${scenario} with ${bug}: replayed twice, same violation, step, report and schedule`, async () => {
      const { file, found } = await failingFile(scenario, threads, bug, `${bug}.json`);
      const f = readScheduleFile(file);
      expect(f.expect.violation).toBe(found.violations[0].kind);
      expect(f.expect.step).toBeGreaterThan(0);
      for (let k = 0; k < 2; k++) {
        const r = await replaySchedule(f);
        expect(r.differences).toEqual([]);
        expect(r.same).toBe(true);
        expect(r.result.violations[0].kind).toBe(f.expect.violation);
        expect(r.result.schedule!.violationStep).toBe(f.expect.step);
        expect(r.result.schedule!.switches).toEqual(f.switches);
        expect(r.result.report).toEqual(found.report);
      }
    });
  }

  it('a tampered schedule is reported as not reproduced, not as the same', async () => {
    const { file } = await failingFile('fault-vs-munmap', 3, 'B1', 'B1-tampered.json');
    const f = readScheduleFile(file);
    // Drop every switch after the start: the run takes another course.
    const r = await replaySchedule({ ...f, switches: f.switches.slice(0, 2) });
    expect(r.same).toBe(false);
    expect(r.differences.length).toBeGreaterThan(0);
  });
});

describe('liveness under virtual time', () => {
  it('rwsem-no-writer-preference: PCT finds the starved writer (acq_writer_lim is 50 ms of virtual time) within 20 s', async () => {
    const base = { ...cfg({ scenario: 'rwsem-torture', threads: 6, bugs: ['rwsem-no-writer-preference'] }), schedule: undefined };
    const ex = await exploreSchedules(base, { mode: 'pct', seed: 1, depth: 3, ops: [8], maxSteps: 100_000, budgetMs: 20_000, maxRuns: 1000 });
    expect(ex.found).not.toBeNull();
    expect(ex.found!.violations[0].kind).toBe('writer-starved');
  });
});

describe('shrink', () => {
  it('B1: the shrunk schedule still fails with the same oracle, is not longer, and replays exactly', async () => {
    const { file } = await failingFile('fault-vs-munmap', 3, 'B1', 'B1-shrink.json');
    const f = readScheduleFile(file);
    const s = await shrinkSchedule(f, { maxTests: 300 });
    expect(s.result.violations[0].kind).toBe(f.expect.violation);
    expect(s.after.switches).toBeLessThanOrEqual(s.before.switches);
    expect(s.after.preemptions).toBeLessThanOrEqual(s.before.preemptions);
    expect(s.after.ops.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(s.before.ops.reduce((a, b) => a + b, 0));
    const out = path.join(dir, 'B1.shrunk.json');
    writeScheduleFile(out, s.file);
    const r = await replaySchedule(readScheduleFile(out));
    expect(r.differences).toEqual([]);
    const story = formatSteps(r.result.schedule!, r.result.roles, { compact: true, until: r.result.schedule!.violationStep });
    expect(story[story.length - 1]).toMatch(/<-- violation$/);
  });
});

describe('CLI', () => {
  it('run --schedule finds B1, writes the file; replay reproduces it (exit 1)', () => {
    const file = path.join(dir, 'cli-B1.json');
    const r = runCli(['run', 'fault-vs-munmap', '--bug', 'B1', '--threads', '3', '--schedule', 'random', '--seed', '1', '-d', '20s', '--schedule-file', file, '--no-progress']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/WARNING: bad unlock balance detected!/);
    expect(r.err).toContain(`replay: mmtorture replay ${file}`);
    expect(r.err).toMatch(/<-- violation/);
    const p = runCli(['replay', file]);
    expect(p.code).toBe(1);
    expect(p.out).toMatch(/bad-unlock-balance at step \d+ by T\d .*REPRODUCED/);
    const tr = runCli(['replay', file, '--trace']);
    expect(tr.out.split('\n').filter((l) => /^\s+\d+  T\d /.test(l)).length).toBeGreaterThan(20);
  });

  it('bad input is a one-line usage error', () => {
    expectUsageError(['run', 'fault-vs-munmap', '--schedule', 'fifo'], /invalid --schedule 'fifo' \(valid: pct, random\)/);
    expectUsageError(['run', 'fault-vs-munmap', '--schedule', 'pct', '--pct-depth', '12'], /--pct-depth/);
    const bad = path.join(dir, 'not-a-schedule.json');
    writeFileSync(bad, '{"hello": 1}\n');
    expectUsageError(['replay', bad], /not a schedule file/);
    expectUsageError(['shrink', path.join(dir, 'missing.json')], /cannot read schedule file/);
  });
});
