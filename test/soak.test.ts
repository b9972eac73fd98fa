import { describe, it, expect } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, expectUsageError } from './helpers/cli.js';
import { colorEnabled } from '../src/harness/color.js';
import { runScenario, type RunIO } from '../src/harness/run.js';

const silent: RunIO = { out: () => undefined, err: () => undefined, isTTY: false };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/src/cli.js');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'mmt-soak-'));
const records = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

/** Start the CLI, send `sig` once stdout shows the run started plus `afterMs`; resolve with how it ended. */
function interrupt(args: string[], sig: NodeJS.Signals, afterMs: number): Promise<{ code: number | null; out: string; err: string; afterSignalMs: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    let sentAt = 0;
    let armed = false;
    p.stdout.on('data', (d) => {
      out += d;
      if (!armed && out.includes('config: ')) {
        armed = true;
        setTimeout(() => {
          sentAt = Date.now();
          p.kill(sig);
        }, afterMs);
      }
    });
    p.stderr.on('data', (d) => (err += d));
    const guard = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`no exit after ${sig}: ${out}\n${err}`));
    }, 60_000);
    p.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, out, err, afterSignalMs: Date.now() - sentAt });
    });
  });
}

describe('soak', () => {
  it('a few seconds with stutter and shuffle: clean, SUCCESS, stats lines, summary, JSON and log; report reads the log back', () => {
    const dir = tmp();
    const log = path.join(dir, 'soak.jsonl');
    const json = path.join(dir, 'soak.json');
    const r = runCli(['soak', 'fault-vs-munmap', 'rcu-torture', '--threads', '2', '--duration', '5s', '--segment', '2s', '--stat-interval', '1s',
      '--stutter', '400ms', '--shuffle', '700ms', '--era', 'e1,e3', '--seed', '11', '--log', log, '--json', json]);
    expect(r.code).toBe(0);
    // One stats line per interval: ops, faults by path, retries, fallbacks, lock_stat, violations, memory.
    expect(r.out).toMatch(/fault-vs-munmap \(E1\) t=[\d.]+s: ops \S+ \(\S+\/s\) \| faults \S+ \(per-VMA [\d.]+%, mmap_lock [\d.]+%, SIGSEGV [\d.]+%\) \| retries \S+ \| vma-lock fallbacks \S+ \| .* \| violations 0 \| rss [\d.]+ MiB heap [\d.]+ MiB/);
    expect(r.out).toMatch(/turn 1 \(\d+%, [\d.]+m?s left\): fault-vs-munmap \(E1\): .* 0 violations, rss [\d.]+ MiB: SUCCESS/);
    expect(r.out).toContain('soak summary');
    expect(r.out).toMatch(/memory: rss [\d.]+ MiB at start, [\d.]+ MiB at end/);
    expect(r.out).toMatch(/soak: .* turns, .* ops, 0 violations: SUCCESS/);
    const sum = JSON.parse(readFileSync(json, 'utf8'));
    expect(sum.status).toBe('SUCCESS');
    expect(sum.exitCode).toBe(0);
    expect(sum.violations).toBe(0);
    expect(sum.config.stutter).toBe('400ms'); // the effective configuration
    expect(sum.config.seed).toBe(11);
    expect(sum.segments.length).toBeGreaterThanOrEqual(2);
    const stutters = sum.perScenario.reduce((a: number, t: { stutters: number }) => a + t.stutters, 0);
    const shuffles = sum.perScenario.reduce((a: number, t: { shuffles: number }) => a + t.shuffles, 0);
    expect(stutters).toBeGreaterThan(0);
    expect(shuffles).toBeGreaterThan(0);
    expect(sum.memory.start.rssMiB).toBeGreaterThan(0);
    const phases = records(log).map((x) => x.phase);
    expect(phases[0]).toBe('soak-start');
    expect(phases).toContain('stats');
    expect(phases).toContain('shuffle');
    expect(phases[phases.length - 1]).toBe('soak-summary');

    const rep = runCli(['report', log, '--html', path.join(dir, 'soak.html')]);
    expect(rep.code).toBe(0);
    expect(rep.out).toMatch(/\(soak, started /);
    expect(rep.out).toContain('status: SUCCESS (exit 0)');
    expect(rep.out).toMatch(/fault-vs-munmap \(E1\) +1 /);
    expect(existsSync(path.join(dir, 'soak.html'))).toBe(true);
    const pretty = runCli(['report', log, '--pretty']);
    expect(pretty.code).toBe(0);
    expect(pretty.out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: soak start$/m);
    expect(pretty.out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: soak summary$/m);
  });

  it('--keep-going soak records a bug turn as FAILURE with its rerun line and goes on to the next turn', () => {
    const dir = tmp();
    const json = path.join(dir, 'soak.json');
    const r = runCli(['soak', 'seqcount-torture', 'spinlock-torture', '--threads', '2', '--duration', '3s', '--segment', '1s', '--bug', 'seqcount-no-retry',
      '--keep-going', '--seed', '5', '--json', json]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/BUG: seqcount reader accepted a torn snapshot/);
    expect(r.err).toMatch(/rerun: mmtorture run seqcount-torture --threads 2 --duration \d+ms --seed 5 --stutter 5000ms --shuffle 20000ms --bug seqcount-no-retry/);
    const sum = JSON.parse(readFileSync(json, 'utf8'));
    expect(sum.status).toBe('FAILURE');
    expect(sum.segments.map((s: { label: string }) => s.label)).toContain('spinlock-torture');
    expect(sum.failures[0].label).toBe('seqcount-torture');
  });
});

describe('soak --schedule', () => {
  const inDir = (dir: string, args: string[]) => {
    const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: dir, timeout: 120_000, env: { ...process.env, NO_COLOR: '1' } });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  it('turns are controlled runs: B3 in vma-reuse fails in its turn and writes a schedule that replays to the same violation', () => {
    const dir = tmp();
    const json = path.join(dir, 'soak.json');
    const r = inDir(dir, ['soak', 'vma-reuse', '--schedule', 'pct', '--threads', '3', '--era', 'e3', '--per-vma-lock', 'on', '--duration', '20s', '--segment', '20s',
      '--bug', 'B3', '--seed', '5', '--json', json]);
    expect(r.code).toBe(1);
    const m = /rerun: mmtorture replay (\S+\.schedule\.json)/.exec(r.err);
    expect(m).not.toBeNull();
    const file = path.join(dir, m![1]);
    expect(existsSync(file)).toBe(true);
    const sum = JSON.parse(readFileSync(json, 'utf8'));
    expect(sum.status).toBe('FAILURE');
    expect(sum.failures[0].rerun).toBe(`mmtorture replay ${m![1]}`);
    const want = JSON.parse(readFileSync(file, 'utf8')).expect;
    const rep = inDir(dir, ['replay', m![1]]);
    expect(rep.code).toBe(1);
    expect(rep.out).toContain(`${want.violation} at step ${want.step}`);
    expect(rep.out).toMatch(/as recorded: REPRODUCED/);
  });
  it('a clean controlled soak over two scenarios at 5 threads: SUCCESS, zero violations, operations summed over the schedules', () => {
    const dir = tmp();
    const json = path.join(dir, 'soak.json');
    const r = inDir(dir, ['soak', 'fault-vs-mprotect', 'rwsem-torture', '--schedule', 'random', '--threads', '5', '--era', 'e1', '--per-vma-lock', 'on', '--duration', '3s', '--segment', '1500ms',
      '--seed', '9', '--json', json]);
    expect(r.code).toBe(0);
    const sum = JSON.parse(readFileSync(json, 'utf8'));
    expect(sum.status).toBe('SUCCESS');
    expect(sum.violations).toBe(0);
    expect(sum.coverage.covered).toBe(2);
    // Many short runs of 4 operations per actor: far more operations than one run's 5 x 4.
    for (const s of sum.segments) expect(s.ops).toBeGreaterThan(5 * 4);
  });
});

