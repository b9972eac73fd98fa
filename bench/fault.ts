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
import { arg, FAULT_PAGES as PAGES } from './common.js';
import { faultInWorker } from './micro.js';

export interface FaultRow {
  era: string;
  path: string;
  faultsPerSec: number;
  nsPerFault: number;
  rme: number;
}

/**
 * Each configuration in a fresh worker (bench/micro.ts's), as each of a
 * run's workers runs one configuration: four configurations through the same
 * functions of one isolate measure code compiled for all of them at once.
 */
export async function runFaultBench(timeMs: number): Promise<FaultRow[]> {
  const rows: FaultRow[] = [];
  for (const era of [1, 3] as const) {
    for (const perVma of [true, false]) {
      const r = await faultInWorker(era, perVma, 0, timeMs);
      rows.push({
        era: `E${era}`,
        path: perVma ? 'per-VMA lock' : 'mmap_lock',
        faultsPerSec: PAGES / (r.mean / 1000),
        nsPerFault: (r.mean * 1e6) / PAGES,
        rme: r.rme,
      });
    }
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
