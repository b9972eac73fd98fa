/**
 * Per catalogue entry: the tuned row under PCT (depth 3, --ops operations
 * per actor) until it fails (at most --timeout), then `shrink` on the
 * schedule found (at most --max-tests replays): steps to detect, and what
 * shrinking removed (operations per actor, context switches, preemptions,
 * the violation's step). Prints a table and writes JSON (and each shrunk
 * schedule file with --files <dir>).
 *
 *   npm run bench:shrink -- --timeout 30s --max-tests 300
 */
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUGS } from '../src/bugs/catalogue.js';
import type { RunConfig } from '../src/harness/run.js';
import { exploreSchedules } from '../src/harness/controlled.js';
import { scheduleFileOf, shrinkSchedule, writeScheduleFile } from '../src/harness/schedule.js';
import { parseDuration } from '../src/harness/parse.js';
import { arg } from './common.js';

interface ShrinkRow {
  id: string;
  found: boolean;
  schedules: number;
  stepsToDetect: number | null;
  ms: number;
  before?: { step: number; switches: number; preemptions: number; ops: number };
  after?: { step: number; switches: number; preemptions: number; ops: number };
  tests?: number;
  shrinkMs?: number;
}

async function main(): Promise<void> {
  const timeoutMs = parseDuration(arg('--timeout', '30s'), '--timeout');
  const ops = Number(arg('--ops', '8'));
  const maxTests = Number(arg('--max-tests', '300'));
  const seed = Number(arg('--seed', '1'));
  const only = arg('--bug', '');
  const files = arg('--files', '');
  const rows: ShrinkRow[] = [];
  for (const b of BUGS) {
    if (only && !only.split(',').includes(b.id)) continue;
    const cfg: RunConfig = {
      scenario: b.scenario, threads: b.threads, durationMs: timeoutMs, seed, bugs: [b.id], watchdogMs: 5000, statIntervalMs: 1e9,
      keepGoing: false, quiet: true, progress: false, model: { era: b.era ?? 1 },
    };
    const ex = await exploreSchedules(cfg, { mode: 'pct', seed, depth: 3, ops: [ops], maxSteps: 100_000, budgetMs: timeoutMs, maxRuns: Number.MAX_SAFE_INTEGER });
    const row: ShrinkRow = { id: b.id, found: Boolean(ex.found), schedules: ex.runs, stepsToDetect: ex.stepsToDetect, ms: ex.elapsedMs };
    if (ex.found && ex.schedule) {
      const f = scheduleFileOf({ ...cfg, schedule: ex.schedule }, ex.found);
      const t0 = performance.now();
      let s;
      try {
        s = await shrinkSchedule(f, { maxTests });
      } catch (e) {
        process.stderr.write(`${b.id}: shrink: ${e instanceof Error ? e.message : String(e)}\n`);
        rows.push(row);
        continue;
      }
      row.shrinkMs = performance.now() - t0;
      row.tests = s.tests;
      const sum = (xs: number[]) => xs.reduce((a, x) => a + x, 0);
      row.before = { step: s.before.steps, switches: s.before.switches, preemptions: s.before.preemptions, ops: sum(s.before.ops) };
      row.after = { step: s.after.steps, switches: s.after.switches, preemptions: s.after.preemptions, ops: sum(s.after.ops) };
      if (files) {
        mkdirSync(files, { recursive: true });
        writeScheduleFile(path.join(files, `${b.id}.schedule.json`), f);
        writeScheduleFile(path.join(files, `${b.id}.schedule.shrunk.json`), s.file);
      }
    }
    rows.push(row);
    process.stderr.write(`${b.id}: ${row.found ? `found after ${row.schedules} schedules` : 'missed'}\n`);
  }
  const head = ['bug', 'PCT', 'schedules', 'steps to detect', 'ms', 'violation step', 'switches', 'preemptions', 'ops', 'replays'];
  const arrow = (a?: number, b?: number) => (a === undefined ? '-' : `${a} -> ${b}`);
  const cells = rows.map((r) => [r.id, r.found ? 'found' : 'missed', String(r.schedules), r.stepsToDetect === null ? '-' : String(r.stepsToDetect), String(Math.round(r.ms)),
    arrow(r.before?.step, r.after?.step), arrow(r.before?.switches, r.after?.switches), arrow(r.before?.preemptions, r.after?.preemptions), arrow(r.before?.ops, r.after?.ops), r.tests === undefined ? '-' : String(r.tests)]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  for (const line of [head, ...cells]) console.log(line.map((c, i) => c.padEnd(w[i])).join('  '));
  const found = rows.filter((r) => r.found);
  const ratio = (k: 'switches' | 'preemptions' | 'step') => {
    const xs = found.filter((r) => r.before![k] > 0).map((r) => r.after![k] / r.before![k]).sort((a, b) => a - b);
    return xs.length ? xs[xs.length >> 1].toFixed(2) : '-';
  };
  console.log(`found ${found.length}/${rows.length}; median shrink ratio (after/before): switches ${ratio('switches')}, preemptions ${ratio('preemptions')}, violation step ${ratio('step')}`);
  const out = arg('--json', 'bench/results/shrink.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version }, timeoutMs, ops, maxTests, seed, rows }, null, 2) + '\n');
}

await main();
