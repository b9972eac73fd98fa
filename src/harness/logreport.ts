import { readFileSync } from 'node:fs';
import { prettyFactory } from 'pino-pretty';
import { UsageError } from './errors.js';
import { formatDuration, si } from './parse.js';
import { lineChart, esc, PAGE_CSS, groupInOrder, foldedViolations } from './html.js';
import type { Paint } from './color.js';
import { formatViolation, type DecodedViolation } from './collect.js';
import type { RaceStory } from './report.js';

/*
 * mmtorture report RUN.jsonl: read back the pino log of a run or a soak and
 * turn it into a human summary and a self-contained HTML page: the
 * configuration, the outcome, one row per scenario (configuration), stats
 * over time (throughput and memory), and every violation with the kernel-
 * splat report and its interleaved event tail, hangs and crashes.
 */

interface Rec {
  level: number;
  time: number;
  phase?: string;
  msg?: string;
  scenario?: string;
  label?: string;
  segment?: number;
  [k: string]: unknown;
}

export interface LogTurn {
  segment: number;
  label: string;
  status: string;
  exitCode: number;
  ops: number;
  durationMs: number;
  violations: number;
  rerun?: string;
}

export interface LogSample {
  label: string;
  /** Minutes since the log started. */
  tMin: number;
  opsPerSec: number;
  violations: number;
  rssMiB: number | null;
  heapUsedMiB: number | null;
}

export interface LogReport {
  file: string;
  /** The machine and fleet shard the log came from (soak --shard), when recorded. */
  host: string | null;
  shard: string | null;
  kind: 'run' | 'soak';
  startedAt: string;
  config: Record<string, unknown>;
  /** The final status, or null when the log has no summary (the process died). */
  status: string | null;
  exitCode: number | null;
  durationMs: number;
  ops: number;
  violations: number;
  turns: LogTurn[];
  samples: LogSample[];
  reports: { label: string; segment: number; title: string; lines: string[]; story?: RaceStory; roles?: string[] }[];
  /** The per-second progress records (throughput when the stats records are few), at most 2000. */
  progress: LogSample[];
  hangs: { label: string; segment: number; lines: string[] }[];
  errors: { label: string; segment: number; error: string; lastEvents: string[] }[];
  interrupted: string | null;
  memory: { startRssMiB: number | null; endRssMiB: number | null; maxRssMiB: number | null };
  /** Lines that were not JSON or not mmtorture records. */
  skipped: number;
  /** Earlier runs in the same file (--log appends); the report is of the last. */
  earlier: number;
}

