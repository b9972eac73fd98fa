#!/usr/bin/env node
import os from 'node:os';
import { Command, CommanderError, Help } from 'commander';
import { prepareOutput, writeOutput } from './harness/output.js';
import { SCENARIOS as BUILTIN, WORKLOADS, scenarioNames, workloadName, type BuiltinScenario } from '../stress/index.js';
import { WRITER_HOLD_DEFAULT } from '../stress/bench-workloads.js';
import { usesModel } from '../stress/types.js';
import { loadScenario, loadModule } from './harness/module.js';
import { colors, colorEnabled } from './harness/color.js';
import { effectiveOptions } from './harness/config.js';
import { defaultThreadList } from './harness/bench.js';
import { threadSweep, shardFromEnv } from './harness/soak.js';
import { BUGS, findBug, unknownBugMessage } from './bugs/catalogue.js';
import { runScenario, signalExitCode } from './harness/run.js';
import { runControlled } from './harness/controlled.js';
import { readScheduleFile, replaySchedule, shrinkSchedule, formatSteps, writeScheduleFile } from './harness/schedule.js';
import { rerunCommand } from './harness/rerun.js';
import { UsageError, EXIT_USAGE, EXIT_HARNESS, EXIT_VIOLATION } from './harness/errors.js';
import { parseDuration, parseIntIn, parseIntList, parseShard, formatDuration } from './harness/parse.js';
import { MAX_THREADS } from '../stress/actors.js';
import {
  soakDefault, collect, parseEra, validateCommon, validateRun, addRunOptions, onSignals, configHook, configPositional,
  stdIO, humanOut, addScheduleOptions, validateSchedule, type RunOpts, type ScheduleOpts,
} from './cli/options.js';

/** A --config file's options for the --log-target transport (any JSON object, passed to it as is). */
const LOG_TARGET_OPTIONS = { logTargetOptions: { type: 'object', description: 'options for the --log-target pino transport' } };
const logTargetOptions = (cmd: Command) => configPositional(cmd).logTargetOptions as Record<string, unknown> | undefined;