describe('signals', () => {
  it('SIGINT mid-run: stops, prints the summary, completes the log and JSON, exits 130', async () => {
    const dir = tmp();
    const log = path.join(dir, 'run.jsonl');
    const json = path.join(dir, 'run.json');
    const r = await interrupt(['run', 'fault-vs-mremap', '--threads', '2', '--duration', '1m', '--no-progress', '--log', log, '--json', json], 'SIGINT', 1500);
    expect(r.code).toBe(130);
    expect(r.err).toContain('interrupted by SIGINT');
    expect(r.out).toMatch(/fault-vs-mremap: End of test/);
    expect(r.out).toMatch(/0 violations: INTERRUPTED/);
    const recs = records(log);
    expect(recs[recs.length - 1]).toMatchObject({ phase: 'summary', status: 'INTERRUPTED', exitCode: 130 });
    expect(recs.some((x) => x.phase === 'interrupted' && x.signal === 'SIGINT')).toBe(true);
    const sum = JSON.parse(readFileSync(json, 'utf8'));
    expect(sum.status).toBe('INTERRUPTED');
    expect(sum.interrupted).toBe('SIGINT');
    expect(sum.ops).toBeGreaterThan(0);
  });

  it('SIGTERM mid-soak: the soak summary is printed and logged, exit 143', async () => {
    const dir = tmp();
    const log = path.join(dir, 'soak.jsonl');
    const r = await interrupt(['soak', 'page-fault', '--threads', '2', '--duration', '10m', '--segment', '1m', '--stat-interval', '500ms', '--log', log], 'SIGTERM', 1500);
    expect(r.code).toBe(143);
    expect(r.out).toContain('soak summary');
    expect(r.out).toMatch(/soak: .* 0 violations: INTERRUPTED/);
    const recs = records(log);
    expect(recs[recs.length - 1]).toMatchObject({ phase: 'soak-summary', status: 'INTERRUPTED', exitCode: 143 });
    const rep = runCli(['report', log]);
    expect(rep.out).toContain('status: INTERRUPTED (exit 143), interrupted by SIGTERM');
  });
});

