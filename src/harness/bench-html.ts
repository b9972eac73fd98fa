import type { BenchReport, BenchPoint } from './bench-types.js';
import { lineChart, esc, fmtNum, PAGE_CSS, type Series } from './html.js';
import { lockPercentile, type LockPercentile } from './collect.js';

/*
 * A self-contained HTML page (inline SVG, no scripts, no external assets)
 * for `mmtorture bench --html`: throughput against threads per mode, the
 * per-VMA fallback rate, and lock wait percentiles, plus the full table.
 */

function seriesName(p: BenchPoint): string {
  return p.mode === 'n/a' ? p.workload : `${p.mode}${p.era ? ` E${p.era}` : ''}`;
}

function group(points: BenchPoint[], value: (p: BenchPoint) => number | null, range?: (p: BenchPoint) => [number, number]): Series[] {
  const m = new Map<string, Series['points']>();
  for (const p of points) {
    const v = value(p);
    if (v === null || !Number.isFinite(v)) continue;
    const k = seriesName(p);
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(range ? [p.threads, v, ...range(p)] : [p.threads, v]);
  }
  return [...m.entries()].map(([name, pts]) => ({ name, points: pts }));
}

/** per-VMA / mmap_lock throughput of the same workload, era and thread count. */
export function modeRatio(r: BenchReport, p: BenchPoint): number | null {
  if (p.mode !== 'per-vma') return null;
  const b = r.points.find((q) => q.workload === p.workload && q.era === p.era && q.threads === p.threads && q.mode === 'mmap-lock');
  return b && b.opsPerSec > 0 ? p.opsPerSec / b.opsPerSec : null;
}

function ratioSeries(r: BenchReport): Series[] {
  const m = new Map<string, [number, number][]>();
  for (const p of r.points) {
    const x = modeRatio(r, p);
    if (x === null) continue;
    const k = `${p.workload}${p.era ? ` E${p.era}` : ''}`;
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push([p.threads, x]);
  }
  return [...m.entries()].map(([name, points]) => ({ name, points }));
}

/** Series of one percentile per mode, named `mode label`. */
function labelled(pts: BenchPoint[], label: string, value: (p: BenchPoint) => number | null): Series[] {
  return group(pts, value).map((s) => ({ ...s, name: `${s.name} ${label}` }));
}

