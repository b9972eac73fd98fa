/*
 * The pieces the HTML pages share (bench --html, report --html): one
 * stylesheet, escaping, number formatting and an inline-SVG line chart.
 */

export interface Series {
  name: string;
  points: [number, number][];
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
pre{background:#f8f8f8;border:1px solid #ddd;padding:8px;overflow-x:auto;font-size:12px}.bad{color:#b00}.good{color:#080}
`;

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** HTML-escape text and attribute values. */
export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function fmtNum(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  if (v > 0 && v < 1) return v.toFixed(2);
  return String(Math.round(v));
}

/** An SVG line chart with axes, ticks, points and a legend. */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[], id: string): string {
  const W = 560;
  const H = 320;
  const L = 70;
  const R = 170;
  const T = 36;
  const B = 48;
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  const xMin = Math.min(...xs, 1);
  const xMax = Math.max(...xs, xMin + 1);
  const yMax = Math.max(...ys, 0) * 1.1 || 1;
  const px = (x: number) => L + ((x - xMin) / (xMax - xMin)) * (W - L - R);
  const py = (y: number) => H - B - (y / yMax) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg id="${esc(id)}" class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(title)}">`);
  parts.push(`<text x="${W / 2 - R / 2}" y="20" text-anchor="middle" class="title">${esc(title)}</text>`);
  parts.push(`<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" class="axis"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" class="axis"/>`);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    parts.push(`<line x1="${L}" y1="${py(y)}" x2="${W - R}" y2="${py(y)}" class="grid"/><text x="${L - 6}" y="${py(y) + 4}" text-anchor="end" class="tick">${fmtNum(y)}</text>`);
  }
  // Every x value as a tick (thread counts), or six even ticks for a time axis.
  const distinct = [...new Set(xs)].sort((a, b) => a - b);
  const ticks = distinct.length <= 12 ? distinct : Array.from({ length: 6 }, (_, i) => xMin + ((xMax - xMin) * i) / 5);
  for (const x of ticks) {
    parts.push(`<text x="${px(x)}" y="${H - B + 16}" text-anchor="middle" class="tick">${Number.isInteger(x) ? x : x.toFixed(1)}</text>`);
  }
  parts.push(`<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle" class="label">${esc(xLabel)}</text>`);
  if (ys.length === 0) parts.push(`<text x="${(L + W - R) / 2}" y="${(T + H - B) / 2}" text-anchor="middle" class="label">no contended waits recorded</text>`);
  parts.push(`<text x="16" y="${(T + H - B) / 2}" text-anchor="middle" class="label" transform="rotate(-90 16 ${(T + H - B) / 2})">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map((p) => `${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(' ')}"/>`);
    const r = pts.length > 60 ? 1.5 : 3.5;
    for (const p of pts) parts.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="${r}" fill="${c}"><title>${esc(s.name)}: ${esc(xLabel)} ${Number.isInteger(p[0]) ? p[0] : p[0].toFixed(2)}, ${fmtNum(p[1])}</title></circle>`);
    parts.push(`<rect x="${W - R + 12}" y="${T + i * 20}" width="12" height="12" fill="${c}"/><text x="${W - R + 30}" y="${T + i * 20 + 10}" class="legend">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
