import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBench, benchTable, type BenchReport } from '../src/harness/bench.js';

describe('mmtorture bench output (shape only: no timing is asserted)', () => {
  it('prints the table, writes JSON and a self-contained HTML page with SVG charts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmt-bench-'));
    const json = path.join(dir, 'bench.json');
    const html = path.join(dir, 'bench.html');
    const out: string[] = [];
    const rep = await runBench({
      workloads: ['page-fault', 'rwsem-read'], threads: [1, 2], modes: ['per-vma', 'mmap-lock'], eras: [1],
      durationMs: 300, repeat: 2, writerRate: 1000, seed: 9, check: true, json, html,
    }, { out: (l) => out.push(l), err: () => undefined, isTTY: false });
    // page-fault: 2 modes x 2 thread counts; rwsem-read: 2 thread counts.
    expect(rep.points).toHaveLength(6);
    expect(out.join('\n')).toMatch(/workload\s+mode\s+era\s+threads\s+ops\/s/);
    expect(out.some((l) => /^page-fault E1: per-VMA \/ mmap_lock = \d+\.\d\d \(1 thr\), \d+\.\d\d \(2 thr\)$/.test(l))).toBe(true);
    for (const p of rep.points) {
      expect(p.opsPerSec).toBeGreaterThan(0);
      expect(p.violations).toBe(0);
      expect(p.opsPerSecMin).toBeLessThanOrEqual(p.opsPerSec);
      expect(p.opsPerSecMax).toBeGreaterThanOrEqual(p.opsPerSec);
      if (p.threads === 1) expect(p.efficiency).toBe(1);
    }
    const pv = rep.points.find((p) => p.workload === 'page-fault' && p.mode === 'per-vma')!;
    const ml = rep.points.find((p) => p.workload === 'page-fault' && p.mode === 'mmap-lock')!;
    expect(pv.fallbackRate!).toBeLessThan(0.5);
    expect(ml.fallbackRate).toBe(1);
    expect(ml.vma!.success).toBe(0);
    expect(ml.lockStat.find((r) => r.class === '&mm->mmap_lock')!.acquisitions).toBeGreaterThan(0);
    const j = JSON.parse(readFileSync(json, 'utf8')) as BenchReport;
    expect(j.points).toHaveLength(6);
    expect(j.checked).toBe(true);
    expect(j.machine.cores).toBeGreaterThan(0);
    expect(benchTable(j)).toEqual(benchTable(rep));
    const page = readFileSync(html, 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).not.toMatch(/<script|(src|href)="https?:/); // self-contained, no scripts or remote assets
    expect((page.match(/<svg /g) ?? []).length).toBe(7); // the per-VMA/mmap_lock ratio; page-fault: throughput, fallback, wait against hold, wake-up latency; rwsem-read: throughput, wait
    expect((page.match(/<polyline /g) ?? []).length).toBeGreaterThanOrEqual(3);
    expect((page.match(/<tr>/g) ?? []).length).toBe(7); // header + 6 points
  }, 60_000);
});

