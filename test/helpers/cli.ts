import { expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(root, 'dist/src/cli.js');

/** Run the built CLI with `args`; returns its exit code, stdout and stderr. */
export function runCli(args: string[], timeout = 60_000, env: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout, env: { ...process.env, NO_COLOR: '1', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * Bad input: exit code 2 and exactly one stderr line, "mmtorture: ...",
 * matching `re` (the bad value and the valid ones). Returns the result.
 */
export function expectUsageError(args: string[], re: RegExp): { code: number | null; out: string; err: string } {
  const r = runCli(args);
  expect(r.code).toBe(2);
  const lines = r.err.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^mmtorture: /);
  expect(lines[0]).toMatch(re);
  return r;
}
