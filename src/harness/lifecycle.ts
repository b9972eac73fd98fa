import { hostname } from 'node:os';
import type { Piscina } from 'piscina';
import type { Logger } from 'pino';
import { openLogSink, type LogSink } from './logsink.js';
import { Arena } from '../shm/arena.js';
import { modelDefaults } from '../mm/model.js';
import {
  H_ABORT, H_GO, H_READY, H_STOP, F_KEEP_GOING, F_TRACE, F_NO_CHECK, F_NO_DIRECT, T_KILL, H_PAUSE, H_PAUSED, T_STATE, H_CHECK_SEQ,
  H_GENERATION, STATE_DONE, STATE_RUNNING,
} from '../shm/layout.js';
import { loadScenario } from './module.js';
import { bugWords } from '../bugs/catalogue.js';
import { effectiveJitter, type Scenario, type BuiltinScenario } from '../../stress/types.js';
import type { WorkerResult, WorkerTask } from '../../workers/protocol.js';
import { totalOps, lockStat, violationCount, type DecodedViolation } from './collect.js';
import { formatDuration, si } from './parse.js';
import type { RunConfig, RunHooks, RunIO, RunResult, StatSnapshot } from './run-types.js';
import { wakeAll, kickSleepers } from '../sync/sched.js';
import { collectGarbage, createPool, memorySample, shuffled, loggedConfigOf } from './pool.js';
import { hangOf } from './verdict.js';
import { ctlInit, ctlStart, ctlEnd, ctlWords, STEP_MS, CTL_PCT, CTL_RANDOM, CTL_REPLAY, type CtlOptions } from '../sync/ctl.js';
import type { ScheduleConfig } from './run-types.js';

/** The scheduler's options for a controlled run's configuration. */
export function ctlOptionsOf(s: ScheduleConfig): CtlOptions {
  const mode = s.mode === 'pct' ? CTL_PCT : s.mode === 'random' ? CTL_RANDOM : CTL_REPLAY;
  return { mode, seed: s.seed, depth: s.depth, steps: s.steps, maxSteps: s.maxSteps, opsLimit: s.ops, replay: s.replay, traceCap: s.traceCap ?? 4096 };
}

/*
 * One run's lifecycle, in the phases runScenario() calls in order (DESIGN.md):
 * setup (arena, scenario, pool), start (one long-running task per thread
 * behind the start barrier), the tick loop (progress, watchdog, quiescent
 * checks, stutter, shuffle, stat intervals — one method each), join (never
 * hang: abort unwinds every wait, destroy kills the rest), verdict, report.
 */

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A timer that does not keep the process alive (for races against the join). */
const deadline = (ms: number) => new Promise<false>((r) => setTimeout(() => r(false), ms).unref());

/**
 * Wait up to `ms` for `done`, kicking the arena's sleepers every few ms
 * meanwhile (a kick is a notify, which a sleeper about to sleep can miss).
 */
async function joinKicking(i32: Int32Array, done: Promise<unknown>, ms: number): Promise<boolean> {
  let finished = false;
  const d = done.then(() => {
    finished = true;
    return true as const;
  });
  const until = performance.now() + ms;
  while (!finished && performance.now() < until) {
    kickSleepers(i32);
    if (await Promise.race([d, deadline(Math.min(5, Math.max(0, until - performance.now())))])) return true;
  }
  return finished;
}
/** The tick loop's period (ms). */
const TICK = 50;

type Hang = RunResult['hang'];

export class ScenarioRun {
  // Set up once.
  readonly loggedConfig: Omit<RunConfig, 'progress' | 'quiet'>;
  readonly roles: string[];
  readonly notes: string[];
  readonly tids: number[];
  readonly i32: Int32Array;
  readonly doChecks: boolean;
  readonly stutterHold: number;
  /** Under the controlled scheduler: no stutter, shuffle or periodic checks; the run ends when every actor has. */
  readonly controlled: boolean;
  // What happened.
  errors: string[] = [];
  crashed = false;
  crash: RunResult['crash'] = null;
  hang: Hang = null;
  interrupted: string | null = null;
  firstViolationMs: number | null = null;
  quiescentViolations: DecodedViolation[] = [];
  checks = 0;
  checksSkipped = 0;
  stutters = 0;
  shuffles = 0;
  /** Which worker thread ran each actor last, and how many restarts landed elsewhere. */
  threadOf: number[];
  moved = 0;
  allDone: Promise<unknown> = Promise.resolve();
  /** The worker pool, started by start() (after the scenario's setup, so a setup that throws leaves no threads). */
  private pool!: Piscina;
  t0 = 0;
  goAt = 0;
  durationMs = 0;
  // The tick loop's clocks.
  private lastOps = 0;
  private lastProgressAt = 0;
  private lastLine = 0;
  private lastStat = 0;
  /** When the next stats snapshot is due (a soak keeps its clock across turns). */
  private nextStatAt = 0;
  private lastStatOps = 0;
  private lastCheck = 0;
  private lastStutter = 0;
  private lastShuffle = 0;
  private lastOpsChangeAt = 0;
  private watchOps = -1;
  private linesOpen = false;

