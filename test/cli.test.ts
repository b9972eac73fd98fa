import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli, expectUsageError } from './helpers/cli.js';
import { SCENARIOS } from '../stress/index.js';
import { BUGS } from '../src/bugs/catalogue.js';

const run = runCli;

describe('bad input: one line naming the bad value and the valid ones, exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['unknown scenario', ['run', 'no-such-scenario'], /unknown scenario 'no-such-scenario' \(valid: rwsem-torture, /],
    ['unknown bug', ['run', 'rwsem-torture', '--bug', 'B99'], /unknown bug 'B99' \(valid: rwsem-reader-ignores-writer, /],
    ['zero threads', ['run', 'rwsem-torture', '--threads', '0'], /invalid --threads '0' \(expected an integer 1\.\.1024\)/],
    ['absurd threads', ['run', 'rwsem-torture', '--threads', '100000'], /invalid --threads '100000'/],
    ['non-numeric threads', ['run', 'rwsem-torture', '--threads', 'many'], /invalid --threads 'many'/],
    ['malformed duration', ['run', 'rwsem-torture', '--duration', '5x'], /invalid --duration '5x' \(expected a number with unit ms, s, m or h/],
    ['bad log level', ['run', 'rwsem-torture', '--log-level', 'loud'], /invalid --log-level 'loud' \(valid: fatal, error, warn, info/],
    ['unknown option', ['run', 'rwsem-torture', '--frobnicate'], /unknown option '--frobnicate' \(valid: --config, --threads, --duration/],
    ['missing scenario', ['run'], /missing scenario \(valid: rwsem-torture/],
    ['unknown command', ['frob'], /unknown command 'frob' \(valid: run, hunt, replay, shrink, soak, report, bench, list, validate\)/],
    ['bad era', ['run', 'page-fault', '--era', 'e9'], /invalid --era 'e9' \(valid: e1, e2, e3\)/],
    ['bad per-vma-lock', ['run', 'page-fault', '--per-vma-lock', 'maybe'], /invalid --per-vma-lock 'maybe' \(valid: on, off\)/],
    ['bad mm-pages', ['run', 'page-fault', '--mm-pages', '1000'], /invalid --mm-pages '1000' \(expected a power of two/],
  ];
  for (const [name, args, re] of cases) {
    it(name, () => {
      expectUsageError(args, re);
    });
  }
});

describe('commands', () => {
  it('list names every scenario and every bug', () => {
    const r = run(['list']);
    expect(r.code).toBe(0);
    for (const s of SCENARIOS) expect(r.out).toContain(s.name);
    for (const b of BUGS) expect(r.out).toContain(b.id);
    const j = JSON.parse(run(['list', '--json']).out);
    expect(j.scenarios.map((s: { name: string }) => s.name)).toEqual(SCENARIOS.map((s) => s.name));
  });

  it('--help works on every command', () => {
    for (const args of [['--help'], ['run', '--help'], ['soak', '--help'], ['report', '--help'], ['list', '--help']]) {
      const r = run(args);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/Usage: mmtorture/);
    }
  });

  it('a clean run exits 0 and writes the JSON summary and the pino log', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mmt-'));
    const json = path.join(dir, 'sum.json');
    const log = path.join(dir, 'run.jsonl');
    const r = run(['run', 'spinlock-torture', '--threads', '2', '--duration', '1500ms', '--stat-interval', '500ms', '--seed', '7', '--json', json, '--log', log]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/SUCCESS/);
    expect(r.out).toMatch(/Writes: +Total: \d+/);
    const sum = JSON.parse(readFileSync(json, 'utf8'));
    expect(sum.status).toBe('SUCCESS');
    expect(sum.config.seed).toBe(7);
    expect(sum.ops).toBeGreaterThan(0);
    const records = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const phases = records.map((x) => x.phase);
    expect(phases[0]).toBe('setup');
    expect(phases).toContain('run');
    expect(phases).toContain('progress');
    expect(phases).toContain('stats');
    expect(phases[phases.length - 1]).toBe('summary');
    // A pipe gets plain progress lines.
    expect(r.err).toMatch(/\[ +1\.0s\] spinlock-torture: ops/);
  });

  it('a bug switch gives a BUG report, the rerun command and exit 1', () => {
    const r = run(['run', 'seqcount-torture', '--threads', '2', '--duration', '20s', '--bug', 'seqcount-no-retry', '--seed', '5']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/BUG: seqcount reader accepted a torn snapshot/);
    expect(r.err).toMatch(/rerun: mmtorture run seqcount-torture --threads 2 --duration 20s --seed 5 --bug seqcount-no-retry/);
    expect(r.out).toMatch(/FAILURE/);
  });

  it('--no-direct-asserts: B1 is caught through a consequence (the rwsem count, or the VMA read lock it leaves held meeting mmap_lock), not the unlock-balance assertion; the rerun line keeps the flag', () => {
    const r = run(['run', 'fault-vs-munmap', '--threads', '3', '--duration', '40s', '--bug', 'B1', '--seed', '7', '--no-direct-asserts']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/BUG: rwsem count corrupt|WARNING: blocking on mmap_lock while holding a VMA read lock/);
    expect(r.err).not.toMatch(/bad unlock balance/);
    expect(r.err).toMatch(/rerun: mmtorture run fault-vs-munmap .*--no-direct-asserts --bug B1/);
  });

  it('--no-direct-asserts: B5 is caught as a use-after-free of the maple node its unlocked neighbour walk read (KASAN), not by mmap_assert_locked', () => {
    const r = run(['run', 'anon-vma-prepare', '--threads', '2', '--duration', '40s', '--bug', 'B5', '--seed', '7', '--no-direct-asserts']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/BUG: KASAN: slab-use-after-free/);
    expect(r.err).not.toMatch(/VM_BUG_ON_MM|lockdep_assert_held/);
  });

  it('a model deadlock exits 3 with the watchdog report', () => {
    const r = run(['run', 'deadlock-selftest', '--threads', '2', '--duration', '1m', '--watchdog', '1s']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/watchdog: no thread made progress/);
    expect(r.err).toMatch(/tid 0 -> tid 1 -> tid 0|tid 1 -> tid 0 -> tid 1/);
  });
});

describe('rough edges', () => {
  it('help shows a repeatable option\'s empty default once, not "(default: [])"', () => {
    for (const c of ['run', 'soak', 'bench', 'validate']) {
      const r = run([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).not.toContain('(default: [])');
    }
  });

  it('mm-only options given to a primitive scenario are named as not applying', () => {
    const r = run(['run', 'spinlock-torture', '--threads', '2', '-d', '300ms', '--era', 'e3', '--vmas', '64']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('note: --era, --vmas do not apply to spinlock-torture (it has no mm model); ignored');
  });

  it('the soak summary shows - for the faults of scenarios that have none, a count for those that do', () => {
    const r = run(['soak', 'spinlock-torture,page-fault', '--threads', '2', '--duration', '1.6s', '--segment', '800ms', '--era', 'e1']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ {2}spinlock-torture +1 +\S+ +\S+ +- /m);
    expect(r.out).toMatch(/^ {2}page-fault \(E1\) +1 +\S+ +\S+ +[\d.]+[kM]? /m);
  });
});
