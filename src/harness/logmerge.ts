import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { readRunLog, type LogReport } from './logreport.js';
import { UsageError } from './errors.js';
import { formatDuration, si } from './parse.js';
import { esc, PAGE_CSS, groupInOrder, foldedViolations } from './html.js';
import type { Paint } from './color.js';

/*
 * mmtorture report a.jsonl b.jsonl DIR 'logs/*.jsonl': one report over the
 * logs of many machines (a fleet soak's shards): totals, one row per scenario
 * configuration across shards and hosts, every violation with its shard,
 * host and rerun line, memory per host. Text, --json and --html.
 */

/** Files, folders (every *.jsonl in them) and simple globs (* and ? in the last part) to log files, sorted, without repeats. */
export function expandLogArgs(args: string[]): string[] {
  const out: string[] = [];
  const add = (f: string) => {
    if (!out.includes(f)) out.push(f);
  };
  for (const a of args) {
    const base = path.basename(a);
    if (/[*?]/.test(base)) {
      const dir = path.dirname(a);
      const re = new RegExp('^' + base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch {
        throw new UsageError(`cannot read folder '${dir}' of '${a}'`);
      }
      const hits = names.filter((n) => re.test(n)).sort();
      if (!hits.length) throw new UsageError(`no log matches '${a}'`);
      for (const n of hits) add(path.join(dir, n));
      continue;
    }
    let isDir = false;
    try {
      isDir = statSync(a).isDirectory();
    } catch {
      // not there: readRunLog says so
    }
    if (isDir) {
      const hits = readdirSync(a).filter((n) => n.endsWith('.jsonl')).sort();
      if (!hits.length) throw new UsageError(`folder '${a}' holds no .jsonl logs`);
      for (const n of hits) add(path.join(a, n));
    } else add(a);
  }
  return out;
}

export interface MergedRow {
  label: string;
  turns: number;
  durationMs: number;
  ops: number;
  violations: number;
  failed: number;
  /** Where it ran: "shard on host" of every log with a turn of it. */
  where: string[];
}

export interface MergedReport {
  logs: { file: string; host: string | null; shard: string | null; kind: string; status: string | null; exitCode: number | null; turns: number; ops: number; violations: number; durationMs: number; memory: LogReport['memory'] }[];
  status: string;
  exitCode: number;
  turns: number;
  ops: number;
  violations: number;
  hangs: number;
  errors: number;
  rows: MergedRow[];
  violationsDetail: { where: string; file: string; label: string; segment: number; title: string; lines: string[]; rerun: string | null }[];
  memoryByHost: { host: string; startRssMiB: number | null; endRssMiB: number | null; maxRssMiB: number | null }[];
}

const RANK: Record<string, number> = { SUCCESS: 0, INTERRUPTED: 1, FAILURE: 2, HANG: 3, ERROR: 4 };

function whereOf(r: LogReport): string {
  return `${r.shard ? `shard ${r.shard}` : path.basename(r.file)} on ${r.host ?? 'unknown host'}`;
}

export function mergeLogs(files: string[]): MergedReport {
  const reps = files.map(readRunLog);
  const rows = new Map<string, MergedRow>();
  const detail: MergedReport['violationsDetail'] = [];
  const mem = new Map<string, { host: string; startRssMiB: number | null; endRssMiB: number | null; maxRssMiB: number | null }>();
  let status = 'SUCCESS';
  for (const r of reps) {
    const where = whereOf(r);
    // A log without a summary (a killed process) is an ERROR of the fleet.
    const st = r.status ?? 'ERROR';
    if ((RANK[st] ?? 4) > (RANK[status] ?? 0)) status = st;
    for (const t of r.turns) {
      const x = rows.get(t.label) ?? { label: t.label, turns: 0, durationMs: 0, ops: 0, violations: 0, failed: 0, where: [] };
      x.turns++;
      x.durationMs += t.durationMs;
      x.ops += t.ops;
      x.violations += t.violations;
      if (t.status !== 'SUCCESS' && t.status !== 'INTERRUPTED') x.failed++;
      if (!x.where.includes(where)) x.where.push(where);
      rows.set(t.label, x);
    }
    for (const v of r.reports) {
      const turn = r.turns.find((t) => t.segment === v.segment && t.label === v.label);
      detail.push({ where, file: r.file, label: v.label, segment: v.segment, title: v.title, lines: v.lines, rerun: turn?.rerun ?? null });
    }
    const host = r.host ?? 'unknown host';
    const m = mem.get(host) ?? { host, startRssMiB: null, endRssMiB: null, maxRssMiB: null };
    m.startRssMiB ??= r.memory.startRssMiB;
    m.endRssMiB = r.memory.endRssMiB ?? m.endRssMiB;
    if (r.memory.maxRssMiB !== null) m.maxRssMiB = Math.max(m.maxRssMiB ?? 0, r.memory.maxRssMiB);
    mem.set(host, m);
  }
  const exitCode = status === 'SUCCESS' ? 0 : status === 'FAILURE' ? 1 : status === 'INTERRUPTED' ? 130 : 3;
  return {
    logs: reps.map((r) => ({ file: r.file, host: r.host, shard: r.shard, kind: r.kind, status: r.status, exitCode: r.exitCode, turns: r.turns.length, ops: r.ops, violations: r.violations, durationMs: r.durationMs, memory: r.memory })),
    status, exitCode,
    turns: reps.reduce((a, r) => a + r.turns.length, 0),
    ops: reps.reduce((a, r) => a + r.ops, 0),
    violations: reps.reduce((a, r) => a + r.violations, 0),
    hangs: reps.reduce((a, r) => a + r.hangs.length, 0),
    errors: reps.reduce((a, r) => a + r.errors.length, 0),
    rows: [...rows.values()].sort((a, b) => a.label.localeCompare(b.label)),
    violationsDetail: detail,
    memoryByHost: [...mem.values()],
  };
}

const PER_TURN = 3;
const turnKey = (v: { file: string; segment: number }) => `${v.file}\u0000${v.segment}`;

export function formatMerged(m: MergedReport, paint: Paint): string[] {
  const out: string[] = [];
  const hosts = new Set(m.logs.map((l) => l.host ?? 'unknown host'));
  out.push(`mmtorture report: ${m.logs.length} logs from ${hosts.size} host${hosts.size === 1 ? '' : 's'}: ${paint.status(m.status)} (exit ${m.exitCode})`);
  out.push(`${m.turns} turns, ${si(m.ops)} ops, ${m.violations} violations, ${m.hangs} hangs, ${m.errors} harness errors`);
  out.push('');
  const fw = Math.max(4, ...m.logs.map((l) => l.file.length));
  out.push(`  ${'log'.padEnd(fw)}  shard  host              status        turns        ops  violations  rss max`);
  for (const l of m.logs) {
    out.push(`  ${l.file.padEnd(fw)}  ${(l.shard ?? '-').padEnd(5)}  ${(l.host ?? '?').padEnd(16)}  ${(l.status ?? 'NO SUMMARY').padEnd(12)}  ${String(l.turns).padStart(5)}  ${si(l.ops).padStart(9)}  ${String(l.violations).padStart(10)}  ${l.memory.maxRssMiB ?? '-'} MiB`);
  }
  if (m.rows.length) {
    const w = Math.max(8, ...m.rows.map((r) => r.label.length));
    out.push('');
    out.push(`  ${'scenario'.padEnd(w)}  turns      time        ops  violations  failed  where`);
    for (const r of m.rows) out.push(`  ${r.label.padEnd(w)}  ${String(r.turns).padStart(5)}  ${formatDuration(r.durationMs).padStart(8)}  ${si(r.ops).padStart(9)}  ${String(r.violations).padStart(10)}  ${String(r.failed).padStart(6)}  ${r.where.join('; ')}`);
  }
  out.push('');
  out.push('memory per host: ' + m.memoryByHost.map((h) => `${h.host} rss ${h.startRssMiB ?? '?'} -> ${h.endRssMiB ?? '?'} MiB, ${h.maxRssMiB ?? '?'} MiB max`).join('; '));
  // Each turn's first violations in full; a --keep-going turn can hold thousands (--json has them all).
  for (const group of groupInOrder(m.violationsDetail, turnKey)) {
    for (const v of group.slice(0, PER_TURN)) {
      out.push('');
      out.push(paint.red(`[${v.where}] turn ${v.segment + 1}, ${v.label}: ${v.title}`));
      const lines = v.lines.slice(v.lines[0] === v.title ? 1 : 0);
      for (const l of lines) out.push(l);
      if (v.rerun && !lines.some((l) => l.includes('rerun:'))) out.push(`  rerun: ${v.rerun}`);
    }
    if (group.length > PER_TURN) out.push(`(${group[0].file} turn ${group[0].segment + 1}: ${group.length - PER_TURN} more violations; --json lists every one)`);
  }
  return out;
}

export function mergedHtml(m: MergedReport): string {
  const logs = m.logs.map((l) => `<tr><td>${esc(l.file)}</td><td>${esc(l.shard ?? '-')}</td><td>${esc(l.host ?? '?')}</td><td class="${l.status === 'SUCCESS' ? 'good' : 'bad'}">${esc(l.status ?? 'NO SUMMARY')}</td><td>${l.turns}</td><td>${si(l.ops)}</td><td>${l.violations}</td><td>${l.memory.maxRssMiB ?? '-'}</td></tr>`).join('');
  const rows = m.rows.map((r) => `<tr><td>${esc(r.label)}</td><td>${r.turns}</td><td>${formatDuration(r.durationMs)}</td><td>${si(r.ops)}</td><td>${r.violations}</td><td>${r.failed}</td><td>${esc(r.where.join('; '))}</td></tr>`).join('');
  // Each turn's first violation in full, its later ones folded under it.
  const viol = groupInOrder(m.violationsDetail, turnKey).map(([v, ...more]) => {
    const rerun = v.rerun && !v.lines.some((l) => l.includes('rerun:')) ? `\n  rerun: ${esc(v.rerun)}` : '';
    return `<section class="violation"><h3 class="bad">[${esc(v.where)}] turn ${v.segment + 1}, ${esc(v.label)}: ${esc(v.title)}</h3><pre>${esc(v.lines.join('\n'))}${rerun}</pre>${foldedViolations(more, 'turn')}</section>`;
  }).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>mmtorture fleet report: ${esc(m.status)}</title><style>${PAGE_CSS}</style></head><body>
<h1>mmtorture fleet report: <span class="${m.status === 'SUCCESS' ? 'good' : 'bad'}">${esc(m.status)}</span></h1>
<p>${m.logs.length} logs, ${m.turns} turns, ${si(m.ops)} ops, ${m.violations} violations, ${m.hangs} hangs, ${m.errors} harness errors</p>
<h2>Logs</h2><table id="logs"><thead><tr><th>log</th><th>shard</th><th>host</th><th>status</th><th>turns</th><th>ops</th><th>violations</th><th>rss max MiB</th></tr></thead><tbody>${logs}</tbody></table>
<h2>Scenario configurations across shards</h2><table id="rows"><thead><tr><th>scenario</th><th>turns</th><th>time</th><th>ops</th><th>violations</th><th>failed</th><th>where</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Violations</h2>${viol || '<p>none</p>'}
</body></html>
`;
}