  private constructor(
    readonly cfg: RunConfig,
    readonly io: RunIO,
    readonly hooks: RunHooks,
    readonly scenario: Scenario,
    readonly arena: Arena,
    readonly logger: Logger | null,
    readonly ownLogger: LogSink | null,
  ) {
    this.loggedConfig = loggedConfigOf(cfg);
    this.roles = scenario.roles(cfg.threads);
    this.notes = scenario.notes?.(cfg.threads) ?? [];
    this.tids = this.roles.map((_, tid) => tid);
    this.i32 = arena.i32;
    this.threadOf = new Array<number>(cfg.threads).fill(-1);
    this.doChecks = Boolean(scenario.quiescentCheck) && cfg.checks !== false;
    this.stutterHold = cfg.stutterMs ? (cfg.stutterHoldMs ?? Math.max(50, cfg.stutterMs / 5)) : 0;
    this.controlled = Boolean(cfg.schedule);
  }

  /** Phase 1: load the scenario, build and lay out the arena, open the log, start the pool. */
  static async setup(cfg: RunConfig, io: RunIO, hooks: RunHooks): Promise<ScenarioRun> {
    collectGarbage(); // what earlier runs left: memory stays flat over many runs
    const scenario = await loadScenario(cfg.scenario, cfg.module);
    const [bugs0, bugs1] = bugWords(cfg.bugs);
    const ownLogger = hooks.logger ? null : openLogSink(cfg, { scenario: cfg.scenario });
    const logger = hooks.logger ?? ownLogger?.logger ?? null;
    const ctl = cfg.schedule ? ctlOptionsOf(cfg.schedule) : null;
    const sopts = { model: { ...modelDefaults(cfg.threads), ...((scenario as Partial<BuiltinScenario>).modelFor?.(cfg.threads, cfg.params ?? []) ?? {}), ...(cfg.model ?? {}) } };
    const arena = Arena.create({
      threads: cfg.threads,
      scenarioWords: scenario.words(cfg.threads, sopts),
      bugs0, bugs1,
      seed: cfg.seed,
      flags: (cfg.keepGoing ? F_KEEP_GOING : 0) | (cfg.trace === false ? 0 : F_TRACE) | (cfg.checks === false ? F_NO_CHECK : 0) | (cfg.directAsserts === false ? F_NO_DIRECT : 0),
      jitter: ctl ? 0 : effectiveJitter(scenario, cfg.jitter),
      params: cfg.params,
      ctlWords: ctl ? ctlWords(cfg.threads, ctl) : 0,
    });
    if (ctl) ctlInit(arena, ctl);
    const run = new ScenarioRun(cfg, io, hooks, scenario, arena, logger, ownLogger);
    logger?.info({ phase: 'setup', config: run.loggedConfig, host: hostname() }, 'setup');
    scenario.setup(arena, sopts);
    if (!cfg.quiet) for (const n of run.notes) io.err(`${cfg.scenario}: ${n}\n`);
    return run;
  }

  /** Raise ABORT and wake every thread: no wait polls, so a sleeper learns of the abort from its wake-up. */
  private abortRun(): void {
    Atomics.store(this.i32, H_ABORT, 1);
    wakeAll(this.i32, this.arena.ptBase, this.arena.ptStride, this.cfg.threads);
  }

  private onCrash(tid: number, error: string, how: string): void {
    this.crashed = true;
    this.errors.push(`worker ${tid} (${this.roles[tid]}) ${how}: ${error.split('\n')[0]}`);
    this.crash ??= { tid, role: this.roles[tid], error, lastEvents: [] };
    Atomics.store(this.i32, H_STOP, 1);
    this.abortRun();
  }

