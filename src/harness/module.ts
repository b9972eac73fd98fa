import { findScenario, scenarioNames, type Scenario } from '../../stress/index.js';
import { importScenarios } from '../../stress/modules.js';

export { isScenario, moduleUrl, importScenarios } from '../../stress/modules.js';
import { UsageError } from './errors.js';

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
