import { describe, it, expect } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, expectUsageError } from './helpers/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist/src/cli.js');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'mmt-out-'));

/** Start the CLI; once stderr matches `ready`, send SIGINT; resolve with how it ended. */
function interruptWhen(args: string[], ready: RegExp): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cli, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let err = '';
    let sent = false;
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => {
      err += d;
      if (!sent && ready.test(err)) {
        sent = true;
        p.kill('SIGINT');
      }
    });
    const guard = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`no exit after SIGINT: ${out}\n${err}`));
    }, 90_000);
    p.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, out, err });
    });
  });
}

describe('output files', () => {
  it('a missing folder for --json is created; a file in the way is a usage error before any work (exit 2)', () => {
    const dir = tmp();
    const json = path.join(dir, 'no', 'such', 'x.json');
    const r = runCli(['run', 'spinlock-torture', '--threads', '2', '-d', '300ms', '--json', json]);
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).status).toBe('SUCCESS');
    writeFileSync(path.join(dir, 'file'), '');
    // A 60 s run is refused before it starts: no run header, no progress.
    const bad = expectUsageError(['run', 'spinlock-torture', '-d', '60s', '--json', path.join(dir, 'file', 'x.json')], /cannot write --json '.*file\/x\.json': folder '.*file' cannot be created: a file is in the way/);
    expect(bad.out).not.toContain('mmtorture: spinlock-torture threads=');
    expectUsageError(['bench', '-w', 'rwsem-read', '-d', '60s', '--html', path.join(dir, 'file', 'b.html')], /cannot write --html/);
    expectUsageError(['report', path.join(dir, 'nolog.jsonl'), '--html', dir], /cannot write --html '.*': it is a folder/);
  });

  it('--json - writes only the JSON to stdout; the human text goes to stderr', () => {
    const r = runCli(['run', 'spinlock-torture', '--threads', '2', '-d', '300ms', '--json', '-']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).status).toBe('SUCCESS');
    expect(existsSync('-')).toBe(false);
    expect(r.err).toMatch(/spinlock-torture: .* 0 violations: SUCCESS/);
  });

  it('--log-target sends the log through a pino transport (pino/file, options from the config file)', () => {
    const dir = tmp();
    const dest = path.join(dir, 'shipped.jsonl');
    const conf = path.join(dir, 'c.json');
    writeFileSync(conf, JSON.stringify({ logTargetOptions: { destination: dest } }));
    const r = runCli(['run', 'spinlock-torture', '--threads', '2', '-d', '300ms', '--config', conf, '--log-target', 'pino/file']);
    expect(r.code).toBe(0);
    const recs = readFileSync(dest, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(recs.map((x) => x.phase)).toEqual(expect.arrayContaining(['setup', 'run', 'summary']));
    expect(recs.find((x) => x.phase === 'summary').status).toBe('SUCCESS');
    expectUsageError(['run', 'spinlock-torture', '--log-target', 'no-such-transport-xyz'], /invalid --log-target 'no-such-transport-xyz'/);
  });

  it('a bug id in the wrong case gets a suggestion', () => {
    expectUsageError(['run', 'fault-vs-munmap', '--bug', 'b3'], /unknown bug 'b3' \(did you mean B3\?\) \(valid: /);
  });
});

describe('Ctrl-C keeps what was measured', () => {
  it('validate: SIGINT after the first finished run prints the table so far, writes the JSON with interrupted, exits 130', async () => {
    const dir = tmp();
    const json = path.join(dir, 'v.json');
    const r = await interruptWhen(['validate', '--bug', 'seqcount-no-retry,B1', '--runs', '3', '--timeout', '20s', '--clean', '20s', '--clean-threads', '2', '--json', json], /\[1\/\d+ /);
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/interrupted by SIGINT after .*: \d+ of \d+ runs finished/);
    expect(r.out).toMatch(/validate: .*: INTERRUPTED/);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    expect(rep.interrupted).toBe('SIGINT');
    expect(rep.pass).toBe(false);
    // The finished run is kept and the abandoned one is not counted as missed.
    expect(rep.bugs[0].id).toBe('seqcount-no-retry');
    expect(rep.bugs[0].perRun.length).toBeGreaterThanOrEqual(1);
    expect(rep.bugs[0].perRun.every((p: { detected: boolean }) => p.detected)).toBe(true);
  });

  it('bench: SIGINT after the first point prints the table so far, writes the JSON with interrupted, exits 130', async () => {
    const dir = tmp();
    const json = path.join(dir, 'b.json');
    const r = await interruptWhen(['bench', '-w', 'rwsem-read', '-t', '1,2,3,4', '-d', '1s', '--repeat', '1', '--json', json], /\[1\/4 /);
    expect(r.code).toBe(130);
    expect(r.out).toMatch(/bench: [12]\/4 points, .*: INTERRUPTED/);
    const rep = JSON.parse(readFileSync(json, 'utf8'));
    expect(rep.interrupted).toBe('SIGINT');
    expect(rep.points.length).toBeGreaterThanOrEqual(1);
    expect(rep.points.length).toBeLessThan(4);
  });
});
