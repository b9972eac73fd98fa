import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// The package, as a user imports it (package.json "exports", built in dist/).
import { runTorture, defineScenario, running } from 'mmtorture';
import { runCli } from './helpers/cli.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const example = path.join(root, 'examples/counter-torture.mjs');

describe('library API: the README example', () => {
  it('is the tested file, verbatim', () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    expect(readme).toContain(readFileSync(example, 'utf8').trim());
  });

  it('runs clean from code: SUCCESS, operations counted, zero violations', async () => {
    const r = await runTorture({ module: new URL('../examples/counter-torture.mjs', import.meta.url), threads: 2, duration: '1s', seed: 1 });
    expect(r.status).toBe('SUCCESS');
    expect(r.exitCode).toBe(0);
    expect(r.scenario).toBe('counter-torture');
    expect(r.ops).toBeGreaterThan(0);
    expect(r.stats.data.ops).toBeGreaterThan(0);
    expect(r.violationCount).toBe(0);
  });

  it('catches the lock-skipping variant with its own oracles', async () => {
    const r = await runTorture({ module: example, threads: 2, duration: '20s', params: [1], seed: 2 });
    expect(r.status).toBe('FAILURE');
    expect(['oracle-failed', 'quiescent-invariant']).toContain(r.violations[0].kind);
    expect(r.report[0]).toMatch(/^BUG: /);
  });

  it('runs from the CLI with --module, and list shows it', () => {
    const r = runCli(['run', 'counter-torture', '--module', example, '--threads', '2', '--duration', '500ms']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/counter-torture: .* 0 violations: SUCCESS/);
    expect(runCli(['list', '--module', example]).out).toMatch(/counter-torture +threads add to a counter/);
  });
});

describe('defineScenario rejects what cannot run', () => {
  it('no actors, a bad name, a role without an actor', () => {
    expect(() => defineScenario({ name: 'x', actors: {} })).toThrow(/no actors/);
    expect(() => defineScenario({ name: 'bad name', actors: { a: () => undefined } })).toThrow(/invalid name 'bad name'/);
    const s = defineScenario({ name: 'y', roles: (n) => Array.from({ length: n }, () => 'b'), actors: { a: (t) => void running(t) } });
    expect(() => s.roles(2)).toThrow(/role 'b' has no actor \(actors: a\)/);
  });
});