/** Parse a --log file; a file that is missing or holds no mmtorture record is a usage error. */
export function readRunLog(file: string): LogReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read log '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const recs: Rec[] = [];
  let skipped = 0;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as Rec;
      if (typeof r === 'object' && r && typeof r.phase === 'string' && typeof r.time === 'number') recs.push(r);
      else skipped++;
    } catch {
      skipped++; // a torn last line if the process was killed
    }
  }
  if (recs.length === 0) throw new UsageError(`'${file}' holds no mmtorture log records (write one with --log)`);
  // --log appends: a file may hold several runs or soaks; report the last one.
  const starts = recs.map((r, i) => (r.phase === 'soak-start' || (r.phase === 'setup' && r.segment === undefined) ? i : -1)).filter((i) => i >= 0);
  const earlier = starts.length > 1 ? starts.length - 1 : 0;
  if (earlier) recs.splice(0, starts[starts.length - 1]);
  const t0 = recs[0].time;
  const soakStart = recs.find((r) => r.phase === 'soak-start');
  const kind = soakStart ? 'soak' : 'run';
  const labelOf = (r: Rec) => String(r.label ?? r.scenario ?? '?');
  const segOf = (r: Rec) => (typeof r.segment === 'number' ? r.segment : 0);
  const setup = recs.find((r) => r.phase === 'setup');
  const first = soakStart ?? setup;
  const rep: LogReport = {
    file, kind, startedAt: new Date(t0).toISOString(),
    host: typeof first?.host === 'string' ? first.host : null, shard: typeof first?.shard === 'string' ? first.shard : null,
    config: ((soakStart ?? setup)?.config as Record<string, unknown>) ?? {},
    status: null, exitCode: null, durationMs: recs[recs.length - 1].time - t0, ops: 0, violations: 0,
    turns: [], samples: [], progress: [], reports: [], hangs: [], errors: [], interrupted: null,
    memory: { startRssMiB: null, endRssMiB: null, maxRssMiB: null }, skipped, earlier,
  };
  for (const r of recs) {
    const mem = r.memory as { rssMiB?: number; heapUsedMiB?: number; start?: { rssMiB: number }; end?: { rssMiB: number }; maxRssMiB?: number } | undefined;
    switch (r.phase) {
      case 'progress':
        rep.progress.push({ label: labelOf(r), tMin: (r.time - t0) / 60000, opsPerSec: Number(r.opsPerSec ?? 0), violations: Number(r.violations ?? 0), rssMiB: null, heapUsedMiB: null });
        break;
      case 'stats':
        rep.samples.push({
          label: labelOf(r), tMin: (r.time - t0) / 60000, opsPerSec: Number(r.opsPerSec ?? 0), violations: Number(r.violations ?? 0),
          rssMiB: mem?.rssMiB ?? null, heapUsedMiB: mem?.heapUsedMiB ?? null,
        });
        break;
      case 'violation':
        if (Array.isArray(r.report)) rep.reports.push({ label: labelOf(r), segment: segOf(r), title: String(r.msg), lines: r.report as string[], story: (r.story as RaceStory | undefined) ?? undefined, roles: Array.isArray(r.roles) ? (r.roles as string[]) : undefined });
        // Violations after the first: their thread, object and arguments, as the run printed them.
        else if (Array.isArray(r.lines)) rep.reports.push({ label: labelOf(r), segment: segOf(r), title: String(r.msg), lines: r.lines as string[] });
        else if (r.violation && typeof r.violation === 'object') rep.reports.push({ label: labelOf(r), segment: segOf(r), title: String(r.msg), lines: formatViolation(r.violation as DecodedViolation) });
        else rep.reports.push({ label: labelOf(r), segment: segOf(r), title: String(r.msg), lines: [String(r.msg)] });
        break;
      case 'hang':
        rep.hangs.push({ label: labelOf(r), segment: segOf(r), lines: (r.report as string[]) ?? [] });
        break;
      case 'error': {
        const crash = r.crash as { lastEvents?: string[] } | undefined;
        rep.errors.push({ label: labelOf(r), segment: segOf(r), error: String(r.error), lastEvents: crash?.lastEvents ?? [] });
        break;
      }
      case 'interrupted':
        rep.interrupted = String(r.signal);
        break;
      case 'summary':
        rep.turns.push({
          segment: segOf(r), label: labelOf(r), status: String(r.status), exitCode: Number(r.exitCode), ops: Number(r.ops ?? 0),
          durationMs: Number(r.durationMs ?? 0), violations: Number(r.violations ?? 0), rerun: r.rerun as string | undefined,
        });
        if (mem?.rssMiB !== undefined) rep.samples.push({ label: labelOf(r), tMin: (r.time - t0) / 60000, opsPerSec: NaN, violations: Number(r.violations ?? 0), rssMiB: mem.rssMiB, heapUsedMiB: mem.heapUsedMiB ?? null });
        if (kind === 'run') {
          rep.status = String(r.status);
          rep.exitCode = Number(r.exitCode);
        }
        break;
      case 'soak-summary':
        rep.status = String(r.status);
        rep.exitCode = Number(r.exitCode);
        if (typeof r.interrupted === 'string') rep.interrupted = r.interrupted;
        if (mem?.start) rep.memory.startRssMiB = mem.start.rssMiB;
        if (mem?.end) rep.memory.endRssMiB = mem.end.rssMiB;
        if (mem?.maxRssMiB !== undefined) rep.memory.maxRssMiB = mem.maxRssMiB;
        break;
      default:
        break;
    }
  }
  if (rep.progress.length > 2000) {
    const step = Math.ceil(rep.progress.length / 2000);
    rep.progress = rep.progress.filter((_, i) => i % step === 0);
  }
  rep.ops = rep.turns.reduce((a, t) => a + t.ops, 0);
  rep.violations = rep.turns.reduce((a, t) => a + t.violations, 0) || rep.reports.length;
  const rss = rep.samples.map((s) => s.rssMiB).filter((x): x is number => x !== null);
  if (rss.length) {
    rep.memory.startRssMiB ??= rss[0];
    rep.memory.endRssMiB ??= rss[rss.length - 1];
    rep.memory.maxRssMiB ??= Math.max(...rss);
  }
  return rep;
}

interface LabelTotals {
  label: string;
  turns: number;
  ops: number;
  durationMs: number;
  violations: number;
  bad: number;
}

function byLabel(rep: LogReport): LabelTotals[] {
  const m = new Map<string, LabelTotals>();
  for (const t of rep.turns) {
    const x = m.get(t.label) ?? { label: t.label, turns: 0, ops: 0, durationMs: 0, violations: 0, bad: 0 };
    x.turns++;
    x.ops += t.ops;
    x.durationMs += t.durationMs;
    x.violations += t.violations;
    if (t.status !== 'SUCCESS' && t.status !== 'INTERRUPTED') x.bad++;
    m.set(t.label, x);
  }
  return [...m.values()];
}

