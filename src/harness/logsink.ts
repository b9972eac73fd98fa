import { createRequire } from 'node:module';
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { UsageError } from './errors.js';

/*
 * Where the pino log goes: --log FILE (or - for stdout), and/or --log-target
 * MODULE, any pino transport (pino/file, pino-loki, pino-elasticsearch, ...)
 * with its options from the config file's logTargetOptions, through pino's
 * own transport mechanism (a worker thread, so shipping never slows a run).
 */

export interface LogSinkConfig {
  log?: string;
  logLevel?: string;
  logTarget?: string;
  logTargetOptions?: Record<string, unknown>;
}

export interface LogSink {
  logger: Logger;
  /** Flush and, for a transport, wait until it has written everything. */
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** The transport module as pino will load it: a path, a package mmtorture can load, or one in the working directory. */
function resolveTarget(target: string): string {
  if (target.startsWith('.') || path.isAbsolute(target)) return path.resolve(target);
  try {
    require.resolve(target);
    return target;
  } catch {
    // not one of mmtorture's own dependencies: try the user's project
  }
  try {
    return require.resolve(target, { paths: [process.cwd()] });
  } catch {
    throw new UsageError(`invalid --log-target '${target}' (not a path and no such package here or in ${process.cwd()}; e.g. pino/file, pino-loki, pino-elasticsearch)`);
  }
}

/** Check --log-target before any work. */
export function checkLogTarget(target: string | undefined): void {
  if (target !== undefined) resolveTarget(target);
}

export function openLogSink(cfg: LogSinkConfig, base: Record<string, unknown>): LogSink | null {
  if (!cfg.log && !cfg.logTarget) return null;
  const level = cfg.logLevel ?? 'info';
  if (!cfg.logTarget) {
    const dest = pino.destination({ dest: cfg.log === '-' ? 1 : cfg.log, sync: true, mkdir: true });
    const logger = pino({ level, base }, dest);
    return { logger, close: async () => logger.flush() };
  }
  const targets: { target: string; options: Record<string, unknown>; level: string }[] = [
    { target: resolveTarget(cfg.logTarget), options: cfg.logTargetOptions ?? {}, level },
  ];
  if (cfg.log) targets.push({ target: 'pino/file', options: { destination: cfg.log === '-' ? 1 : cfg.log, mkdir: true }, level });
  const transport = pino.transport({ targets });
  const logger = pino({ level, base }, transport);
  return {
    logger,
    close: () => new Promise<void>((resolve) => {
      const done = setTimeout(resolve, 10_000); // a transport that never closes must not hang the harness
      transport.once('close', () => {
        clearTimeout(done);
        resolve();
      });
      logger.flush();
      transport.end();
    }),
  };
}