  /** Start one long-running task per actor, handed to the pool in `order`. */
  private launch(order: readonly number[]): Promise<unknown> {
    return Promise.all(order.map((tid) => {
      const task: WorkerTask = { sab: this.arena.sab, tid, scenario: this.cfg.scenario, role: this.roles[tid], module: this.cfg.module };
      return this.pool.run(task).then(
        (r: WorkerResult) => {
          if (this.threadOf[tid] >= 0 && r.threadId !== this.threadOf[tid]) this.moved++;
          this.threadOf[tid] = r.threadId ?? -1;
          if (r.outcome === 'error') this.onCrash(tid, r.error ?? 'unknown error', 'crashed');
        },
        (e: unknown) => this.onCrash(tid, e instanceof Error ? e.message : String(e), 'died'),
      );
    }));
  }

  /** The start barrier: every actor attached and waiting for H_GO (30 s at most). */
  private async barrier(): Promise<void> {
    const i32 = this.i32;
    const barrierDeadline = Date.now() + 30_000;
    while (Atomics.load(i32, H_READY) < this.cfg.threads && !this.crashed) {
      if (Date.now() > barrierDeadline) {
        this.errors.push(`start barrier: only ${Atomics.load(i32, H_READY)}/${this.cfg.threads} workers arrived within 30s`);
        this.crashed = true;
        this.abortRun();
        break;
      }
      await sleep(2);
    }
    Atomics.store(i32, H_GO, 1);
    Atomics.notify(i32, H_GO);
  }

  /** Phase 2: start the pool, launch every actor and release them together. */
  async start(): Promise<void> {
    this.pool = this.hooks.pool ?? createPool(this.cfg.threads);
    if (this.controlled) ctlStart(this.arena);
    this.allDone = this.launch(this.tids);
    await this.barrier();
    this.t0 = performance.now();
    // Violation timestamps are on the arena clock; a controlled run's is virtual:
    // 0 during the setup, STEP_MS after the first step.
    this.goAt = this.controlled ? STEP_MS / 2 : this.arena.now();
    for (const k of ['lastProgressAt', 'lastLine', 'lastStat', 'lastCheck', 'lastStutter', 'lastShuffle', 'lastOpsChangeAt'] as const) this[k] = this.t0;
    this.nextStatAt = this.t0 + (this.hooks.firstStatAfterMs ?? this.cfg.statIntervalMs);
    this.logger?.info({ phase: 'run', threads: this.cfg.threads, roles: this.roles, notes: this.notes }, 'run');
  }

  private runningThreads(): number {
    return this.tids.filter((tid) => this.i32[this.arena.pt(tid) + T_STATE] !== STATE_DONE).length;
  }

  /** Hold every running actor at the pause barrier (at most 500 ms to get there). */
  private async pauseWorld(): Promise<boolean> {
    Atomics.store(this.i32, H_PAUSE, 1);
    const until = performance.now() + 500;
    while (performance.now() < until) {
      // A faulter asleep on userfaultfd returns RETRY and parks. A kick is a notify, which a sleeper
      // between publishing its word and Atomics.wait misses, so the barrier repeats it while it waits.
      kickSleepers(this.i32);
      if (Atomics.load(this.i32, H_PAUSED) >= this.runningThreads()) return true;
      await sleep(1);
    }
    return false;
  }

  resumeWorld(): void {
    Atomics.store(this.i32, H_PAUSE, 0);
    Atomics.notify(this.i32, H_PAUSE);
  }

  /** The quiescent checks over a parked world. */
  private quiescentCheck(): void {
    this.checks++;
    Atomics.add(this.i32, H_CHECK_SEQ, 1);
    const tq = this.arena.now();
    for (const p of this.scenario.quiescentCheck?.(this.arena) ?? []) {
      this.quiescentViolations.push({ kind: 'quiescent-invariant', title: `BUG: quiescent check: ${p}`, tid: -1, op: 0, obj: 0, args: {}, timeMs: tq });
    }
  }

  /** The scenario's stat lines (the final ones at the end of the report). */
  printStats(final: boolean): void {
    if (this.cfg.quiet) return;
    const rep = this.scenario.stats(this.arena, performance.now() - this.t0, final);
    const head = `${this.cfg.scenario}: ${final ? 'End of test' : `t=${formatDuration(performance.now() - this.t0)}`}`;
    this.closeLine();
    this.io.out(head);
    for (const l of rep.lines) this.io.out('  ' + l);
  }

  /** End a progress line that is still open on a terminal. */
  private closeLine(): void {
    // A run inside a soak erases its progress line: the soak's turn line follows.
    if (this.linesOpen) this.io.err(this.cfg.quiet ? '\r\x1b[K' : '\n');
    this.linesOpen = false;
  }

