import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/*
 * The module graph, read from the sources: no import cycles among value
 * imports (the ones that decide evaluation order; `import type` is erased,
 * and every model file names the MmCtx type), and no module imports, even a
 * type, from a layer above its own. Layers, from
 * the bottom: the shared-memory layout and errno; the synchronisation
 * primitives; the mm model, its oracles, the trace decoder and the bug
 * catalogue; the scenarios; the harness and the workers; the CLI and the
 * library entry. Dynamic import() is not a static edge and is not checked.
 */
const ROOT = path.resolve(__dirname, '..');

function layer(rel: string): number {
  if (rel === 'src/errno.ts' || rel.startsWith('src/shm/')) return 0;
  if (rel.startsWith('src/sync/')) return 1;
  if (/^src\/(mm|check|trace|bugs)\//.test(rel)) return 2;
  if (rel.startsWith('stress/')) return 3;
  if (rel.startsWith('src/harness/') || rel.startsWith('workers/')) return 4;
  if (rel === 'src/cli.ts' || rel === 'src/index.ts' || rel.startsWith('src/cli/')) return 5;
  return 6; // bench/
}

function sources(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (f.endsWith('.ts')) out.push(p);
  }
  return out;
}

function graph(values: boolean): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const d of ['src', 'stress', 'workers', 'bench']) {
    for (const file of sources(path.join(ROOT, d))) {
      const text = readFileSync(file, 'utf8');
      const deps: string[] = [];
      for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom '(\.[^']+)';/gms)) {
        if (values && /^(?:import|export) type\b/.test(m[0])) continue;
        deps.push(path.relative(ROOT, path.resolve(path.dirname(file), m[1])).replace(/\.js$/, '.ts'));
      }
      g.set(path.relative(ROOT, file), deps);
    }
  }
  return g;
}

/** Every cycle's members (Tarjan's strongly connected components of size > 1). */
function cycles(g: Map<string, string[]>): string[][] {
  let n = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!g.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      for (;;) {
        const w = stack.pop()!;
        on.delete(w);
        comp.push(w);
        if (w === v) break;
      }
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('module layering', () => {
  const g = graph(false);

  it('reads the whole tree (the check is not vacuous)', () => {
    expect(g.size).toBeGreaterThan(60);
    expect(g.get('src/mm/fault.ts')).toContain('src/mm/mmap_lock.ts');
  });

  it('has no import cycles', () => {
    expect(cycles(graph(true))).toEqual([]);
  });

  it('imports only from its own layer or below', () => {
    const upward: string[] = [];
    for (const [from, deps] of g) for (const to of deps) if (layer(to) > layer(from)) upward.push(`${from} -> ${to}`);
    expect(upward).toEqual([]);
  });
});