export { MAX_THREADS };

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('mmtorture')
    .description('Concurrency stress harness modelling the Linux kernel page-fault locking (mmap_lock, per-VMA locks, RCU, PT locks) on real worker threads')
    .version('0.1.0')
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    // A repeatable option's empty default is no default worth printing ("(default: [])" after "(default: all)").
    .configureHelp({
      optionDescription: (opt) => {
        const base = new Help();
        if (!Array.isArray(opt.defaultValue) || opt.defaultValue.length) return base.optionDescription(opt);
        const saved = opt.defaultValue;
        opt.defaultValue = undefined;
        try {
          return base.optionDescription(opt);
        } finally {
          opt.defaultValue = saved;
        }
      },
    });

  const run = addRunOptions(program
    .command('run')
    .description('run one scenario; exit 0 clean, 1 violation, 2 usage error, 3 harness failure or hang, 130/143 interrupted')
    .argument('[scenario]', `scenario name (${scenarioNames().join(', ')})`), { duration: '10s', statInterval: '5s', stutter: '0', shuffle: '0' })
    .option('--era <era>', 'per-VMA lock era for mm scenarios: e1 (6.4-6.12 rwsem), e2 (6.13-6.14 seqcount), e3 (6.15+ refcount, SLAB_TYPESAFE_BY_RCU; 6.16 per-VMA MADV_DONTNEED)', 'e1');
  addScheduleOptions(run);
  run.hook('preAction', configHook({ scenario: { type: 'string', description: 'scenario name' }, ...LOG_TARGET_OPTIONS }))
    .action(async (arg: string | undefined, o: RunOpts & ScheduleOpts, cmd: Command) => {
      const scenarioName = arg ?? (configPositional(cmd).scenario as string | undefined);
      if (!scenarioName) throw new UsageError(`missing scenario (valid: ${scenarioNames().join(', ')})`);
      const cfg = await validateRun(scenarioName, o);
      const onModel = usesModel(await loadScenario(scenarioName, o.module));
      if (!onModel) {
        const given = ['era', 'perVmaLock', 'mmPages', 'vmas', 'folios'].filter((k) => ['cli', 'config'].includes(cmd.getOptionValueSource(k) ?? ''));
        const flag = (k: string) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
        if (given.length) process.stderr.write(`note: ${given.map(flag).join(', ')} ${given.length === 1 ? 'does' : 'do'} not apply to ${scenarioName} (it has no mm model); ignored\n`);
      }
      const rerun = rerunCommand({ ...cfg, duration: o.duration, usesModel: onModel });
      const effective = { scenario: scenarioName, ...effectiveOptions(cmd), threads: cfg.threads, seed: cfg.seed >>> 0 };
      humanOut(`mmtorture: ${scenarioName} threads=${cfg.threads} duration=${o.duration} seed=${cfg.seed >>> 0}${cfg.bugs.length ? ` bugs=${cfg.bugs.join(',')}` : ''}\n`);
      humanOut(`config: ${JSON.stringify(effective)}\n`);
      const ctl = validateSchedule(o, cfg.seed);
      const sig = onSignals();
      try {
        if (ctl) {
          process.exitCode = await runControlled({ ...cfg, progress: o.progress, logTargetOptions: logTargetOptions(cmd) }, ctl, stdIO(), sig.signal);
          return;
        }
        const res = await runScenario({ ...cfg, progress: o.progress, rerun, logTargetOptions: logTargetOptions(cmd) }, stdIO(), { signal: sig.signal });
        process.exitCode = res.exitCode;
      } finally {
        sig.dispose();
      }
    });

  const hunt = addRunOptions(program
    .command('hunt')
    .description('run a scenario under the OS\'s scheduler until it fails, then re-run the same configuration under the controlled scheduler (schedule seeds --schedule-seed, +1, ...) for --hunt-budget until the same oracle fires, and save that schedule; exit 0 no failure, 1 schedule saved, 3 not reproduced or harness failure')
    .argument('<scenario>', `scenario name (${scenarioNames().join(', ')})`), { duration: '30s', statInterval: '5s', stutter: '0', shuffle: '0' })
    .option('--era <era>', 'per-VMA lock era for mm scenarios: e1, e2, e3', 'e1')
    .option('--hunt-budget <time>', 'how long the controlled re-runs may take', '60s');
  addScheduleOptions(hunt, 'pct');
  hunt.action(async (scenarioName: string, o: RunOpts & ScheduleOpts & { huntBudget: string }) => {
    const cfg = await validateRun(scenarioName, o);
    const budgetMs = parseDuration(o.huntBudget, '--hunt-budget');
    const ctl = validateSchedule(o, cfg.seed)!;
    humanOut(`mmtorture: hunt ${scenarioName} threads=${cfg.threads} seed=${cfg.seed >>> 0}${cfg.bugs.length ? ` bugs=${cfg.bugs.join(',')}` : ''}: parallel for up to ${o.duration}, then ${ctl.mode} for up to ${o.huntBudget}\n`);
    const sig = onSignals();
    try {
      const rerun = rerunCommand({ ...cfg, duration: o.duration, usesModel: usesModel(await loadScenario(scenarioName, o.module)) });
      const par = await runScenario({ ...cfg, progress: o.progress, rerun, json: undefined }, stdIO(), { signal: sig.signal });
      if (par.status !== 'FAILURE') {
        humanOut(`hunt: the parallel run ended ${par.status}; nothing to hand over\n`);
        process.exitCode = par.exitCode;
        return;
      }
      const kind = par.violations[0]?.kind ?? '';
      humanOut(`\nhunt: the parallel run fired ${kind || 'a failure'}; looking for it under the ${ctl.mode} scheduler\n`);
      process.exitCode = await runControlled({ ...cfg, durationMs: budgetMs, progress: o.progress }, { ...ctl, kinds: kind ? [kind] : undefined }, stdIO(), sig.signal);
      if (process.exitCode === 0) {
        humanOut(`hunt: ${kind} was not reproduced under the controlled scheduler within ${o.huntBudget}\n`);
        process.exitCode = EXIT_HARNESS;
      }
    } finally {
      sig.dispose();
    }
  });

  program
    .command('replay')
    .description('re-execute a schedule file: the same violation at the same step with the same report; exit 1 reproduced, 3 it did not, 2 bad file')
    .argument('<file>', 'a schedule file written by run --schedule, hunt or shrink')
    .option('--trace', 'print every step: thread, what it did (the kernel function), the object')
    .option('--json <file>', 'write the replayed run\'s summary as JSON')
    .action(async (file: string, o: { trace?: boolean; json?: string }) => {
      prepareOutput(o.json, '--json');
      const f = readScheduleFile(file);
      const out = await replaySchedule(f, { traceCap: o.trace ? f.maxSteps + 1000 : undefined });
      const r = out.result;
      const io = stdIO();
      if (r.report.length) io.err('\n' + r.report.join('\n') + '\n');
      if (o.trace) io.out(formatSteps(r.schedule!, r.roles).join('\n'));
      else io.err(`\nthe steps before the violation:\n${formatSteps(r.schedule!, r.roles, { compact: true, last: 30, until: r.schedule!.violationStep }).join('\n')}\n`);
      if (o.json) writeOutput(o.json, JSON.stringify(r, null, 2) + '\n');
      const v = r.violations[0];
      if (out.same) {
        io.out(`replay: ${f.config.scenario}: ${v.kind} at step ${r.schedule!.violationStep} by T${v.tid} (${r.roles[v.tid] ?? '?'}), as recorded: REPRODUCED`);
        process.exitCode = EXIT_VIOLATION;
      } else {
        io.out(`replay: ${f.config.scenario}: ${out.differences.join('; ')}: NOT REPRODUCED`);
        process.exitCode = EXIT_HARNESS;
      }
    });

  program
    .command('shrink')
    .description('minimise a failing schedule (fewer operations per actor, fewer context switches) while the same oracle still fires; write it and print its step trace; exit 1 shrunk, 3 it does not fail, 2 bad file')
    .argument('<file>', 'a schedule file')
    .option('-o, --output <file>', 'where to write the shrunk schedule (default: FILE with .shrunk before .json)')
    .option('--max-tests <n>', 'replays the shrinker may run', '2000')
    .action(async (file: string, o: { output?: string; maxTests: string }) => {
      const f = readScheduleFile(file);
      const maxTests = parseIntIn(o.maxTests, '--max-tests', 1, 1_000_000);
      const outPath = o.output ?? file.replace(/(\.json)?$/, (m) => '.shrunk' + (m || '.json'));
      prepareOutput(outPath, '--output');
      const t0 = performance.now();
      const s = await shrinkSchedule(f, { maxTests });
      writeScheduleFile(outPath, s.file);
      const io = stdIO();
      io.out(formatSteps(s.result.schedule!, s.result.roles, { compact: true, until: s.result.schedule!.violationStep }).join('\n'));
      io.out(`shrink: ${f.expect.violation}: ops per actor ${s.before.ops.join(',')} -> ${s.after.ops.join(',')}, violation at step ${s.before.steps} -> ${s.after.steps}, context switches ${s.before.switches} -> ${s.after.switches}, preemptions ${s.before.preemptions} -> ${s.after.preemptions} (${s.tests} replays, ${formatDuration(performance.now() - t0)})`);
      io.out(`wrote ${outPath}; replay: mmtorture replay ${outPath}`);
      process.exitCode = EXIT_VIOLATION;
    });

  const soak = addRunOptions(program
    .command('soak')
    .description('soak: rotate scenarios (mm ones through eras and lock modes) for --duration with stutter, shuffle and quiescent checks; a stats line per scenario per interval; exit 0 SUCCESS, 1 FAILURE, 3 harness failure or hang, 130/143 interrupted')
    .argument('[scenarios...]', `scenarios to rotate (default: every scenario but the self-tests: ${soakDefault().join(', ')})`), { duration: '1h', statInterval: '1m', stutter: '5s', shuffle: '20s' })
    .option('--segment <time>', 'length of one scenario\'s turn in the rotation', '1m')
    .option('--threads-sweep', `vary the thread count between turns over ${threadSweep(os.availableParallelism()).join(',')} (1, 2, 3, 5, 8, then doubling to 4x the cores; --threads also takes a list or range, e.g. 2,5,8 or 1-16)`)
    .option('--era <list>', 'eras the mm scenarios rotate through, e.g. e1,e3', 'e1,e2,e3')
    .option('--shard <i/N>', 'run shard i of N of the rotation (global turns i-1, i-1+N, ...; seeds from --seed and the turn), for job arrays and CI matrices');
  addScheduleOptions(soak);
  soak.hook('preAction', configHook({ scenarios: { description: 'scenarios to rotate', anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }] }, ...LOG_TARGET_OPTIONS }))
    .action(async (args: string[], o: RunOpts & ScheduleOpts & { segment: string; threadsSweep?: boolean; shard?: string }, cmd: Command) => {
      const fromConfig = configPositional(cmd).scenarios as string[] | string | undefined;
      const given = args.length ? args : fromConfig ? (Array.isArray(fromConfig) ? fromConfig : [fromConfig]) : soakDefault();
      // Scenario lists take commas as --bug, --era and -w do.
      const names = [...new Set(given.flatMap((a) => a.split(',')).map((x) => x.trim()).filter(Boolean))];
      const shard = o.shard === undefined ? undefined : parseShard(o.shard);
      if (!shard) {
        const env = shardFromEnv(process.env);
        if (env) process.stderr.write(`note: ${env.text} is set, but without --shard this runs the whole rotation${env.shard ? ` (that task would be --shard ${env.shard.index}/${env.shard.count})` : ' (give --shard i/N)'}\n`);
      }
      for (const n of names) await loadScenario(n, o.module);
      if (o.threadsSweep && o.threads !== undefined) throw new UsageError(`--threads-sweep and --threads '${o.threads}' exclude each other (give one)`);
      const common = await validateCommon(o, true);
      if (o.threadsSweep) {
        common.threadCounts = threadSweep(os.availableParallelism());
        common.threads = common.threadCounts[0];
      }
      const modes: Record<string, boolean[]> = { on: [true], off: [false], both: [true, false] };
      const perVmaLock = modes[o.perVmaLock];
      if (!perVmaLock) throw new UsageError(`invalid --per-vma-lock '${o.perVmaLock}' (valid: on, off, both)`);
      const eras = [...new Set(o.era.split(',').map(parseEra))];
      const segmentMs = parseDuration(o.segment, '--segment');
      // A controlled soak's schedule seeds are per turn (the turn's seed, +1, ...), and each failing turn writes its own file.
      if (o.schedule !== undefined && o.scheduleSeed !== undefined) throw new UsageError(`soak --schedule-seed '${o.scheduleSeed}': a soak turn's schedule seeds start at its own seed (--seed + turn); give --seed`);
      if (o.schedule !== undefined && o.scheduleFile !== undefined) throw new UsageError(`soak --schedule-file '${o.scheduleFile}': each failing turn writes mmtorture-<scenario>-<seed>.schedule.json`);
      const ctl = validateSchedule(o, common.seed);
      const effective = { scenarios: names, ...effectiveOptions(cmd), threads: common.threadCounts.length > 1 ? common.threadCounts.join(',') : common.threads, seed: common.seed >>> 0 };
      humanOut(`config: ${JSON.stringify(effective)}\n`);
      const { runSoak } = await import('./harness/soak.js');
      const sig = onSignals();
      try {
        const rep = await runSoak({ ...common, scenarios: names, segmentMs, eras, perVmaLock, effective, progress: o.progress, shard, logTargetOptions: logTargetOptions(cmd), schedule: ctl ? { mode: ctl.mode, depth: ctl.depth, ops: ctl.ops, maxSteps: ctl.maxSteps } : undefined }, stdIO(), sig.signal);
        process.exitCode = rep.exitCode;
      } finally {
        sig.dispose();
      }
    });

  program
    .command('report')
    .description('read --log files back: one log (run or soak) as a human summary, optionally an HTML page with stats-over-time charts and every violation with its interleaved event tail; several logs, a folder or a glob (a fleet\'s shards) as one merged report')
    .argument('<logs...>', 'pino JSON-lines files written with --log, folders of them, or globs (logs/*.jsonl)')
    .option('--html <file>', 'write a self-contained HTML page')
    .option('--json', 'print the parsed report as JSON instead of text')
    .option('--pretty', 'print every log record as a human-readable line (pino-pretty) instead of the summary (one log)')
    .action(async (args: string[], o: { html?: string; json?: boolean; pretty?: boolean }) => {
      prepareOutput(o.html, '--html');
      const { readRunLog, formatLogReport, logReportHtml, prettyLog } = await import('./harness/logreport.js');
      const { expandLogArgs, mergeLogs, formatMerged, mergedHtml } = await import('./harness/logmerge.js');
      const files = expandLogArgs(args);
      const paint = colors(colorEnabled(Boolean(process.stdout.isTTY)));
      if (files.length > 1) {
        if (o.pretty) throw new UsageError(`--pretty reads one log (given ${files.length}: ${files.join(', ')})`);
        const m = mergeLogs(files);
        if (o.json) process.stdout.write(JSON.stringify(m, null, 2) + '\n');
        else if (o.html !== '-') for (const l of formatMerged(m, paint)) process.stdout.write(l + '\n');
        if (o.html) writeOutput(o.html, mergedHtml(m));
        return;
      }
      const file = files[0];
      const rep = readRunLog(file);
      if (o.pretty) process.stdout.write(prettyLog(file, colorEnabled(Boolean(process.stdout.isTTY))));
      else if (o.json) process.stdout.write(JSON.stringify(rep, null, 2) + '\n');
      else if (o.html !== '-') for (const l of formatLogReport(rep, paint)) process.stdout.write(l + '\n');
      if (o.html) writeOutput(o.html, logReportHtml(rep));
    });

  program
    .command('bench')
    .description('contention benchmark: ops/s against threads per mode (per-VMA lock vs mmap_lock), fallback rates, lock_stat with wait percentiles; table, JSON and HTML')
    .addHelpText('after', '\nWorkloads:\n' + WORKLOADS.map((w) => `  ${workloadName(w).padEnd(22)} ${w.description.replace(/^bench: /, '')}`).join('\n'))
    .option('-w, --workload <names>', `comma-separated workloads (default: all: ${WORKLOADS.map(workloadName).join(', ')})`, collect, [])
    .option('-t, --threads <list>', 'thread counts, e.g. 1,2,4 or 1-16 (default: 1 up to os.availableParallelism(), doubling)')
    .option('--mode <list>', 'comma-separated: per-vma, mmap-lock', 'per-vma,mmap-lock')
    .option('--era <list>', 'eras for the mm workloads, e.g. e1,e3', 'e1')
    .option('--writer-rate <n>', 'writer thread operations per second (fault-vs-mmap-writer, fault-vs-fork, seqcount-read; 0 = unpaced)', '1000')
    .option('--writer-hold <pages>', 'pages the fault-vs-munmap-large writer moves per mremap under mmap_lock write (its hold time)', String(WRITER_HOLD_DEFAULT))
    .option('-d, --duration <time>', 'run time of each point', '2s')
    .option('--repeat <n>', 'runs per point; the median and the spread are reported', '3')
    .option('--seed <n>', 'seed (default: random)')
    .option('--no-check', 'measure without the oracles (lockdep, quiescent checks); the report says so')
    .option('--json <file>', 'write every point as JSON')
    .option('--html <file>', 'write a self-contained HTML page with SVG charts')
    .action(async (o: { workload: string[]; threads?: string; mode: string; era: string; writerRate: string; writerHold: string; duration: string; repeat: string; seed?: string; check: boolean; json?: string; html?: string }) => {
      const names = WORKLOADS.map(workloadName);
      prepareOutput(o.json, '--json');
      prepareOutput(o.html, '--html');
      const workloads = o.workload.length ? o.workload : names;
      for (const w of workloads) if (!names.includes(w)) throw new UsageError(`unknown workload '${w}' (valid: ${names.join(', ')})`);
      const threads = o.threads === undefined ? defaultThreadList() : parseIntList(o.threads, '--threads', 1, MAX_THREADS);
      const modes = o.mode.split(',').map((m) => m.trim());
      for (const m of modes) if (m !== 'per-vma' && m !== 'mmap-lock') throw new UsageError(`invalid --mode '${m}' (valid: per-vma, mmap-lock)`);
      const eras = o.era.split(',').map(parseEra);
      const { runBench } = await import('./harness/bench.js');
      const sig = onSignals();
      const rep = await runBench({
        workloads, threads, modes: modes as ('per-vma' | 'mmap-lock')[], eras,
        durationMs: parseDuration(o.duration, '--duration'), repeat: parseIntIn(o.repeat, '--repeat', 1, 100),
        writerRate: parseIntIn(o.writerRate, '--writer-rate', 0, 10_000_000),
        writerHold: parseIntIn(o.writerHold, '--writer-hold', 1, 65536),
        seed: o.seed === undefined ? (Date.now() >>> 0) : parseIntIn(o.seed, '--seed', 0, 0xffffffff),
        check: o.check, json: o.json, html: o.html,
      }, stdIO(), sig.signal).finally(() => sig.dispose());
      process.exitCode = rep.interrupted ? signalExitCode(rep.interrupted) : rep.points.some((p) => p.violations > 0 || p.status === 'ERROR' || p.status === 'HANG') ? 1 : 0;
    });

  program
    .command('list')
    .description('list scenarios and catalogued bugs with one-line descriptions')
    .option('--json', 'print as JSON')
    .option('--module <file>', 'also list the scenarios an ES module exports')
    .action(async (o: { json?: boolean; module?: string }) => {
      const extra = o.module ? await loadModule(o.module) : [];
      const SCENARIOS = [...extra, ...BUILTIN];
      if (o.json) {
        process.stdout.write(JSON.stringify({
          scenarios: SCENARIOS.map((s) => ({ name: s.name, description: s.description, exposes: (s as Partial<BuiltinScenario>).exposes ?? [] })),
          bugs: BUGS.map(({ word: _w, bit: _b, ...rest }) => rest),
        }, null, 2) + '\n');
        return;
      }
      const w = Math.max(...SCENARIOS.map((s) => s.name.length), ...BUGS.map((b) => b.id.length));
      process.stdout.write('Scenarios:\n');
      for (const s of SCENARIOS) process.stdout.write(`  ${s.name.padEnd(w)}  ${s.description}\n`);
      process.stdout.write('\nBugs (--bug ID; scenario that exposes it):\n');
      for (const b of BUGS) process.stdout.write(`  ${b.id.padEnd(w)}  ${b.title} [${b.scenario}]\n`);
    });

  program
    .command('validate')
    .description('prove detection power: run every catalogued bug R times (must be caught every run) and every scenario clean; exit 0 PASS, 1 FAIL')
    .option('--runs <n>', 'runs per bug, each with seed+i (1..100)', '5')
    .option('--timeout <time>', 'time limit of one bug run (ms, s, m, h)', '20s')
    .option('--clean <time>', 'duration of each clean scenario run', '3s')
    .option('--clean-threads <list>', 'thread counts of the clean runs, e.g. 2,5,8 or 1-16 (each 1..1024)', '2,5,8')
    .option('-b, --bug <id>', 'validate only this bug (repeatable, or comma-separated; default: all)', collect, [])
    .option('--json <file>', 'write the validation report as JSON')
    .option('--seed <n>', 'base seed; run i uses seed+i (default: random, printed)')
    .option('--no-mixed', 'skip hunting each mm bug from `mixed` with its defaults (reported beside the tuned row; not part of PASS)')
    .option('--mixed-threads <n>', 'threads of the mixed hunt (default: os.availableParallelism(), as `run`)')
    .option('--indirect', 'also hunt each mm bug in its tuned row with --no-direct-asserts (detection through the race\'s consequence; not part of PASS)')
    .option('--no-pct', 'skip the PCT column: each tuned row under the controlled PCT scheduler (depth 3) for up to --timeout, its schedule replayed 10 times (not part of PASS), and 10 PCT schedules of every clean configuration (part of PASS)')
    .option('--pct-ops <n>', 'operations per actor in the PCT column', '8')
    .option('--no-clean', 'skip the clean runs (without it, --bug runs clean only the scenarios those bugs use)')
    .option('--shard <i/N>', 'run shard i of N: bug entries and clean runs j with j mod N = i-1, seeds as unsharded')
    .action(async (o: { runs: string; timeout: string; clean: string | boolean; cleanThreads: string; bug: string[]; json?: string; seed?: string; mixed: boolean; mixedThreads?: string; indirect?: boolean; shard?: string; pct: boolean; pctOps: string }) => {
      prepareOutput(o.json, '--json');
      const shard = o.shard === undefined ? undefined : parseShard(o.shard);
      for (const b of o.bug) {
        if (!findBug(b)) throw new UsageError(unknownBugMessage(b));
      }
      const runs = parseIntIn(o.runs, '--runs', 1, 100);
      const timeoutMs = parseDuration(o.timeout, '--timeout');
      const cleanMs = typeof o.clean === 'string' ? parseDuration(o.clean, '--clean') : 3000;
      const cleanThreads = parseIntList(o.cleanThreads, '--clean-threads', 1, MAX_THREADS);
      const seed = o.seed === undefined ? undefined : parseIntIn(o.seed, '--seed', 0, 0xffffffff);
      const { runValidate } = await import('./harness/validate.js');
      const mixedThreads = o.mixedThreads === undefined ? undefined : parseIntIn(o.mixedThreads, '--mixed-threads', 1, MAX_THREADS);
      const pctOps = parseIntIn(o.pctOps, '--pct-ops', 1, 100_000);
      const sig = onSignals();
      try {
        const report = await runValidate({
          runs, timeoutMs, cleanMs, cleanThreads, bugs: o.bug.length ? [...new Set(o.bug.flatMap((b) => b.split(',')))] : undefined, seed, json: o.json, mixed: o.mixed, mixedThreads,
          indirect: o.indirect === true, clean: o.clean !== false, shard, signal: sig.signal, pct: o.pct, pctOps,
        }, stdIO());
        process.exitCode = report.interrupted ? signalExitCode(report.interrupted) : report.pass ? 0 : 1;
      } finally {
        sig.dispose();
      }
    });
  return program;
}