/** The human summary. */
export function formatLogReport(rep: LogReport, paint: Paint): string[] {
  const out: string[] = [];
  out.push(`mmtorture report: ${rep.file} (${rep.kind}, started ${rep.startedAt}, ${formatDuration(rep.durationMs)} logged)`);
  out.push(`config: ${JSON.stringify(rep.config)}`);
  out.push(rep.status === null
    ? paint.red('status: no summary record: the process ended before it could write one (killed?)')
    : `status: ${paint.status(rep.status)} (exit ${rep.exitCode})${rep.interrupted ? `, interrupted by ${rep.interrupted}` : ''}`);
  out.push(`${rep.turns.length} ${rep.kind === 'soak' ? 'turns' : 'run'}, ${si(rep.ops)} ops, ${rep.violations} violations, ${rep.hangs.length} hangs, ${rep.errors.length} harness errors`);
  if (rep.memory.startRssMiB !== null) out.push(`memory: rss ${rep.memory.startRssMiB} MiB first, ${rep.memory.endRssMiB} MiB last, ${rep.memory.maxRssMiB} MiB max`);
  const rows = byLabel(rep);
  if (rows.length) {
    const w = Math.max(8, ...rows.map((r) => r.label.length));
    out.push('');
    out.push(`  ${'scenario'.padEnd(w)}  turns      time        ops  violations  failed turns`);
    for (const r of rows) out.push(`  ${r.label.padEnd(w)}  ${String(r.turns).padStart(5)}  ${formatDuration(r.durationMs).padStart(8)}  ${si(r.ops).padStart(9)}  ${String(r.violations).padStart(10)}  ${String(r.bad).padStart(12)}`);
  }
  const samples = rep.samples.filter((s) => Number.isFinite(s.opsPerSec));
  if (samples.length) {
    out.push('');
    out.push('stats over time (every stats record; see --html for charts):');
    const step = Math.max(1, Math.ceil(samples.length / 20));
    for (let i = 0; i < samples.length; i += step) {
      const s = samples[i];
      out.push(`  ${s.tMin.toFixed(2).padStart(8)} min  ${s.label}: ${si(s.opsPerSec)} ops/s, ${s.violations} violations${s.rssMiB !== null ? `, rss ${s.rssMiB} MiB` : ''}`);
    }
  }
  for (const v of rep.reports) {
    out.push('');
    out.push(paint.red(`${rep.kind === 'soak' ? `turn ${v.segment + 1}, ` : ''}${v.label}: ${v.title}`));
    for (const l of v.lines.slice(v.lines[0] === v.title ? 1 : 0)) out.push(l);
  }
  for (const h of rep.hangs) {
    out.push('');
    out.push(paint.red(`${h.label}: watchdog: no progress`));
    out.push(...h.lines);
  }
  for (const e of rep.errors) {
    out.push('');
    out.push(paint.red(`${e.label}: ${e.error}`));
    out.push(...e.lastEvents);
  }
  for (const t of rep.turns) if (t.status !== 'SUCCESS' && t.status !== 'INTERRUPTED' && t.rerun) out.push(`rerun (${t.label}): ${t.rerun}`);
  if (rep.skipped) out.push(`(${rep.skipped} lines that were not mmtorture records skipped)`);
  if (rep.earlier) out.push(`(the file holds ${rep.earlier} earlier run${rep.earlier === 1 ? '' : 's'}; this is the last)`);
  return out;
}

function seriesBy(samples: LogSample[], value: (s: LogSample) => number | null): { name: string; points: [number, number][] }[] {
  const m = new Map<string, [number, number][]>();
  for (const s of samples) {
    const v = value(s);
    if (v === null || !Number.isFinite(v)) continue;
    if (!m.has(s.label)) m.set(s.label, []);
    m.get(s.label)!.push([s.tMin, v]);
  }
  return [...m.entries()].map(([name, points]) => ({ name, points }));
}

/** A self-contained HTML page (inline SVG, no scripts). */
/**
 * The interleaving as swim lanes: one column per thread (and setup), time
 * down the page; the events that touched the violation's objects are
 * highlighted, and the last row is the violation in its thread's lane.
 */
export function swimLanes(story: RaceStory, roles: string[], title: string): string {
  const lanes = [...new Set([...story.events.map((e) => e.tid), story.tid])].sort((a, b) => a - b);
  const laneName = (tid: number) => (tid < 0 ? 'setup / main thread' : `T${tid} ${roles[tid] ?? ''}`);
  const head = `<tr><th>ms</th>${lanes.map((l) => `<th>${esc(laneName(l))}</th>`).join('')}</tr>`;
  const rows = story.events.map((e) => `<tr${e.mark ? ' class="mark"' : ''}><td>${e.timeMs.toFixed(3)}</td>${lanes.map((l) => (l === e.tid ? `<td class="ev">${esc(e.op)} <b>${esc(e.obj)}</b>${e.args ? ` <span class="args">${esc(e.args)}</span>` : ''}</td>` : '<td></td>')).join('')}</tr>`);
  const last = `<tr class="viol"><td>${story.timeMs.toFixed(3)}</td>${lanes.map((l) => (l === story.tid ? `<td class="ev">${esc(title)}</td>` : '<td></td>')).join('')}</tr>`;
  return `<table class="lanes"><caption>the interleaving: events that touched ${esc(story.focus.join(', ') || 'its objects')} are highlighted</caption><thead>${head}</thead><tbody>${rows.join('')}${last}</tbody></table>`;
}