describe('the harness never hangs', () => {
  it('an actor that throws: exit 3 with its error and last events', () => {
    const r = runCli(['run', 'crash-selftest', '--threads', '2', '--duration', '1m'], 30_000);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/worker 0 \(crasher\) crashed: Error: crash-selftest: deliberate crash after 300 ms/);
    expect(r.err).toMatch(/last events of mmtorture\/0 \(crasher\):\n +\[ +[\d.]+ ms\] T0 /);
    expect(r.out).toMatch(/: ERROR$/m);
  });

  it('a worker that exits: exit 3, reported as died', () => {
    const r = runCli(['run', 'crash-selftest', '--threads', '2', '--duration', '1m', '--param', '1'], 30_000);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/worker 0 \(crasher\) died: worker exited with code: 7/);
  });

  it('a deadlocking bug switch (B7 with lockdep off and mmap_lock faults): the watchdog reports the cycle, exit 3', () => {
    const r = runCli(['run', 'uffd-copy', '--bug', 'B7', '--no-check', '--per-vma-lock', 'off', '--watchdog', '1s', '--threads', '3', '--duration', '1m', '--seed', '3'], 30_000);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/watchdog: no thread made progress for [\d.]+s/);
    expect(r.err).toMatch(/circular locking dependency detected \(wait-for cycle\)/);
    expect(r.out).toMatch(/: HANG$/m);
  });
});