describe('the contending writers (issue #13)', () => {
  it('fault-vs-munmap-large: the writer moves --writer-hold pages under mmap_lock write; lock_stat gives its hold and the woken waits their latency', async () => {
    const rep = await runBench({
      workloads: ['fault-vs-munmap-large'], threads: [3], modes: ['mmap-lock'], eras: [1],
      durationMs: 400, repeat: 1, writerRate: 1000, writerHold: 128, seed: 5, check: true,
    }, { out: () => undefined, err: () => undefined, isTTY: false });
    const [p] = rep.points;
    expect(p.violations).toBe(0);
    expect(p.opsPerSec).toBeGreaterThan(0);
    const ml = p.lockStat.find((r) => r.class === '&mm->mmap_lock')!;
    // Faulters queue behind the unpaced writer and are woken by its up_write.
    expect(ml.contentions).toBeGreaterThan(0);
    expect(ml.wakeups).toBeGreaterThan(0);
    expect(ml.wakeP99Us).toBeGreaterThanOrEqual(ml.wakeP50Us);
    expect(ml.holdSamples).toBeGreaterThan(0);
    expect(ml.holdP99Us).toBeGreaterThanOrEqual(ml.holdP50Us);
    // The writer's exclusive holds are their own histogram: the mremaps of 128 pages.
    expect(ml.writeHolds).toBeGreaterThan(0);
    expect(ml.writeHoldP99Us).toBeGreaterThanOrEqual(ml.writeHoldP50Us);
    expect(ml.writeHoldP50Us).toBeGreaterThan(0);
  }, 30_000);

  it('small-allocs-mt read-faults the zero page: no anon_vma, so the per-VMA path never falls back for it', async () => {
    const rep = await runBench({
      workloads: ['small-allocs-mt'], threads: [1], modes: ['per-vma'], eras: [1],
      durationMs: 300, repeat: 1, writerRate: 1000, seed: 6, check: true,
    }, { out: () => undefined, err: () => undefined, isTTY: false });
    const [p] = rep.points;
    expect(p.violations).toBe(0);
    expect(p.vma!.faults).toBeGreaterThan(0);
    expect(p.vma!.success).toBe(p.vma!.faults);
  }, 30_000);
});

// Issue #10: the bench workloads keep their oracles (content checks, lockdep,
// quiescent checks with --check) at every thread count, not just 1-2.
describe('every bench workload runs clean with checks on at 3, 4, 5, 8 and 16 threads', async () => {
  const { WORKLOADS, workloadName } = await import('../stress/index.js');
  // Modes and eras alternate between the counts (E1 per-VMA, E3 mmap_lock only, ...).
  [3, 4, 5, 8, 16].forEach((threads, i) => {
    it(`${threads} threads`, async () => {
      const rep = await runBench({
        workloads: WORKLOADS.map(workloadName), threads: [threads], modes: [i % 2 ? 'mmap-lock' : 'per-vma'], eras: [i % 2 ? 3 : 1],
        durationMs: 150, repeat: 1, writerRate: 1000, seed: threads, check: true,
      }, { out: () => undefined, err: () => undefined, isTTY: false });
      expect(rep.points.length).toBeGreaterThanOrEqual(WORKLOADS.length);
      for (const p of rep.points) {
        expect(p.violations, `${p.workload} ${p.mode}`).toBe(0);
        expect(p.opsPerSec, `${p.workload} ${p.mode}`).toBeGreaterThan(0);
      }
    });
  });
});

describe('chart axes', () => {
  it('ticks are round (1, 2 or 5 times a power of ten) and cover the data', async () => {
    const { niceTicks } = await import('../src/harness/html.js');
    for (const [lo, hi] of [[0, 337_800], [0, 0.53], [0, 97], [0.05, 0.5], [0, 1], [0, 2_500_000]] as const) {
      const t = niceTicks(lo, hi);
      expect(t.length).toBeGreaterThanOrEqual(2);
      expect(t.length).toBeLessThanOrEqual(12);
      const step = t[1] - t[0];
      const mant = step / 10 ** Math.floor(Math.log10(step));
      expect([1, 2, 5, 10].some((m) => Math.abs(mant - m) < 1e-9)).toBe(true);
      for (const x of t) expect(Math.abs(x / step - Math.round(x / step))).toBeLessThan(1e-6);
      expect(t[t.length - 1]).toBeGreaterThanOrEqual(hi - step);
      expect(t[0]).toBeLessThanOrEqual(lo + step);
    }
  });

  it('tick labels are distinct: 1.5 is not rounded to 2', async () => {
    const { niceTicks, fmtNum } = await import('../src/harness/html.js');
    for (const [lo, hi] of [[0, 1.94], [0, 2.6], [0, 97], [0, 337_800]] as const) {
      const labels = niceTicks(lo, hi).map(fmtNum);
      expect(new Set(labels).size, labels.join(' ')).toBe(labels.length);
    }
    expect(fmtNum(1.5)).toBe('1.5');
    expect(fmtNum(37.44)).toBe('37.4');
    expect(fmtNum(2)).toBe('2');
  });
});