/** Each turn's first violation in full (swim lanes, report); the turn's later ones folded under it. */
function violationSections(rep: LogReport): string[] {
  return groupInOrder(rep.reports, (v) => v.segment).map(([v, ...more]) => {
    const lanes = v.story && v.story.events.length ? swimLanes(v.story, v.roles ?? [], v.title) : '';
    return `<section class="violation"><h3 class="bad">${rep.kind === 'soak' ? `turn ${v.segment + 1}, ` : ''}${esc(v.label)}: ${esc(v.title)}</h3>${lanes}<pre>${esc(v.lines.join('\n'))}</pre>${foldedViolations(more, rep.kind === 'soak' ? 'turn' : 'run')}</section>`;
  });
}

export function logReportHtml(rep: LogReport): string {
  // Few stats records (a short run): throughput from the per-second progress records.
  const tput = rep.samples.filter((s) => Number.isFinite(s.opsPerSec)).length >= 3 ? rep.samples : rep.progress;
  const labels = new Set(tput.map((s) => s.label));
  const charts = [
    lineChart('throughput over time', 'minutes', 'ops/s', seriesBy(tput, (s) => s.opsPerSec), 'ops', { logY: labels.size > 1, empty: 'no stats or progress records in the log' }),
    lineChart('memory over time', 'minutes', 'MiB', [
      { name: 'rss', points: rep.samples.filter((s) => s.rssMiB !== null).map((s) => [s.tMin, s.rssMiB as number]) },
      { name: 'heap used', points: rep.samples.filter((s) => s.heapUsedMiB !== null).map((s) => [s.tMin, s.heapUsedMiB as number]) },
    ], 'memory', { empty: 'no memory samples in the log' }),
  ];
  const rows = byLabel(rep).map((r) => `<tr><td>${esc(r.label)}</td><td>${r.turns}</td><td>${esc(formatDuration(r.durationMs))}</td><td>${si(r.ops)}</td><td class="${r.violations ? 'bad' : 'good'}">${r.violations}</td><td>${r.bad}</td></tr>`).join('');
  const bad = [
    ...violationSections(rep),
    ...rep.hangs.map((h) => `<section class="hang"><h3 class="bad">${esc(h.label)}: watchdog: no progress</h3><pre>${esc(h.lines.join('\n'))}</pre></section>`),
    ...rep.errors.map((e) => `<section class="error"><h3 class="bad">${esc(e.label)}: ${esc(e.error)}</h3><pre>${esc(e.lastEvents.join('\n'))}</pre></section>`),
  ];
  const status = rep.status ?? 'no summary (process ended early)';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mmtorture report ${esc(rep.startedAt.slice(0, 19))}</title>
<style>${PAGE_CSS}</style></head><body>
<h1>mmtorture ${rep.kind} report</h1>
<div class="meta">${esc(rep.file)}; started ${esc(rep.startedAt)}; ${esc(formatDuration(rep.durationMs))} logged</div>
<p id="status" class="${rep.status === 'SUCCESS' ? 'good' : 'bad'}">${esc(status)}${rep.exitCode === null ? '' : ` (exit ${rep.exitCode})`}${rep.interrupted ? `, interrupted by ${esc(rep.interrupted)}` : ''} — ${si(rep.ops)} ops, ${rep.violations} violations${rep.memory.startRssMiB !== null ? `; rss ${rep.memory.startRssMiB} → ${rep.memory.endRssMiB} MiB (max ${rep.memory.maxRssMiB})` : ''}</p>
<div class="row">${charts.join('')}</div>
<h2>Scenarios</h2>
<table id="scenarios"><thead><tr><th>scenario</th><th>turns</th><th>time</th><th>ops</th><th>violations</th><th>failed turns</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Violations, hangs and errors (${bad.length})</h2>
${bad.length ? bad.join('\n') : '<p class="good">none</p>'}
<h2>Configuration</h2>
<pre id="config">${esc(JSON.stringify(rep.config, null, 2))}</pre>
</body></html>
`;
}

/** The log, one human-readable line per record (pino-pretty), records' details on the lines below. */
export function prettyLog(file: string, colorize: boolean): string {
  const pretty = prettyFactory({ colorize, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', singleLine: false });
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => pretty(l)).join('');
}
