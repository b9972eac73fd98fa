/**
 * Single-thread page-fault micro-benchmark (tinybench): the cost of one
 * anonymous write fault on the per-VMA-lock path and on the mmap_lock path,
 * in eras E1 and E3, as faults/s. Each sample write-faults the 64 pages of a
 * VMA through doUserAddrFault and zaps them again with MADV_DONTNEED, so each
 * fault's figure includes 1/64 of a zap (as will-it-scale's page_fault does).
 *
 *   npm run bench:fault     # table on stdout, JSON to bench/results/fault.json
 */
import os from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Bench } from 'tinybench';
import type { MmCtx } from '../src/mm/model.js';
import { doMadviseDontneed } from '../src/mm/madvise.js';
import { doUserAddrFault } from '../src/mm/fault.js';
import { rcuProcessCallbacks } from '../src/sync/rcu.js';
import { arg, faultSetup, FAULT_PAGES as PAGES } from './common.js';

export interface FaultRow {
  era: string;
  path: string;
  faultsPerSec: number;
  nsPerFault: number;
  rme: number;
}

export async function runFaultBench(timeMs: number): Promise<FaultRow[]> {
  const bench = new Bench({ time: timeMs, warmupTime: 200 });
  const cases: { era: 1 | 3; perVma: boolean; c: MmCtx; mm: number }[] = [];
  for (const era of [1, 3] as const) {
    for (const perVma of [true, false]) {
      const { c, mm } = faultSetup(era, perVma);
      cases.push({ era, perVma, c, mm });
      bench.add(`E${era} ${perVma ? 'per-vma' : 'mmap_lock'} fault+zap`, () => {
        for (let p = 0; p < PAGES; p++) doUserAddrFault(c, mm, p, true);
        doMadviseDontneed(c, mm, 0, PAGES);
        rcuProcessCallbacks(c.t, c.rcuFn);
      });
    }
  }
  await bench.run();
  const res = bench.tasks.map((t) => {
    if (t.result.state !== 'completed') throw new Error(`${t.name}: ${t.result.state}`);
    return { name: t.name, ms: t.result.latency.mean, rme: t.result.latency.rme };
  });
  const rows: FaultRow[] = [];
  for (let k = 0; k < cases.length; k++) {
    const ms = res[k].ms;
    rows.push({
      era: `E${cases[k].era}`,
      path: cases[k].perVma ? 'per-VMA lock' : 'mmap_lock',
      faultsPerSec: PAGES / (ms / 1000),
      nsPerFault: (ms * 1e6) / PAGES,
      rme: res[k].rme,
    });
  }
  return rows;
}

async function main() {
  const timeMs = Number(arg('--time', '1000'));
  const out = arg('--json', path.join('bench', 'results', 'fault.json'));
  const rows = await runFaultBench(timeMs);
  console.log(`${'era'.padEnd(4)}  ${'path'.padEnd(13)}  ${'faults/s'.padStart(10)}  ${'ns/fault'.padStart(9)}  ${'rme%'.padStart(6)}`);
  for (const r of rows) {
    console.log(`${r.era.padEnd(4)}  ${r.path.padEnd(13)}  ${Math.round(r.faultsPerSec).toString().padStart(10)}  ${r.nsPerFault.toFixed(0).padStart(9)}  ${r.rme.toFixed(2).padStart(6)}`);
  }
  const cpus = os.cpus();
  const doc = { date: new Date().toISOString(), machine: { cpu: cpus[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version }, pagesPerSample: PAGES, note: 'each fault includes 1/64 of a MADV_DONTNEED zap of the VMA', rows };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(doc, null, 2) + '\n');
  console.log(`\nJSON: ${out}`);
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) await main();
