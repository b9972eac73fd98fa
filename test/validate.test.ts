import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, expectUsageError } from './helpers/cli.js';
import { runValidate } from '../src/harness/validate.js';

const run = runCli;

describe('runValidate', () => {
  it('catches seqcount-no-retry and runs spinlock-torture clean at each --clean-threads count: PASS', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => void lines.push(l), err: () => undefined, isTTY: false };
    const json = path.join(mkdtempSync(path.join(tmpdir(), 'mmt-validate-')), 'validate.json');
    const rep = await runValidate(
      { runs: 1, timeoutMs: 20_000, cleanMs: 700, cleanThreads: [1, 5], bugs: ['seqcount-no-retry'], scenarios: ['spinlock-torture'], seed: 11, json },
      io,
    );
    expect(rep.pass).toBe(true);
    expect(rep.bugs).toHaveLength(1);
    const row = rep.bugs[0];
    expect(row.id).toBe('seqcount-no-retry');
    expect(row.scenario).toBe('seqcount-torture');
    expect(row.detected).toBe(1);
    expect(row.runs).toBe(1);
    expect(row.oracles).toEqual(['seqcount-torn-read']);
    expect(row.perRun[0]).toMatchObject({ seed: 11, status: 'FAILURE', detected: true, oracle: 'seqcount-torn-read' });
    expect(rep.clean).toEqual([1, 5].map((threads) => expect.objectContaining({ scenario: 'spinlock-torture', threads, violations: 0, status: 'SUCCESS' })));
    expect(rep.clean[0].ops).toBeGreaterThan(0);

    // The table and the verdict line.
    const text = lines.join('\n');
    expect(text).toMatch(/seqcount-no-retry +seqcount-torture +2 +1\/1 .*seqcount-torn-read/);
    expect(lines[lines.length - 1]).toBe('validate: 1/1 bugs detected in every run, 2/2 clean runs without a violation: PASS');

    // The JSON report has the documented shape.
    const j = JSON.parse(readFileSync(json, 'utf8'));
    expect(Object.keys(j)).toEqual(expect.arrayContaining(['date', 'machine', 'runs', 'timeoutMs', 'bugs', 'clean', 'pass']));
    expect(Object.keys(j.machine)).toEqual(['cpu', 'cores', 'node']);
    expect(j.pass).toBe(true);
    expect(j.bugs[0]).toMatchObject({ id: 'seqcount-no-retry', detected: 1, runs: 1, oracles: ['seqcount-torn-read'] });
    expect(j.clean[0]).toMatchObject({ scenario: 'spinlock-torture', violations: 0, status: 'SUCCESS' });
  });
});

describe('validate runs what was asked', () => {
  const silent = { out: () => undefined, err: () => undefined, isTTY: false };
  it('--bug alone runs clean only the scenarios those bugs use; --no-clean none', async () => {
    const rep = await runValidate({ runs: 1, timeoutMs: 20_000, cleanMs: 300, cleanThreads: [2], bugs: ['seqcount-no-retry'], seed: 5 }, silent);
    expect(rep.clean.map((c) => c.scenario)).toEqual(['seqcount-torture']);
    const none = await runValidate({ runs: 1, timeoutMs: 20_000, cleanMs: 300, cleanThreads: [2], bugs: ['seqcount-no-retry'], seed: 5, clean: false }, silent);
    expect(none.clean).toEqual([]);
    expect(none.bugs.map((b) => b.id)).toEqual(['seqcount-no-retry']);
  });

  it('--shard i/N: the shards together run every bug entry and clean run once, with the unsharded seeds', async () => {
    const opts = { runs: 1, timeoutMs: 20_000, cleanMs: 300, cleanThreads: [2], bugs: ['seqcount-no-retry', 'spinlock-racy-acquire', 'rcu-gp-no-wait'], scenarios: ['spinlock-torture', 'rcu-torture'], seed: 9, mixed: false };
    const whole = await runValidate(opts, silent);
    const a = await runValidate({ ...opts, shard: { index: 1, count: 2 } }, silent);
    const b = await runValidate({ ...opts, shard: { index: 2, count: 2 } }, silent);
    expect([...a.bugs, ...b.bugs].map((x) => x.id).sort()).toEqual(whole.bugs.map((x) => x.id).sort());
    expect([...a.clean, ...b.clean].map((x) => x.scenario).sort()).toEqual(whole.clean.map((x) => x.scenario).sort());
    expect(a.bugs.length * b.bugs.length).toBeGreaterThan(0);
    expect([a.shard, b.shard]).toEqual(['1/2', '2/2']);
    expect([...a.bugs, ...b.bugs].every((x) => x.perRun[0].seed === 9)).toBe(true);
  }, 60_000);
});

describe('mmtorture validate: bad input is one line, exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['zero runs', ['validate', '--runs', '0'], /invalid --runs '0' \(expected an integer 1\.\.100\)/],
    ['too many runs', ['validate', '--runs', '101'], /invalid --runs '101' \(expected an integer 1\.\.100\)/],
    ['unknown bug', ['validate', '--bug', 'nope'], /unknown bug 'nope' \(valid: rwsem-reader-ignores-writer, /],
    ['malformed timeout', ['validate', '--timeout', '5x'], /invalid --timeout '5x'/],
    ['malformed clean', ['validate', '--clean', 'soon'], /invalid --clean 'soon'/],
    ['clean threads out of range', ['validate', '--clean-threads', '2,0'], /invalid --clean-threads '0' \(expected an integer 1\.\.1024\)/],
  ];
  for (const [name, args, re] of cases) {
    it(name, () => {
      const r = expectUsageError(args, re);
      expect(r.out).toBe('');
    });
  }

  it('--help works', () => {
    const r = run(['validate', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/Usage: mmtorture validate/);
    expect(r.out).toMatch(/--runs <n>/);
  });
});
