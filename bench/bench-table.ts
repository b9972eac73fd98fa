/**
 * The README's contention table from a `bench --json` report: one row per
 * point (workload, mode, era, threads) with the median faults/s, spread,
 * efficiency and mmap_lock's p99 wait / write hold / wake-up, and the
 * per-VMA / mmap_lock ratio on the per-VMA row; then the ratios per
 * workload, era and thread count, in markdown.
 *
 *   node dist/bench/bench-table.js bench/results/bench-headline.json
 */
import { readFileSync } from 'node:fs';
import type { BenchReport } from '../src/harness/bench-types.js';
import { si } from '../src/harness/parse.js';
import { benchRatios, lockP99 } from '../src/harness/bench.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist/bench/bench-table.js BENCH.json\n');
  process.exit(2);
}
const rep = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
const ML = '&mm->mmap_lock';
const ratios = benchRatios(rep);
const out = ['| workload | mode | era | threads | faults/s | spread | efficiency | wait p99 | write-hold p99 | wake-up p99 | per-VMA / mmap_lock |', '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|'];
for (const p of rep.points) {
  const r = p.mode === 'per-vma' ? ratios.find((x) => x.workload === p.workload && x.era === p.era && x.threads === p.threads) : undefined;
  out.push(`| ${p.workload} | ${p.mode} | ${p.era ? `E${p.era}` : '-'} | ${p.threads} | ${si(p.opsPerSec)} | ±${p.spreadPct.toFixed(0)}% | ${p.efficiency === null ? '-' : p.efficiency.toFixed(2)} | ${lockP99(p, ML)} | ${lockP99(p, ML, 'writeHoldP99Us')} | ${lockP99(p, ML, 'wakeP99Us')} | ${r ? `**${r.ratio.toFixed(2)}**` : '-'} |`);
}
process.stdout.write(out.join('\n') + '\n');