describe('stutter and shuffle inside a run', () => {
  it('--keep-going keeps recording across shuffles; every shuffle restarts the actors', async () => {
    const r = await runScenario({
      scenario: 'seqcount-torture', threads: 2, durationMs: 1500, seed: 8, bugs: ['seqcount-no-retry'], watchdogMs: 5000, statIntervalMs: 1e9,
      keepGoing: true, shuffleMs: 300, quiet: true,
    }, silent);
    expect(r.status).toBe('FAILURE');
    expect(r.shuffles.done).toBeGreaterThanOrEqual(2);
    expect(r.violationCount).toBeGreaterThan(1);
    expect(r.durationMs).toBeGreaterThanOrEqual(1500); // not cut short by the first shuffle after a violation
  });

  it('a deadlock under --stutter is still a HANG (a hold nobody reached does not reset the watchdog)', async () => {
    const r = await runScenario({
      scenario: 'deadlock-selftest', threads: 2, durationMs: 60_000, seed: 1, bugs: [], watchdogMs: 1500, statIntervalMs: 1e9,
      keepGoing: false, stutterMs: 400, quiet: true,
    }, silent);
    expect(r.status).toBe('HANG');
    expect(r.exitCode).toBe(3);
    expect(r.durationMs).toBeLessThan(30_000);
  });

  it('a clean run with stutter, shuffle and quiescent checks stays clean', async () => {
    const r = await runScenario({
      scenario: 'fault-vs-munmap', threads: 3, durationMs: 2500, seed: 9, bugs: [], watchdogMs: 5000, statIntervalMs: 1e9,
      keepGoing: false, stutterMs: 300, shuffleMs: 500, checkIntervalMs: 200, model: { era: 3 }, quiet: true,
    }, silent);
    expect(r.status).toBe('SUCCESS');
    expect(r.stutters).toBeGreaterThan(2);
    expect(r.shuffles.done).toBeGreaterThanOrEqual(3);
    expect(r.checks.done).toBeGreaterThan(3);
  });
});

describe('config files', () => {
  it('keys fill the flags, the command line wins, the effective configuration is echoed', () => {
    const dir = tmp();
    const file = path.join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ scenario: 'spinlock-torture', threads: 3, duration: '300ms', seed: 9, progress: false, statInterval: '10s' }));
    const r = runCli(['run', '--config', file, '--threads', '2']);
    expect(r.code).toBe(0);
    const echoed = JSON.parse(/^config: (.*)$/m.exec(r.out)![1]);
    expect(echoed).toMatchObject({ scenario: 'spinlock-torture', threads: 2, duration: '300ms', seed: 9, progress: false });
    expect(r.out).toMatch(/spinlock-torture: [\d.]+m?s, 2 threads/);
    expect(r.err).not.toMatch(/\] spinlock-torture: ops/); // progress: false
  });
});

