/**
 * How often a failure under true parallelism hands over to the controlled
 * scheduler (`mmtorture hunt`), per catalogue entry: the tuned row runs in
 * parallel until it fails (at most --timeout), then the same configuration
 * runs under PCT (depth 3, --ops operations per actor) with schedule seeds
 * seed, seed + 1, ... until the same oracle fires (at most --timeout). Each
 * entry is tried with --seeds parallel seeds. Prints a table and writes JSON.
 *
 *   npm run bench:hunt -- --seeds 3 --timeout 30s
 */
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BUGS } from '../src/bugs/catalogue.js';
import { runScenario, type RunConfig } from '../src/harness/run.js';
import { exploreSchedules } from '../src/harness/controlled.js';
import { parseDuration } from '../src/harness/parse.js';
import { arg } from './common.js';

interface HuntRow {
  id: string;
  scenario: string;
  threads: number;
  tries: number;
  parallelCaught: number;
  handedOver: number;
  medianSchedules: number | null;
  medianMs: number | null;
  oracles: string[];
}

const silent = { out: () => undefined, err: () => undefined, isTTY: false };
const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[xs.length >> 1] : null);

async function main(): Promise<void> {
  const seeds = Number(arg('--seeds', '3'));
  const timeoutMs = parseDuration(arg('--timeout', '30s'), '--timeout');
  const ops = Number(arg('--ops', '8'));
  const base = Number(arg('--seed', '1'));
  const only = arg('--bug', '');
  const rows: HuntRow[] = [];
  for (const b of BUGS) {
    if (only && !only.split(',').includes(b.id)) continue;
    const row: HuntRow = { id: b.id, scenario: b.scenario, threads: b.threads, tries: 0, parallelCaught: 0, handedOver: 0, medianSchedules: null, medianMs: null, oracles: [] };
    const sch: number[] = [];
    const ms: number[] = [];
    for (let i = 0; i < seeds; i++) {
      const cfg: RunConfig = {
        scenario: b.scenario, threads: b.threads, durationMs: timeoutMs, seed: base + i, bugs: [b.id], watchdogMs: 10_000, statIntervalMs: 1e9,
        keepGoing: false, quiet: true, progress: false, model: { era: b.era ?? 1 }, jitter: b.jitter ?? 0, checkIntervalMs: 1000,
      };
      row.tries++;
      const par = await runScenario(cfg, silent);
      if (par.status !== 'FAILURE') continue;
      row.parallelCaught++;
      const kind = par.violations[0]?.kind ?? '';
      const ex = await exploreSchedules(cfg, { mode: 'pct', seed: cfg.seed, depth: 3, ops: [ops], maxSteps: 100_000, budgetMs: timeoutMs, maxRuns: Number.MAX_SAFE_INTEGER, kinds: kind ? [kind] : undefined });
      if (!ex.found) continue;
      row.handedOver++;
      sch.push(ex.runs);
      ms.push(ex.elapsedMs);
      if (!row.oracles.includes(kind)) row.oracles.push(kind);
    }
    row.medianSchedules = median(sch);
    row.medianMs = median(ms);
    rows.push(row);
    process.stderr.write(`${b.id}: parallel ${row.parallelCaught}/${row.tries}, handed over ${row.handedOver}/${row.parallelCaught}\n`);
  }
  const head = ['bug', 'scenario', 'threads', 'parallel', 'handed over', 'median schedules', 'median ms', 'oracle'];
  const cells = rows.map((r) => [r.id, r.scenario, String(r.threads), `${r.parallelCaught}/${r.tries}`, `${r.handedOver}/${r.parallelCaught}`, r.medianSchedules === null ? '-' : String(r.medianSchedules), r.medianMs === null ? '-' : String(Math.round(r.medianMs)), r.oracles.join(', ')]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  for (const line of [head, ...cells]) console.log(line.map((c, i) => c.padEnd(w[i])).join('  '));
  const total = rows.reduce((a, r) => a + r.handedOver, 0);
  const caught = rows.reduce((a, r) => a + r.parallelCaught, 0);
  console.log(`handed over: ${total}/${caught} parallel failures reproduced under PCT (${rows.filter((r) => r.parallelCaught > 0 && r.handedOver === r.parallelCaught).length}/${rows.length} entries every time)`);
  const out = arg('--json', 'bench/results/hunt.json');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: { cpu: os.cpus()[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version }, seeds, timeoutMs, ops, rows }, null, 2) + '\n');
}

await main();