function optionNames(cmd: Command): string {
  return cmd.options.map((o) => o.long ?? o.short).filter(Boolean).join(', ');
}

/** Turn commander's errors into one line naming the bad value and the valid ones. */
function usageLine(program: Command, err: CommanderError, argv: string[]): string {
  const sub = program.commands.find((c) => argv.includes(c.name()));
  switch (err.code) {
    case 'commander.unknownCommand':
      return `${err.message.replace(/^error: /, '').replace(/\.$/, '')} (valid: ${program.commands.map((c) => c.name()).join(', ')})`;
    case 'commander.unknownOption':
      return `${err.message.replace(/^error: /, '').replace(/\.$/, '')} (valid: ${sub ? optionNames(sub) : '--help, --version'})`;
    case 'commander.missingArgument':
      if (sub?.name() === 'run') return `missing scenario (valid: ${scenarioNames().join(', ')})`;
      return err.message.replace(/^error: /, '');
    default:
      return err.message.replace(/^error: /, '').split('\n')[0];
  }
}

export async function main(argv: string[]): Promise<void> {
  // A closed pipe (`mmtorture report x | head`) ends us quietly, like SIGPIPE would.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const program = buildProgram();
  try {
    if (argv.length === 0) {
      process.stdout.write(program.helpInformation());
      return;
    }
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help' || e.code === 'commander.version') {
        process.exitCode = 0;
        return;
      }
      process.stderr.write(`mmtorture: ${usageLine(program, e, argv)}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`mmtorture: ${e.message}\n`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.stderr.write(`mmtorture: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exitCode = EXIT_HARNESS;
  }
}

await main(process.argv.slice(2));
