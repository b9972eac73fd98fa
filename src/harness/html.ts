/*
 * The pieces the HTML pages share (bench --html, report --html): one
 * stylesheet, escaping, number formatting and an inline-SVG line chart.
 */

export interface Series {
  name: string;
  /** [x, y] or [x, y, min, max] (an error bar). */
  points: ([number, number] | [number, number, number, number])[];
}

/** The stylesheet of the HTML pages (bench and report). */
export const PAGE_CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1800px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:22px 0 6px}
.meta{color:#555;margin-bottom:12px}.row{display:flex;flex-wrap:wrap;gap:12px}
.chart{background:#fff;border:1px solid #ddd;border-radius:6px}
.chart .title{font-size:13px;font-weight:600}.chart .tick{font-size:11px;fill:#555}.chart .label{font-size:12px;fill:#333}
.chart .legend{font-size:12px}.chart .axis{stroke:#333}.chart .grid{stroke:#eee}
table{border-collapse:collapse;margin-top:16px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f5f5f5}
td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}
table.lanes{font:12px ui-monospace,monospace;margin:8px 0}table.lanes td,table.lanes th{text-align:left;vertical-align:top;max-width:360px}
table.lanes tr.mark td.ev{background:#fff3c4}table.lanes tr.viol td.ev{background:#fbd5d5;color:#900;font-weight:600}table.lanes .args{color:#666}
pre{background:#f8f8f8;border:1px solid #ddd;padding:8px;overflow-x:auto;font-size:12px}.bad{color:#b00}.good{color:#080}
`;

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** Items grouped by key, groups and items in first-seen order. */
export function groupInOrder<T>(xs: readonly T[], key: (x: T) => string | number): T[][] {
  const m = new Map<string | number, T[]>();
  for (const x of xs) {
    const k = key(x);
    const g = m.get(k);
    if (g) g.push(x);
    else m.set(k, [x]);
  }
  return [...m.values()];
}

/** How many of a turn's later violations a page spells out (the JSON has them all). */
export const FOLD_CAP = 200;

/** A turn's (or run's) later violations, folded under its first: a <details> block, '' for none. */
export function foldedViolations(more: readonly { lines: string[] }[], unit: string): string {
  if (!more.length) return '';
  const shown = more.slice(0, FOLD_CAP).map((m) => m.lines.join('\n')).join('\n');
  const cut = more.length > FOLD_CAP ? `\n(${more.length - FOLD_CAP} more: mmtorture report --json)` : '';
  return `<details class="more"><summary>${more.length} more violation${more.length === 1 ? '' : 's'} in this ${unit}</summary><pre>${esc(shown)}${cut}</pre></details>`;
}

/** HTML-escape text and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function fmtNum(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (v > 0 && v < 1) return v.toFixed(2);
  // Three significant digits below 1000 (a 1.5 tick is 1.5, not 2).
  return Number.isInteger(v) ? String(v) : String(parseFloat(v.toPrecision(3)));
}

/** Chart options: axis scale, what an empty chart says, fixed x ticks, y as a percentage. */
export interface ChartOptions {
  /** Log10 y axis (series that differ by orders of magnitude). */
  logY?: boolean;
  /** What an empty chart says (default: "no data"). */
  empty?: string;
  /** The x ticks to draw even when no series has points (thread counts). */
  xTicks?: number[];
  /** y values are fractions drawn as percent (0..100 %). */
  percent?: boolean;
  /** Draw a horizontal reference line at this y (e.g. a ratio of 1). */
  refY?: number;
}

/** Round tick values: 1, 2 or 5 times a power of ten, covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((st) => st >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * An SVG line chart with axes, round ticks, points, optional error bars
 * (a point's third and fourth values: min and max), and a legend.
 */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[], id: string, opt: ChartOptions = {}): string {
  const W = 560;
  const H = 320;
  const L = 70;
  const R = 170;
  const T = 36;
  const B = 48;
  const scale = opt.percent ? 100 : 1;
  const all = series.map((s) => ({ ...s, points: s.points.map((p) => p.map((v, i) => (i === 0 ? v : v * scale)) as [number, number, number?, number?]) }));
  const xs = [...all.flatMap((s) => s.points.map((p) => p[0])), ...(opt.xTicks ?? [])];
  const ys = all.flatMap((s) => s.points.flatMap((p) => [p[1], p[3] ?? p[1]])).filter((y) => Number.isFinite(y) && (!opt.logY || y > 0));
  const xMin = Math.min(...xs, xs.length ? Infinity : 0);
  let xMax = Math.max(...xs, xMin);
  if (!(xMax > xMin)) xMax = xMin + 1;
  let yTicks: number[];
  let ty: (y: number) => number;
  if (opt.logY && ys.length) {
    const lo = Math.floor(Math.log10(Math.min(...ys)));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...ys))));
    yTicks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
    ty = (y) => (Math.log10(Math.max(y, 10 ** lo)) - lo) / (hi - lo);
  } else {
    const top = Math.max(...ys, opt.refY ?? 0, 0) || 1;
    yTicks = niceTicks(0, opt.percent ? Math.min(100, top) : top);
    if (yTicks[yTicks.length - 1] < top) yTicks.push(yTicks[yTicks.length - 1] + (yTicks[1] - yTicks[0] || top));
    const yMax = yTicks[yTicks.length - 1] || 1;
    ty = (y) => y / yMax;
  }
  const px = (x: number) => L + ((x - xMin) / (xMax - xMin)) * (W - L - R);
  const py = (y: number) => H - B - ty(y) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg id="${esc(id)}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<text x="${(W - R) / 2}" y="20" text-anchor="middle" class="title">${esc(title)}</text>`);
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" class="axis"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" class="axis"/>`);
  for (const y of yTicks) {
    parts.push(`<line x1="${L}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" class="grid"/><text x="${L - 6}" y="${py(y) + 4}" text-anchor="end" class="tick">${fmtNum(y)}${opt.percent ? '%' : ''}</text>`);
  }
  if (opt.refY !== undefined) parts.push(`<line x1="${L}" y1="${py(opt.refY * scale)}" x2="${W - R}" y2="${py(opt.refY * scale)}" stroke="#888" stroke-dasharray="4 3"/>`);
  // Every x value as a tick (thread counts), or round ticks for a time axis.
  const distinct = [...new Set(xs)].sort((a, b) => a - b);
  const xt = distinct.length <= 12 && distinct.every(Number.isInteger) ? distinct : niceTicks(xMin, xMax, 6).filter((x) => x >= xMin && x <= xMax);
  for (const x of xt) {
    parts.push(`<text x="${px(x)}" y="${H - B + 16}" text-anchor="middle" class="tick">${Number.isInteger(x) ? x : Number(x.toPrecision(3))}</text>`);
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle" class="label">${esc(xLabel)}</text>`);
  if (ys.length === 0) parts.push(`<text x="${(L + W - R) / 2}" y="${(T + H - B) / 2}" text-anchor="middle" class="label">${esc(opt.empty ?? 'no data')}</text>`);
  parts.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" class="label" transform="rotate(-90 16 ${(T + H - B) / 2})">${esc(yLabel)}${opt.logY ? ' (log)' : ''}</text>`);
  all.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = [...s.points].filter((p) => Number.isFinite(p[1]) && (!opt.logY || p[1] > 0)).sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`);
    const r = pts.length > 60 ? 1.5 : 3.5;
    for (const p of pts) {
      if (p[2] !== undefined && p[3] !== undefined && p[3] > p[2]) {
        const x = px(p[0]).toFixed(1);
        parts.push(`<line class="errbar" x1="${x}" y1="${py(p[2]).toFixed(1)}" x2="${x}" y2="${py(p[3]).toFixed(1)}" stroke="${c}"/>`);
        for (const v of [p[2], p[3]]) parts.push(`<line x1="${px(p[0]) - 4}" y1="${py(v).toFixed(1)}" x2="${px(p[0]) + 4}" y2="${py(v).toFixed(1)}" stroke="${c}"/>`);
      }
      parts.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="${r}" fill="${c}"><title>${esc(s.name)}: ${esc(xLabel)} ${Number.isInteger(p[0]) ? p[0] : p[0].toFixed(2)}, ${fmtNum(p[1])}${opt.percent ? '%' : ''}${p[2] !== undefined ? ` (${fmtNum(p[2])}–${fmtNum(p[3] ?? p[2])})` : ''}</title></circle>`);
    }
    parts.push(`<rect x="${W - R + 12}" y="${T + i * 20}" width="12" height="12" fill="${c}"/><text x="${W - R + 30}" y="${T + i * 20 + 10}" class="legend">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