export function benchHtml(r: BenchReport): string {
  const charts: string[] = [];
  let n = 0;
  const threads = [...new Set(r.points.map((p) => p.threads))].sort((a, b) => a - b);
  const machine = `${r.machine.cores} cores, ${r.machine.cpu}, Node ${r.machine.node}`;
  const ratios = ratioSeries(r);
  const headline = ratios.length
    ? `<section><h2>per-VMA locks against mmap_lock only (${esc(machine)})</h2><div class="row">${lineChart('per-VMA / mmap_lock throughput', 'threads', 'ratio (above 1: per-VMA faster)', ratios, 'ratio', { xTicks: threads, refY: 1 })}</div></section>`
    : '';
  for (const w of new Set(r.points.map((p) => p.workload))) {
    const pts = r.points.filter((p) => p.workload === w);
    const mm = pts.some((p) => p.vma);
    const sec: string[] = [`<section><h2>${esc(w)}</h2><div class="row">`];
    const xt = { xTicks: threads, empty: 'no contended waits recorded' };
    sec.push(lineChart(`${w}: throughput (median, min–max bars)`, 'threads', mm ? 'faults/s' : 'ops/s', group(pts, (p) => p.opsPerSec, (p) => [p.opsPerSecMin, p.opsPerSecMax]), `c${n++}`, { xTicks: threads }));
    if (mm) {
      sec.push(lineChart(`${w}: faults that fell back to mmap_lock`, 'threads', 'fallback', group(pts.filter((p) => p.mode === 'per-vma'), (p) => p.fallbackRate), `c${n++}`, { xTicks: threads, percent: true, empty: 'no per-VMA points' }));
      const ml = '&mm->mmap_lock';
      sec.push(lineChart(`${w}: mmap_lock wait p99 against its write-hold p99`, 'threads', 'µs (log2 bucket bound)', [
        ...labelled(pts, 'wait', (p) => lockPercentile(p.lockStat, ml, 'waitP99Us')), ...labelled(pts, 'write hold', (p) => lockPercentile(p.lockStat, ml, 'writeHoldP99Us')),
      ], `c${n++}`, { ...xt, logY: true }));
      sec.push(lineChart(`${w}: mmap_lock wake-up latency (wake_up_process to running)`, 'threads', 'µs (log2 bucket bound)', [
        ...labelled(pts, 'p50', (p) => lockPercentile(p.lockStat, ml, 'wakeP50Us')), ...labelled(pts, 'p99', (p) => lockPercentile(p.lockStat, ml, 'wakeP99Us')),
      ], `c${n++}`, { ...xt, logY: true, empty: 'no woken waits recorded' }));
    } else {
      const cls = w.startsWith('rwsem') ? 'torture_rwsem' : null;
      if (cls) sec.push(lineChart(`${w}: rwsem wait p99`, 'threads', 'µs (log2 bucket bound)', group(pts, (p) => lockPercentile(p.lockStat, cls, 'waitP99Us')), `c${n++}`, xt));
    }
    sec.push('</div></section>');
    charts.push(sec.join(''));
  }
  const p99 = (p: BenchPoint, cls: string, which: LockPercentile = 'waitP99Us') => {
    const v = lockPercentile(p.lockStat, cls, which);
    return v === null ? '-' : `&lt;${v}`;
  };
  const rows = r.points.map((p) => {
    const ratio = modeRatio(r, p);
    return `<tr><td>${esc(p.workload)}</td><td>${p.mode}</td><td>${p.era ? `E${p.era}` : '-'}</td><td>${p.threads}</td><td>${fmtNum(p.opsPerSec)}</td><td>±${p.spreadPct.toFixed(0)}%</td><td>${fmtNum(p.perThread)}</td><td>${p.efficiency === null ? '-' : p.efficiency.toFixed(2)}</td><td>${p.fallbackRate === null || p.mode === 'mmap-lock' ? '-' : (p.fallbackRate * 100).toFixed(1) + '%'}</td><td>${p99(p, '&mm->mmap_lock')}</td><td>${p99(p, '&mm->mmap_lock', 'writeHoldP99Us')}</td><td>${p99(p, '&mm->mmap_lock', 'wakeP50Us')} / ${p99(p, '&mm->mmap_lock', 'wakeP99Us')}</td><td>${p99(p, 'vm_lock')}</td><td>${ratio === null ? '-' : ratio.toFixed(2)}</td><td>${p.violations}</td></tr>`;
  }).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mmtorture bench ${esc(r.date.slice(0, 10))}</title>
<style>${PAGE_CSS}</style></head><body>
<h1>mmtorture bench — ${esc(machine)}</h1>
<div class="meta">${esc(r.date)} — ${r.machine.cores} cores, ${esc(r.machine.cpu)}, Node ${esc(r.machine.node)}, ${esc(r.machine.platform)}; ${r.options.durationMs} ms per point, median of ${r.options.repeat}; oracles ${r.checked ? 'on' : 'off (--no-check)'}</div>
${headline}
${charts.join('\n')}
<h2>All points</h2>
<table id="points"><thead><tr><th>workload</th><th>mode</th><th>era</th><th>threads</th><th>ops/s (faults/s for mm)</th><th>spread</th><th>ops/s/thread</th><th>efficiency</th><th>fallback</th><th>mmap_lock wait p99 µs</th><th>mmap_lock write-hold p99 µs</th><th>mmap_lock wake-up p50 / p99 µs</th><th>vm_lock wait p99 µs</th><th>per-VMA / mmap_lock</th><th>violations</th></tr></thead><tbody>${rows}</tbody></table>
</body></html>
`;
}
