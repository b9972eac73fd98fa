import os from 'node:os';
import { writeOutput } from './output.js';
import { findWorkload } from '../../stress/index.js';
import { runScenario, type RunConfig, type RunIO } from './run.js';
import { si, formatDuration } from './parse.js';
import { benchHtml } from './bench-html.js';
import { lockPercentile, type LockPercentile } from './collect.js';
import type { BenchOptions, BenchPoint, BenchReport } from './bench-types.js';

export type { BenchOptions, BenchPoint, BenchReport };

/*
 * mmtorture bench: a contention benchmark in the spirit of will-it-scale and
 * lock_stat. Every point (workload x mode x era x threads) runs `repeat`
 * times; the report gives the median and the spread, the scaling efficiency
 * against one thread, the per-VMA lock outcome and fallback rate, and
 * lock_stat per class with wait-time percentiles from the arena histograms.
 */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function defaultThreadList(max = os.availableParallelism()): number[] {
  const out: number[] = [];
  for (let n = 1; n < max; n *= 2) out.push(n);
  out.push(max);
  return [...new Set(out)];
}

const silentIO: RunIO = { out: () => undefined, err: () => undefined, isTTY: false };

export async function runBench(o: BenchOptions, io: RunIO, signal?: AbortSignal): Promise<BenchReport> {
  const points: BenchPoint[] = [];
  const cpus = os.cpus();
  let k = 0;
  const total = o.workloads.reduce((a, w) => {
    const sc = findWorkload(w);
    return a + (sc?.usesModel ? o.modes.length * o.eras.length : 1) * o.threads.length;
  }, 0);
  const started = performance.now();
  let interrupted: string | null = null;
  points: for (const w of o.workloads) {
    const sc = findWorkload(w);
    if (!sc) throw new Error(`unknown workload ${w}`);
    const modes = sc.usesModel ? o.modes : (['n/a'] as const);
    const eras = sc.usesModel ? o.eras : [null];
    for (const mode of modes) {
      for (const era of eras) {
        let base1: number | null = null;
        for (const threads of o.threads) {
          const samples: number[] = [];
          let last: Awaited<ReturnType<typeof runScenario>> | null = null;
          let violations = 0;
          for (let r = 0; r < o.repeat; r++) {
            const cfg: RunConfig = {
              scenario: sc.name, threads, durationMs: o.durationMs, seed: (o.seed + r + k++) | 0, bugs: [],
              watchdogMs: 10_000, statIntervalMs: 3_600_000, keepGoing: false, quiet: true, progress: false,
              params: [o.writerRate, o.writerHold ?? 0], trace: false, checks: o.check, checkIntervalMs: o.check ? 1000 : 0,
              model: era === null ? undefined : { era, perVmaLock: mode !== 'mmap-lock' },
            };
            const res = await runScenario(cfg, silentIO, { signal });
            if (signal?.aborted) {
              // The point is abandoned (a cut-short sample is not a measurement); the table keeps the finished ones.
              interrupted = typeof signal.reason === 'string' ? signal.reason : 'abort';
              break points;
            }
            const d = res.stats.data as Record<string, number>;
            const ops = sc.usesModel ? d.faults : d.ops;
            samples.push((ops ?? 0) / (res.durationMs / 1000));
            violations += res.violationCount;
            last = res;
          }
          const med = median(samples);
          if (threads === o.threads[0] && o.threads[0] === 1) base1 = med;
          const d = (last?.stats.data ?? {}) as Record<string, number>;
          const vma = sc.usesModel
            ? { success: d.vma_lock_success, abort: d.vma_lock_abort, retry: d.vma_lock_retry, miss: d.vma_lock_miss, mmapLockFaults: d.mmap_lock_faults, faults: d.faults }
            : null;
          const pt: BenchPoint = {
            workload: w, mode, era, threads,
            opsPerSec: med, opsPerSecMin: Math.min(...samples), opsPerSecMax: Math.max(...samples),
            spreadPct: med > 0 ? ((Math.max(...samples) - Math.min(...samples)) / med) * 100 : 0,
            perThread: med / threads,
            efficiency: base1 ? med / (threads * base1) : null,
            vma,
            fallbackRate: vma && vma.faults > 0 ? 1 - vma.success / vma.faults : null,
            lockStat: last?.lockStat ?? [],
            violations,
            status: last?.status ?? 'ERROR',
          };
          points.push(pt);
          const el = performance.now() - started;
          io.err(`[${points.length}/${total} ${Math.floor((100 * points.length) / total)}% ${formatDuration(el)}, ~${formatDuration((el / points.length) * (total - points.length))} left] bench ${w} ${mode}${era ? ` E${era}` : ''} ${threads}T: ${si(med)} ${sc.usesModel ? 'faults' : 'ops'}/s (±${pt.spreadPct.toFixed(0)}%)${violations ? ` ${violations} VIOLATIONS` : ''}\n`);
        }
      }
    }
  }
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: { cpu: cpus[0]?.model ?? 'unknown', cores: os.availableParallelism(), node: process.version, platform: `${os.platform()} ${os.arch()}` },
    options: o,
    checked: o.check,
    points,
    interrupted,
  };
  for (const l of benchTable(report)) io.out(l);
  const bad = points.filter((p) => p.violations > 0 || p.status === 'ERROR' || p.status === 'HANG');
  const verdict = interrupted ? 'INTERRUPTED' : bad.length ? 'FAILURE' : 'SUCCESS';
  if (interrupted) io.err(`interrupted by ${interrupted}: ${points.length} of ${total} points measured; the table and the files hold those\n`);
  io.out(`bench: ${points.length}/${total} points, ${formatDuration(performance.now() - started)}, ${bad.length} with violations or errors: ${verdict}`);
  if (o.json) writeOutput(o.json, JSON.stringify(report, null, 2) + '\n');
  if (o.html) writeOutput(o.html, benchHtml(report));
  return report;
}

