/**
 * The README's Detection power table from a `validate --json` report: one
 * row per catalogue entry (tuned row, from mixed, PCT column, without direct
 * asserts when the run had --indirect), in markdown.
 *
 *   node dist/bench/validate-table.js bench/results/validate-2026-12-04.json
 */
import { readFileSync } from 'node:fs';
import { oracleCell, type ValidateReport } from '../src/harness/validate.js';
import { si } from '../src/harness/parse.js';
import { BUGS } from '../src/bugs/catalogue.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist/bench/validate-table.js VALIDATE.json\n');
  process.exit(2);
}
const rep = JSON.parse(readFileSync(file, 'utf8')) as ValidateReport;
const ms = (x: number | null | undefined) => (x === null || x === undefined ? '-' : String(Math.round(x)));
const frac = (d: number, n: number, med: number | null) => `${d}/${n}${med === null ? '' : ` ${ms(med)} ms`}`;
const mixedThreads = rep.bugs.find((r) => r.mixed)?.mixed?.threads ?? '-';
const anyIndirect = rep.bugs.some((r) => r.indirect);
const anyPct = rep.bugs.some((r) => r.pct);
const head = ['bug', 'scenario', 'threads', 'detected', 'median ms', 'max ms', 'oracle(s)', `from mixed (${mixedThreads} threads)`,
  ...(anyPct ? ['PCT d3: schedules, steps, ms', 'replayed'] : []), ...(anyIndirect ? ['no direct asserts'] : [])];
const out = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i >= 2 && i <= 5 ? '---:' : i === 7 || i >= 8 ? '---:' : '---')).join('|')}|`];
for (const r of rep.bugs) {
  const cells = [`\`${r.id}\``, r.scenario, String(r.threads), `${r.detected}/${r.runs}`, ms(r.medianMs), ms(r.maxMs), oracleCell(r),
    r.mixed ? frac(r.mixed.detected, r.mixed.runs, r.mixed.medianMs) : '-'];
  if (anyPct) {
    if (!r.pct) cells.push('-', '-');
    else if (r.pct.found) cells.push(`${r.pct.schedules}, ${si(r.pct.stepsToDetect ?? 0)}, ${ms(r.pct.ms)}`, `${r.pct.replayed}/${r.pct.replays}`);
    else cells.push(`missed (${r.pct.schedules} in ${Math.round(rep.timeoutMs / 1000)} s)`, '-');
  }
  // Where the catalogue moves the run without direct asserts (its `indirect`), say where it ran.
  const where = r.indirect?.scenario && BUGS.find((b) => b.id === r.id)?.indirect ? `(${r.indirect.scenario}, E${r.indirect.era}) ` : '';
  if (anyIndirect) cells.push(r.indirect ? `${where}${frac(r.indirect.detected, r.indirect.runs, r.indirect.medianMs)}${r.indirect.oracles.length ? ` ${r.indirect.oracles.join(', ')}` : ''}` : '-');
  out.push(`| ${cells.join(' | ')} |`);
}
process.stdout.write(out.join('\n') + '\n');
