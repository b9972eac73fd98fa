import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parse "500ms", "10s", "2m", "8h", "1.5s" (a bare number is seconds). */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(String(text).trim());
  if (!m) throw new UsageError(`invalid ${what} '${text}' (expected a number with unit ms, s, m or h, e.g. 10s)`);
  const ms = parseFloat(m[1]) * UNITS[m[2] ?? 's'];
  if (!(ms > 0) || !Number.isFinite(ms)) throw new UsageError(`invalid ${what} '${text}' (must be greater than 0)`);
  return ms;
}

/** Parse a positive integer within [min, max]. */
export function parseIntIn(text: string, what: string, min: number, max: number): number {
  if (!/^\d+$/.test(String(text).trim())) throw new UsageError(`invalid ${what} '${text}' (expected an integer ${min}..${max})`);
  const v = parseInt(text, 10);
  if (v < min || v > max) throw new UsageError(`invalid ${what} '${text}' (expected an integer ${min}..${max})`);
  return v;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)}m`;
  return `${(ms / 3_600_000).toFixed(2)}h`;
}

/** 1234567 -> "1.23M" */
export function si(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)}k`;
  return `${Math.round(n)}`;
}

/**
 * A list of thread counts: "2,5,8", ranges "1-16", or both ("1-4,8,16").
 * Every value within [min, max]; duplicates dropped, order kept.
 */
export function parseIntList(text: string, what: string, min: number, max: number): number[] {
  const out: number[] = [];
  for (const part of String(text).split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)-(\d+)$/.exec(part);
    if (m) {
      const a = parseIntIn(m[1], what, min, max);
      const b = parseIntIn(m[2], what, min, max);
      if (b < a) throw new UsageError(`invalid ${what} '${text}' (range ${part} is empty)`);
      for (let v = a; v <= b; v++) if (!out.includes(v)) out.push(v);
    } else {
      const v = parseIntIn(part, what, min, max);
      if (!out.includes(v)) out.push(v);
    }
  }
  if (out.length === 0) throw new UsageError(`invalid ${what} '${text}' (expected an integer ${min}..${max}, a list or a range)`);
  return out;
}

/** Parse --shard "i/N" (1 <= i <= N), as vitest --shard and Playwright --shard=i/N. */
export function parseShard(text: string, what = '--shard'): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(String(text).trim());
  const index = m ? parseInt(m[1], 10) : NaN;
  const count = m ? parseInt(m[2], 10) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new UsageError(`invalid ${what} '${text}' (expected i/N with 1 <= i <= N, e.g. 1/4)`);
  return { index, count };
}