/** The per-VMA / mmap_lock faults/s ratio of every (workload, era, threads) measured in both modes. */
export function benchRatios(r: BenchReport): { workload: string; era: number; threads: number; ratio: number }[] {
  const out: { workload: string; era: number; threads: number; ratio: number }[] = [];
  for (const a of r.points) {
    if (a.mode !== 'per-vma' || a.era === null) continue;
    const b = r.points.find((p) => p.workload === a.workload && p.era === a.era && p.threads === a.threads && p.mode === 'mmap-lock');
    if (b && b.opsPerSec > 0) out.push({ workload: a.workload, era: a.era, threads: a.threads, ratio: a.opsPerSec / b.opsPerSec });
  }
  return out;
}

/** A lock class's percentile as `<bound`, or '-' when it has no samples of that kind. */
export function lockP99(p: BenchPoint, cls: string, which: LockPercentile = 'waitP99Us'): string {
  const v = lockPercentile(p.lockStat, cls, which);
  return v === null ? '-' : `<${v}`;
}

/** The results table (stdout). */
export function benchTable(r: BenchReport): string[] {
  const head = ['workload', 'mode', 'era', 'threads', 'ops/s', 'spread', 'ops/s/thread', 'efficiency', 'fallback', 'mmap_lock wait p99 us', 'W-hold p99', 'wake p99', 'vm_lock wait p99 us'];
  const rows = r.points.map((p) => [
    p.workload, p.mode, p.era ? `E${p.era}` : '-', String(p.threads), si(p.opsPerSec), `±${p.spreadPct.toFixed(0)}%`, si(p.perThread),
    p.efficiency === null ? '-' : p.efficiency.toFixed(2), p.fallbackRate === null || p.mode === 'mmap-lock' ? '-' : `${(p.fallbackRate * 100).toFixed(1)}%`,
    lockP99(p, '&mm->mmap_lock'), lockP99(p, '&mm->mmap_lock', 'writeHoldP99Us'), lockP99(p, '&mm->mmap_lock', 'wakeP99Us'), lockP99(p, 'vm_lock'),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const fmt = (c: string[]) => c.map((x, i) => (i < 3 ? x.padEnd(w[i]) : x.padStart(w[i]))).join('  ');
  const out = [`mmtorture bench — ${r.date.slice(0, 10)}, ${r.machine.cores} cores (${r.machine.cpu}), ${r.machine.node}; oracles ${r.checked ? 'on' : 'off (--no-check)'}; median of ${r.options.repeat}`, fmt(head), ...rows.map(fmt)];
  out.push('ops/s: faults per second for the mm workloads (era E1..E3), lock operations per second for the others');
  // Headline: per-VMA vs mmap_lock per workload and era, at every thread count.
  const ratios = benchRatios(r);
  for (const wname of new Set(ratios.map((x) => x.workload))) {
    for (const era of new Set(ratios.filter((x) => x.workload === wname).map((x) => x.era))) {
      const rs = ratios.filter((x) => x.workload === wname && x.era === era);
      out.push(`${wname} E${era}: per-VMA / mmap_lock = ${rs.map((x) => `${x.ratio.toFixed(2)} (${x.threads} thr)`).join(', ')}`);
    }
  }
  return out;
}
