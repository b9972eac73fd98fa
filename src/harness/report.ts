import type { Arena } from '../shm/arena.js';
import { formatArgs, REF_ARG, type DecodedViolation } from './collect.js';
import { lastWindow, type TraceEvent } from '../trace/decode.js';
import { objectNamer, type ObjectNamer } from '../trace/names.js';
import { heldLocks } from '../check/waitgraph.js';

/**
 * A race report that reads like a kernel splat: the title, the thread and
 * its role, every object and lock by name (mm#0->mmap_lock, vma#12), the
 * locks the thread held, the window it widened last, for a use-after-free
 * KASAN's "Allocated by / Freed by" blocks, the roles of all threads, and an
 * event tail chosen for the story (raceStory) — then the command that
 * reproduces the run.
 */
export interface ReportContext {
  /** The arena clock when the workers were released: earlier events are the scenario's setup. */
  goAt: number;
  /** Events that touched the violation's objects (from every thread). */
  story?: number;
  /** The last events of each thread (twice as many of the violating one). */
  perThread?: number;
}

/** One event of a report's tail, structured for the HTML swim lanes. */
export interface StoryEvent {
  timeMs: number;
  /** -1 for the scenario's setup (before the workers were released). */
  tid: number;
  op: string;
  obj: string;
  args: string;
  /** It touched an object of the violation. */
  mark: boolean;
  line: string;
}

export interface RaceStory {
  /** The violation's objects by name. */
  focus: string[];
  events: StoryEvent[];
  /** The violating thread (-1: a quiescent check) and time. */
  tid: number;
  timeMs: number;
}

const STORY = 24;
const PER_THREAD = 4;
/** Of an mm (touched by every fault) only the operations that change it are the story. */
const MM_STORY = /^(mmap_lock|mmap_unlock|mmap|munmap|mprotect|mremap|fork|exit_mmap|madvise)/;

function who(tid: number, roles: readonly string[]): string {
  return tid >= 0 ? `mmtorture/${tid} (${roles[tid] ?? '?'})` : 'the main thread (quiescent check)';
}

function eventArgs(e: TraceEvent, namer: ObjectNamer): string {
  return Object.entries(e.args).map(([k, v]) => (REF_ARG.test(k) && v > 0 && namer.objectOf(v) ? `${k}=${namer.name(v)}` : `${k}=${v}`)).join(' ');
}

/** One tail event: time, thread (or setup), the event, its object by name, its arguments (objects by name). */
export function formatStoryEvent(e: TraceEvent, namer: ObjectNamer, roles: readonly string[], goAt: number, mark: boolean): string {
  const args = eventArgs(e, namer);
  const t = e.timeMs < goAt ? 'setup' : `T${e.tid} ${(roles[e.tid] ?? '?').slice(0, 12)}`;
  return `  ${mark ? '*' : ' '} [${e.timeMs.toFixed(3).padStart(11)} ms] ${t.padEnd(16)} ${e.op} ${namer.name(e.obj)}${args ? ' ' + args : ''}`;
}

/** The objects of a violation: its object, every object its arguments name, the locks its thread holds (object bases). */
function focusOf(arena: Arena, v: DecodedViolation, namer: ObjectNamer): Set<number> {
  const keyOf = (addr: number) => namer.objectOf(addr)?.base ?? addr;
  const focus = new Set<number>();
  if (v.obj) focus.add(keyOf(v.obj));
  for (const [k, x] of Object.entries(v.args)) if (REF_ARG.test(k) && x > 0 && namer.objectOf(x)) focus.add(keyOf(x));
  if (v.tid >= 0) for (const h of heldLocks(arena, v.tid)) focus.add(keyOf(h.lock));
  return focus;
}

/**
 * The events that tell a violation's story: those that touched its objects,
 * from every thread, and the last few of each thread, in time order.
 */