describe('bad input to soak, report and config files: one line, exit 2', () => {
  const dir = tmp();
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  const cases: [string, string[], RegExp][] = [
    ['soak: unknown scenario', ['soak', 'nope'], /unknown scenario 'nope' \(valid: rwsem-torture, /],
    ['soak: bad segment', ['soak', '--segment', '0'], /invalid --segment '0' \(must be greater than 0\)/],
    ['soak: bad era', ['soak', '--era', 'e1,e4'], /invalid --era 'e4' \(valid: e1, e2, e3\)/],
    ['soak: --schedule-seed', ['soak', '--schedule', 'pct', '--schedule-seed', '3'], /soak --schedule-seed '3': a soak turn's schedule seeds start at its own seed/],
    ['soak: bad --schedule', ['soak', '--schedule', 'loom'], /invalid --schedule 'loom' \(valid: pct, random\)/],
    ['soak: bad per-vma-lock', ['soak', '--per-vma-lock', 'sometimes'], /invalid --per-vma-lock 'sometimes' \(valid: on, off, both\)/],
    ['soak: zero threads', ['soak', '--threads', '0'], /invalid --threads '0'/],
    ['soak: malformed stutter', ['soak', '--stutter', '5q'], /invalid --stutter '5q'/],
    ['soak: malformed duration', ['soak', '--duration', 'eight hours'], /invalid --duration 'eight hours'/],
    ['config: unreadable', ['run', '--config', path.join(dir, 'missing.json')], /cannot read --config '.*missing\.json': ENOENT/],
    ['config: not JSON', ['run', '--config', write('bad.json', '{threads: 2')], /invalid --config '.*bad\.json': not JSON/],
    ['config: unknown key', ['run', 'rcu-torture', '--config', write('key.json', '{"thread": 2}')], /unknown key 'thread' in --config '.*' \(valid: scenario, logTargetOptions, threads, duration/],
    ['config: wrong type', ['run', 'rcu-torture', '--config', write('type.json', '{"threads": true}')], /invalid --config '.*': threads must be string,number/],
    ['config: bad value', ['soak', '--config', write('val.json', '{"threads": 0}')], /invalid --threads '0'/],
    ['config: not an object', ['soak', '--config', write('arr.json', '[1]')], /invalid --config '.*': expected a JSON object with keys scenarios, /],
    ['report: missing log', ['report', path.join(dir, 'none.jsonl')], /cannot read log '.*none\.jsonl': ENOENT/],
    ['report: not a log', ['report', write('notlog.jsonl', 'hello\n{"a":1}\n')], /holds no mmtorture log records/],
    ['run: module that does not load', ['run', 'x', '--module', path.join(dir, 'nope.mjs')], /cannot load --module '.*nope\.mjs'/],
  ];
  for (const [name, args, re] of cases) {
    it(name, () => {
      expectUsageError(args, re);
    });
  }
});

describe('colour', () => {
  it('NO_COLOR wins, FORCE_COLOR forces, a pipe or TERM=dumb gets none', () => {
    expect(colorEnabled(true, {})).toBe(true);
    expect(colorEnabled(false, {})).toBe(false);
    expect(colorEnabled(true, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled(true, { TERM: 'dumb' })).toBe(false);
    expect(colorEnabled(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorEnabled(false, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(false);
  });

  it('the CLI colours the report title and status only when asked', () => {
    const args = [cli, 'run', 'seqcount-torture', '--threads', '2', '--duration', '20s', '--bug', 'seqcount-no-retry', '--seed', '5', '--no-progress'];
    const env = { ...process.env };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const plain = spawnSync(process.execPath, args, { encoding: 'utf8', env });
    expect(plain.status).toBe(1);
    expect(plain.stdout + plain.stderr).not.toContain('\x1b[');
    const forced = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...env, FORCE_COLOR: '1' } });
    expect(forced.stderr).toContain('\x1b[31mBUG: seqcount reader accepted a torn snapshot\x1b[0m');
    expect(forced.stdout).toContain('\x1b[31mFAILURE\x1b[0m');
    const none = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...env, FORCE_COLOR: '1', NO_COLOR: '1' } });
    expect(none.stdout + none.stderr).not.toContain('\x1b[');
  });
});

describe('fleet shards', () => {
  it('N shards run every global turn of the rotation exactly once, each with its own seed, for N = 1..5', async () => {
    const { shardTurn, shardCoverage, soakPlan } = await import('../src/harness/soak.js');
    const plan = await soakPlan({ scenarios: ['rwsem-torture', 'page-fault', 'mixed'], eras: [1, 3], perVmaLock: [true, false], threadCounts: [1, 2, 5] });
    const P = plan.length;
    for (let N = 1; N <= 5; N++) {
      const rounds = 3;
      const seen = new Map<number, number>();
      for (let index = 1; index <= N; index++) {
        for (let i = 0; shardTurn({ index, count: N }, i) < P * rounds; i++) {
          const g = shardTurn({ index, count: N }, i);
          expect(seen.has(g)).toBe(false);
          seen.set(g, index);
        }
      }
      // Every global turn, so every configuration with each of `rounds` seeds, exactly once.
      expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: P * rounds }, (_, g) => g));
      const perConfig = new Map<number, number>();
      for (const g of seen.keys()) perConfig.set(g % P, (perConfig.get(g % P) ?? 0) + 1);
      expect([...perConfig.values()].every((n) => n === rounds)).toBe(true);
      // A shard meets every configuration in P of its turns unless N shares a factor with P.
      const cover = shardCoverage({ index: 1, count: N }, P, P);
      expect(cover).toBe(P / gcdOf(N, P));
    }
  });

  it('soak --shard 2/3 runs global turns 1, 4, 7 with seeds seed+g, says so with the host, and logs it', () => {
    const dir = tmp();
    const json = path.join(dir, 's.json');
    const r = runCli(['soak', 'rwsem-torture,spinlock-torture', '--duration', '2.4s', '--segment', '800ms', '--shard', '2/3', '--seed', '100', '--json', json]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/shard 2\/3 on \S+: global turns 1, 4, 7, \.\.\. of the rotation/);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    expect(rep.shard).toBe('2/3');
    expect(rep.segments.map((s: { turn: number }) => s.turn).slice(0, 2)).toEqual([1, 4]);
    expect(rep.segments.map((s: { seed: number }) => s.seed).slice(0, 2)).toEqual([101, 104]);
    // Two configurations, turns 1 and 4: spinlock-torture then rwsem-torture.
    expect(rep.segments.map((s: { label: string }) => s.label).slice(0, 2)).toEqual(['spinlock-torture', 'rwsem-torture']);
    expect(rep.coverage).toEqual({ configurations: 2, covered: 2 });
  });

  it('a job-array environment without --shard is named, not applied', () => {
    const r = runCli(['soak', 'spinlock-torture', '--duration', '500ms', '--segment', '500ms'], 60_000, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_MIN: '0' });
    expect(r.code).toBe(0);
    expect(r.err).toContain('note: SLURM_ARRAY_TASK_ID=3 of SLURM_ARRAY_TASK_COUNT=4 is set, but without --shard this runs the whole rotation (that task would be --shard 4/4)');
    expect(r.out).not.toContain('shard 4/4 on');
  });

  it('report merges the logs of two shards: both shards, every configuration, each violation with its shard, host and rerun line', () => {
    const dir = tmp();
    const a = path.join(dir, 'logs', 's1.jsonl');
    const b = path.join(dir, 'logs', 's2.jsonl');
    // Three configurations and two shards: each shard meets each configuration in turn.
    const common = ['rwsem-torture,seqcount-torture,rcu-torture', '--threads', '2', '--duration', '1.6s', '--segment', '800ms', '--seed', '7', '--keep-going'];
    expect(runCli(['soak', ...common, '--shard', '1/2', '--log', a]).code).toBe(0);
    // The second shard runs with a bug, so the merged report has a violation to place.
    expect(runCli(['soak', ...common, '--shard', '2/2', '--bug', 'seqcount-no-retry', '--log', b]).code).toBe(1);
    const r = runCli(['report', path.join(dir, 'logs')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^mmtorture report: 2 logs from 1 host: FAILURE \(exit 1\)/);
    expect(r.out).toMatch(/s1\.jsonl +1\/2 /);
    expect(r.out).toMatch(/s2\.jsonl +2\/2 /);
    // Turns g = 0, 2 on shard 1 and 1, 3 on shard 2: rwsem-torture (configuration 0) ran on both.
    expect(r.out).toMatch(/rwsem-torture +2 .*shard 1\/2 on \S+; shard 2\/2 on \S+/);
    expect(r.out).toMatch(/\[shard 2\/2 on \S+\] turn \d+, seqcount-torture: /);
    expect(r.out).toMatch(/rerun: mmtorture run seqcount-torture .*--bug seqcount-no-retry/);
    const j = JSON.parse(runCli(['report', a, b, '--json']).out);
    expect(j.logs.map((l: { shard: string }) => l.shard)).toEqual(['1/2', '2/2']);
    expect(j.violationsDetail.length).toBeGreaterThan(0);
    // Every violation keeps its detail (thread, object, arguments), not only its title.
    expect(j.violationsDetail.every((v: { lines: string[] }) => v.lines.length >= 2)).toBe(true);
    const g = runCli(['report', path.join(dir, 'logs', 's*.jsonl'), '--html', path.join(dir, 'fleet.html')]);
    expect(g.code).toBe(0);
    expect(readFileSync(path.join(dir, 'fleet.html'), 'utf8')).toContain('<h1>mmtorture fleet report: <span class="bad">FAILURE</span></h1>');
  });

  it('a soak stats line comes every --stat-interval across turns shorter than it', () => {
    const r = runCli(['soak', 'spinlock-torture', '--duration', '4s', '--segment', '700ms', '--stat-interval', '1s']);
    expect(r.code).toBe(0);
    const stats = r.out.split('\n').filter((l) => /^\[ *[\d.]+m?s\] spinlock-torture t=/.test(l));
    expect(stats.length).toBeGreaterThanOrEqual(2);
  });
});

function gcdOf(a: number, b: number): number {
  return b === 0 ? a : gcdOf(b, a % b);
}
