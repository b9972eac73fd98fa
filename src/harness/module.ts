import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { findScenario, scenarioNames, type Scenario } from '../../stress/index.js';
import { UsageError } from './errors.js';

/** Does `x` look like a Scenario (what defineScenario returns)? */
export function isScenario(x: unknown): x is Scenario {
  const s = x as Scenario;
  return typeof x === 'object' && x !== null && typeof s.name === 'string' && typeof s.run === 'function' && typeof s.roles === 'function' && typeof s.words === 'function';
}

/** A module specifier as a URL: file: and data: URLs stay, paths resolve against the working directory. */
export function moduleUrl(spec: string): string {
  return /^(file|data):/.test(spec) ? spec : pathToFileURL(path.resolve(spec)).href;
}

const cache = new Map<string, Promise<Scenario[]>>();

/** Every scenario an ES module exports: the default export first, then the named ones. */
export function importScenarios(spec: string): Promise<Scenario[]> {
  const url = moduleUrl(spec);
  let p = cache.get(url);
  if (!p) {
    p = import(url).then((mod: Record<string, unknown>) => {
      const out: Scenario[] = [];
      for (const v of [mod.default, ...Object.values(mod)]) if (isScenario(v) && !out.includes(v)) out.push(v);
      return out;
    });
    cache.set(url, p);
  }
  return p;
}

/** importScenarios() for the CLI: a module that does not load is a one-line usage error. */
export async function loadModule(module: string): Promise<Scenario[]> {
  try {
    return await importScenarios(module);
  } catch (e) {
    throw new UsageError(`cannot load --module '${module}': ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`);
  }
}

/**
 * The scenario named `name`: a built-in one, or one exported by `module`.
 * Unknown names are a usage error naming the valid ones.
 */
export async function loadScenario(name: string, module?: string): Promise<Scenario> {
  if (module) {
    const found = await loadModule(module);
    const s = found.find((x) => x.name === name);
    if (s) return s;
    if (!findScenario(name)) {
      throw new UsageError(`unknown scenario '${name}' (valid: ${[...found.map((x) => x.name), ...scenarioNames()].join(', ')})`);
    }
  }
  const s = findScenario(name);
  if (!s) throw new UsageError(`unknown scenario '${name}' (valid: ${scenarioNames().join(', ')})`);
  return s;
}