export function raceStory(arena: Arena, v: DecodedViolation, events: TraceEvent[], roles: readonly string[], ctx: ReportContext, namer: ObjectNamer = objectNamer(arena)): RaceStory {
  const keyOf = (addr: number) => namer.objectOf(addr)?.base ?? addr;
  const focus = focusOf(arena, v, namer);
  const isMm = (b: number) => namer.objectOf(b)?.kind === 'mm';
  const hit = (addr: number, op: string) => focus.has(keyOf(addr)) && (!isMm(addr) || MM_STORY.test(op));
  const touches = (e: TraceEvent) => hit(e.obj, e.op) || Object.entries(e.args).some(([k, x]) => REF_ARG.test(k) && x > 0 && hit(x, e.op));
  const before = events.filter((e) => e.timeMs <= v.timeMs + 0.001);
  const picked = new Set<TraceEvent>(before.filter(touches).slice(-(ctx.story ?? STORY)));
  const perThread = new Map<number, TraceEvent[]>();
  for (const e of before) {
    if (e.timeMs < ctx.goAt) continue;
    const l = perThread.get(e.tid) ?? [];
    l.push(e);
    if (l.length > (ctx.perThread ?? PER_THREAD) * (e.tid === v.tid ? 2 : 1)) l.shift();
    perThread.set(e.tid, l);
  }
  for (const l of perThread.values()) for (const e of l) picked.add(e);
  return {
    focus: [...focus].map((b) => namer.name(b)), tid: v.timeMs < ctx.goAt ? -1 : v.tid, timeMs: v.timeMs,
    events: before.filter((e) => picked.has(e)).map((e) => {
      const mark = touches(e);
      return { timeMs: e.timeMs, tid: e.timeMs < ctx.goAt ? -1 : e.tid, op: e.op, obj: namer.name(e.obj), args: eventArgs(e, namer), mark, line: formatStoryEvent(e, namer, roles, ctx.goAt, mark) };
    }),
  };
}

/** The report's lines; `story` is raceStory's result when the caller already has it. */
export function raceReport(arena: Arena, v: DecodedViolation, events: TraceEvent[], roles: readonly string[], rerun: string | undefined, ctx: ReportContext = { goAt: 0 }, story?: RaceStory): string[] {
  const namer = objectNamer(arena);
  const named = (addr: number) => (namer.objectOf(addr) ? namer.name(addr) : null);
  const keyOf = (addr: number) => namer.objectOf(addr)?.base ?? addr;
  const lines: string[] = [];
  lines.push(v.title);
  const inSetup = v.tid >= 0 && v.timeMs < ctx.goAt;
  lines.push(`  thread: ${inSetup ? `the scenario's setup (main thread, as mmtorture/${v.tid}), before the workers started,` : who(v.tid, roles)} at ${v.timeMs.toFixed(3)} ms`);
  if (v.kind === 'bad-unlock-balance') {
    const cls = formatArgs({ ...v, args: { class: v.args.class ?? -1 } }).replace(/^class=/, '');
    const last = [...events].reverse().find((e) => e.tid === v.tid && e.timeMs <= v.timeMs + 0.001);
    lines.push(`  ${who(v.tid, roles)} is trying to release lock (${cls}) [${namer.name(v.obj)}] at: ${last ? last.op : '?'}`);
    lines.push('  but there are no more locks to release!');
  }
  const args = formatArgs(v, named);
  if (v.obj || args) lines.push(`  object ${v.obj ? namer.name(v.obj) : '-'}${v.obj && namer.objectOf(v.obj) ? ` (@${v.obj})` : ''}${args ? `: ${args}` : ''}`);
  if (v.tid >= 0) {
    const held = heldLocks(arena, v.tid);
    lines.push(`  ${held.length} lock${held.length === 1 ? '' : 's'} held by mmtorture/${v.tid} now:`);
    held.forEach((h, i) => lines.push(`    #${i}: ${h.cls} (${h.mode}) [${namer.name(h.lock)}]`));
    const w = lastWindow(arena, v.tid);
    if (w) lines.push(`  race window this thread widened last: ${w}`);
  }
  if (v.kind === 'kasan-use-after-free') {
    const obj = v.args.object ?? v.obj;
    const base = keyOf(obj);
    const freed = [...events].reverse().find((e) => e.timeMs <= v.timeMs + 0.001 && keyOf(e.obj) === base && e.op === 'vm_area_free');
    const tasks = namer.vmaTasks(obj);
    const d = namer.describe(obj);
    if (d) lines.push(`  the object: ${d}`);
    if (tasks) lines.push(`  Allocated by task ${who(tasks.alloc, roles)}${freed ? '' : ' (its last allocation)'}`);
    if (freed) lines.push(`  Freed by task ${who(freed.tid, roles)} at ${freed.timeMs.toFixed(3)} ms: ${freed.op} gen=${freed.args.gen ?? '?'}`);
    else lines.push('  Freed by: no free of this object left in the flight recorder');
  }
  lines.push(`  threads: ${roles.map((r, i) => `mmtorture/${i} ${r}`).join(', ')}`);
  story ??= raceStory(arena, v, events, roles, ctx, namer);
  if (story.events.length) {
    lines.push(`  events before the report (${story.events.filter((e) => e.mark).length} that touched ${story.focus.join(', ') || 'its objects'} from every thread, marked *, and the last of each thread):`);
    for (const e of story.events) lines.push(e.line);
  }
  if (rerun) lines.push(`  rerun: ${rerun}`);
  return lines;
}
