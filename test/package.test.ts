import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('the npm package', () => {
  it('ships the built code, its types, README, LICENSE, docs and examples, and nothing of the repository around them', () => {
    // dist is built by pretest; --ignore-scripts skips the prepack build.
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
    for (const need of ['LICENSE', 'README.md', 'package.json', 'dist/src/cli.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/workers/worker.js', 'dist/stress/index.js', 'examples/counter-torture.mjs', 'examples/fleet/slurm-array.sh', 'docs/DESIGN.md']) {
      expect(files).toContain(need);
    }
    const stray = files.filter((f) => /^(test|bench|src|stress|workers|\.ci|dist\/bench|dist\/test)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts') || /tsconfig|vitest\.config|package-lock/.test(f));
    expect(stray).toEqual([]);
  });

  it('builds on pack, not on install', async () => {
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.scripts.prepare).toBeUndefined();
    expect(pkg.scripts.prepack).toMatch(/tsc/);
    expect(pkg.license).toBe('MIT');
  });
});
