import { CHECK_INTERVAL_DEFAULT_MS } from '../../stress/types.js';
import type { ModelConfig } from '../mm/model.js';

/** Everything that decides what a run does: what its rerun line must carry. */
export interface RerunSpec {
  scenario: string;
  threads: number;
  /** As the user wrote it, or milliseconds. */
  duration: string | number;
  seed: number;
  usesModel: boolean;
  model?: Partial<ModelConfig>;
  jitter?: number;
  stutterMs?: number;
  stutterHoldMs?: number;
  shuffleMs?: number;
  checkIntervalMs?: number;
  checks?: boolean;
  directAsserts?: boolean;
  trace?: boolean;
  module?: string;
  bugs: readonly string[];
  params: readonly number[];
}

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

const ms = (v: number) => `${Math.round(v)}ms`;

/** The `mmtorture run ...` command line that reproduces a run (same scenario, seed, threads, model, windows, switches). */
export function rerunCommand(r: RerunSpec): string {
  const a = ['mmtorture', 'run', r.scenario, '--threads', String(r.threads), '--duration', typeof r.duration === 'number' ? ms(r.duration) : r.duration, '--seed', String(r.seed >>> 0)];
  if (r.usesModel && r.model) {
    const m = r.model;
    a.push('--era', `e${m.era ?? 1}`, '--per-vma-lock', m.perVmaLock === false ? 'off' : 'on');
    if (m.mmPages !== undefined) a.push('--mm-pages', String(m.mmPages));
    if (m.vmas !== undefined) a.push('--vmas', String(m.vmas));
    if (m.folios !== undefined) a.push('--folios', String(m.folios));
  }
  if (r.jitter) a.push('--jitter', String(r.jitter));
  if (r.checkIntervalMs !== undefined && r.checkIntervalMs !== CHECK_INTERVAL_DEFAULT_MS) a.push('--check-interval', r.checkIntervalMs ? ms(r.checkIntervalMs) : '0');
  if (r.stutterMs) a.push('--stutter', ms(r.stutterMs));
  if (r.stutterMs && r.stutterHoldMs !== undefined) a.push('--stutter-hold', ms(r.stutterHoldMs));
  if (r.shuffleMs) a.push('--shuffle', ms(r.shuffleMs));
  if (r.checks === false) a.push('--no-check');
  else if (r.directAsserts === false) a.push('--no-direct-asserts');
  if (r.trace === false) a.push('--no-trace');
  if (r.module) a.push('--module', r.module);
  for (const b of r.bugs) a.push('--bug', b);
  for (const p of r.params) a.push('--param', String(p));
  return a.map(shellQuote).join(' ');
}