  /** A violation, a crash or a failed quiescent check stopped the run. */
  private stopped(): boolean {
    return Atomics.load(this.i32, H_STOP) !== 0 || this.crashed || (this.quiescentViolations.length > 0 && !this.cfg.keepGoing);
  }

  /** Once a second: the progress line on stderr and in the log. */
  private progressTick(now: number, elapsed: number, ops: number): void {
    if (now - this.lastLine < 1000) return;
    const rate = ((ops - this.lastOps) * 1000) / (now - this.lastProgressAt);
    this.lastOps = ops;
    this.lastProgressAt = now;
    this.lastLine = now;
    const nv = violationCount(this.arena);
    const line = `[${formatDuration(elapsed + (this.hooks.clockOffsetMs ?? 0)).padStart(6)}] ${this.cfg.scenario}: ops ${si(ops)} (${si(rate)}/s) violations ${nv}`;
    if (this.cfg.progress) {
      if (this.io.isTTY) {
        this.io.err(`\r\x1b[K${line}`);
        this.linesOpen = true;
      } else {
        this.io.err(line + '\n');
      }
    }
    this.logger?.info({ phase: 'progress', elapsedMs: Math.round(elapsed), ops, opsPerSec: Math.round(rate), violations: nv }, 'progress');
  }

  /**
   * rcutorture's stutter (every thread idles at once, then all resume) and
   * the quiescent checks, which run inside a stutter's hold when one is due
   * or stop the world on their own. Returns true if the run must stop.
   */
  private async stutterAndChecks(now: number): Promise<boolean> {
    const cfg = this.cfg;
    const checkDue = this.doChecks && Boolean(cfg.checkIntervalMs) && now - this.lastCheck >= (cfg.checkIntervalMs ?? 0);
    if (cfg.stutterMs && now - this.lastStutter >= cfg.stutterMs) {
      const parked = await this.pauseWorld();
      // Only a hold every thread reached is not a hang; a thread that could
      // not park keeps the watchdog's clock running.
      if (parked) {
        this.stutters++;
        if (checkDue) {
          this.quiescentCheck();
          this.lastCheck = performance.now();
        }
        const until = performance.now() + this.stutterHold;
        while (performance.now() < until && !this.hooks.signal?.aborted) await sleep(Math.min(TICK, until - performance.now()));
      } else if (checkDue) this.checksSkipped++;
      this.resumeWorld();
      this.lastStutter = performance.now();
      if (parked) this.lastOpsChangeAt = this.lastStutter;
      return this.stopped();
    }
    if (!checkDue) return false;
    // Stop the world at the pause barrier, check, resume.
    if (await this.pauseWorld()) this.quiescentCheck();
    else this.checksSkipped++;
    this.resumeWorld();
    this.lastCheck = performance.now();
    return this.stopped();
  }

  /**
   * The shuffle: stop every actor at a quiescent point (between operations),
   * then hand them to the pool in a new order: actors restart on other worker
   * threads with fresh thread-local state; the shared world carries on.
   * Returns true if the run must stop.
   */
  private async shuffle(now: number, elapsed: number): Promise<boolean> {
    const cfg = this.cfg;
    const i32 = this.i32;
    if (!cfg.shuffleMs || now - this.lastShuffle < cfg.shuffleMs || elapsed + TICK >= cfg.durationMs) return false;
    Atomics.store(i32, H_STOP, 1);
    const joined = await joinKicking(i32, this.allDone, Math.max(2000, cfg.watchdogMs));
    if (!joined) {
      this.hang = hangOf(this.arena, performance.now() - now);
      return true;
    }
    if (this.crashed || (!cfg.keepGoing && violationCount(this.arena) > 0)) return true;
    this.shuffles++;
    if (this.doChecks) this.quiescentCheck();
    if (this.quiescentViolations.length && !cfg.keepGoing) return true;
    Atomics.store(i32, H_READY, 0);
    Atomics.store(i32, H_GO, 0);
    Atomics.store(i32, H_STOP, 0);
    // Count every actor as running again before it is, so no pause barrier
    // passes before the restarted actors have parked too; and give them new
    // random streams (Task mixes the generation into its seed).
    for (const tid of this.tids) Atomics.store(i32, this.arena.pt(tid) + T_STATE, STATE_RUNNING);
    Atomics.add(i32, H_GENERATION, 1);
    this.allDone = this.launch(shuffled(this.tids, cfg.seed + this.shuffles));
    await this.barrier();
    this.lastShuffle = performance.now();
    this.lastOpsChangeAt = this.lastShuffle;
    this.logger?.info({ phase: 'shuffle', shuffles: this.shuffles, moved: this.moved }, 'shuffle');
    return false;
  }

