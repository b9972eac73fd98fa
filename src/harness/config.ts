import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import type { Command, Option } from 'commander';
import { UsageError } from './errors.js';

/*
 * --config FILE: a JSON object whose keys are the command's flags in
 * camelCase (--stat-interval -> "statInterval", --no-trace -> "trace": false)
 * plus its positional arguments. The JSON Schema is derived from the
 * command's own option table, so every flag has a key and no key exists
 * without a flag. Flags given on the command line win over the file.
 */

type JsonSchema = Record<string, unknown>;

/** Options that take repeatable values (collected into arrays). */
function isList(o: Option): boolean {
  return Array.isArray(o.defaultValue);
}

function isBoolean(o: Option): boolean {
  return !o.required && !o.optional;
}

function configOptions(cmd: Command): Option[] {
  return cmd.options.filter((o) => o.long !== '--config' && o.long !== '--help');
}

/** The JSON Schema of a command's config file. */
export function configSchema(cmd: Command, positional: Record<string, JsonSchema> = {}): JsonSchema {
  const properties: Record<string, JsonSchema> = { $schema: { type: 'string' }, ...positional };
  for (const o of configOptions(cmd)) {
    const key = o.attributeName();
    const description = o.description;
    if (isBoolean(o)) properties[key] = { type: 'boolean', description };
    else if (isList(o)) properties[key] = { description, anyOf: [{ type: 'array', items: { type: ['string', 'integer'] } }, { type: ['string', 'integer'] }] };
    else properties[key] = { type: ['string', 'number'], description };
  }
  return { type: 'object', additionalProperties: false, properties };
}

/** Read and validate a config file for `cmd`; one-line usage errors. */
export function loadConfig(file: string, cmd: Command, positional: Record<string, JsonSchema> = {}): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --config '${file}': ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`invalid --config '${file}': not JSON (${(e as Error).message.split('\n')[0]})`);
  }
  const schema = configSchema(cmd, positional);
  const validate = new Ajv({ allErrors: false, strict: false }).compile(schema);
  if (!validate(data)) {
    const err = validate.errors?.[0];
    const valid = Object.keys(schema.properties as object).filter((k) => k !== '$schema').join(', ');
    if (err?.keyword === 'additionalProperties') {
      throw new UsageError(`unknown key '${(err.params as { additionalProperty: string }).additionalProperty}' in --config '${file}' (valid: ${valid})`);
    }
    if (err?.instancePath === '') throw new UsageError(`invalid --config '${file}': expected a JSON object with keys ${valid}`);
    throw new UsageError(`invalid --config '${file}': ${err?.instancePath.slice(1)} ${err?.message}`);
  }
  return data as Record<string, unknown>;
}

/**
 * Apply a validated config to the command's parsed options: a key fills an
 * option the command line did not set. Values become the strings the flag
 * parsers expect.
 */
export function applyConfig(cmd: Command, data: Record<string, unknown>): void {
  for (const o of configOptions(cmd)) {
    const key = o.attributeName();
    if (!(key in data)) continue;
    if (cmd.getOptionValueSource(key) === 'cli') continue;
    const v = data[key];
    let value: unknown;
    if (isBoolean(o)) value = v;
    else if (isList(o)) value = (Array.isArray(v) ? v : String(v).split(',')).map((x) => String(x).trim()).filter(Boolean);
    else value = String(v);
    cmd.setOptionValueWithSource(key, value, 'config');
  }
}

/** The options as they will be used (after defaults, config and flags), for echoing. */
export function effectiveOptions(cmd: Command): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const o of configOptions(cmd)) {
    const key = o.attributeName();
    const v = cmd.getOptionValue(key);
    if (v !== undefined) out[key] = v;
  }
  return out;
}
