import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Scenario } from './types.js';

/*
 * Scenarios from outside mmtorture: ES modules that export what
 * defineScenario() returns. The harness and the workers both load them from
 * here, so a worker never imports the harness.
 */

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