  /** Every stat interval: a snapshot for the hook, or the scenario's stat lines; and the log. */
  private statTick(now: number, ops: number): void {
    if (now < this.nextStatAt) return;
    const tnow = performance.now();
    this.nextStatAt = tnow + this.cfg.statIntervalMs;
    const snap: StatSnapshot = {
      scenario: this.cfg.scenario, elapsedMs: tnow - this.t0, ops, opsPerSec: ((ops - this.lastStatOps) * 1000) / (tnow - this.lastStat),
      violations: violationCount(this.arena) + this.quiescentViolations.length, stats: this.scenario.stats(this.arena, tnow - this.t0, false),
      lockStat: lockStat(this.arena), memory: memorySample(), checks: this.checks, stutters: this.stutters, shuffles: this.shuffles,
    };
    this.lastStat = tnow;
    this.lastStatOps = ops;
    const { checks, stutters, shuffles } = this;
    this.logger?.info({ phase: 'stats', elapsedMs: Math.round(snap.elapsedMs), ops, opsPerSec: Math.round(snap.opsPerSec), violations: snap.violations, stats: snap.stats.data, memory: snap.memory, checks, stutters, shuffles }, 'stats');
    if (this.hooks.onStats) {
      if (this.linesOpen) this.io.err('\r\x1b[K'); // the hook prints whole lines
      this.linesOpen = false;
      this.hooks.onStats(snap);
    } else this.printStats(false);
  }

  /** Phase 3: tick until the duration ends, a violation or crash stops the run, a signal, or a hang. */
  async tickLoop(): Promise<void> {
    const cfg = this.cfg;
    let finished = false;
    void this.allDone.then(() => (finished = true));
    while (!this.crashed) {
      if (this.controlled) {
        // A controlled run ends when its actors do: wake as soon as they have.
        await Promise.race([sleep(TICK), this.allDone]);
        if (finished || this.runningThreads() === 0) break;
      } else await sleep(TICK);
      const now = performance.now();
      const elapsed = now - this.t0;
      const ops = totalOps(this.arena);
      if (ops !== this.watchOps) {
        this.watchOps = ops;
        this.lastOpsChangeAt = now;
      }
      if (this.firstViolationMs === null && violationCount(this.arena) > 0) this.firstViolationMs = elapsed;
      if (this.stopped()) break;
      if (this.hooks.signal?.aborted) {
        // The CLI aborts with the signal's name; a library caller may abort with anything.
        this.interrupted = typeof this.hooks.signal.reason === 'string' ? this.hooks.signal.reason : 'abort';
        break;
      }
      if (now - this.lastOpsChangeAt >= cfg.watchdogMs) {
        this.hang = hangOf(this.arena, now - this.lastOpsChangeAt);
        break;
      }
      this.progressTick(now, elapsed, ops);
      if (!this.controlled && await this.stutterAndChecks(now)) break;
      if (!this.controlled && await this.shuffle(now, elapsed)) break;
      this.statTick(now, ops);
      if (elapsed >= cfg.durationMs) break;
    }
    this.closeLine();
    this.resumeWorld();
  }

  /** Phase 4: stop and join; never hang: abort unwinds every wait, destroy kills the rest. */
  async join(): Promise<void> {
    const i32 = this.i32;
    Atomics.store(i32, H_STOP, 1);
    kickSleepers(i32);
    if (this.hang) {
      for (let tid = 0; tid < this.cfg.threads; tid++) Atomics.store(i32, this.arena.pt(tid) + T_KILL, 1);
      this.abortRun();
    }
    // After a violation the actors only finish their current operation; one
    // still blocked seconds later is blocked by the bug's consequence.
    const stoppedByViolation = violationCount(this.arena) > 0 || this.quiescentViolations.length > 0;
    const joinBudget = stoppedByViolation ? 3000 : Math.max(2000, this.cfg.watchdogMs);
    const joined = await joinKicking(i32, this.allDone, joinBudget);
    let lateJoin = false;
    if (!joined) {
      // Someone is stuck: build the graph before we unwind it.
      this.hang ??= hangOf(this.arena, joinBudget);
      this.abortRun();
      lateJoin = !(await Promise.race([this.allDone.then(() => true), deadline(2000)]));
    }
    if (lateJoin) this.errors.push('workers did not unwind after abort; terminated');
    if (this.controlled) ctlEnd(this.arena);
    if (!this.hooks.pool) await this.pool.destroy().catch(() => undefined);
    this.durationMs = performance.now() - this.t0;
  }
}
