/*
 * Actor plans: how a scenario's actor kinds scale with the thread count, in
 * one place. A scenario declares its kinds (in order) with a weight; the
 * planner turns that into the actors each thread runs, for any count from 1
 * to MAX_THREADS:
 *
 *  - threads >= kinds: thread i < kinds runs kind i; every further thread
 *    runs the kind with the fewest instances per unit of weight (ties go to
 *    the kind declared first), so weights 2:1 give F M F F M F F M ...;
 *  - threads < kinds: the kinds multiplex, and every kind runs on every
 *    thread (as every CPU runs every kind of task over time), so any two
 *    kinds meet both across threads and back to back on one thread (a free
 *    by one kind and a reuse by another inside a third's race window needs
 *    the second); each thread shares its time among its actors, a kind with
 *    weight w getting w shares. A kind that needs a peer (it blocks its
 *    thread) stays one instance, kind j of those on thread j mod threads.
 *
 * Every actor instance knows its kind, its index among that kind's
 * instances and how many there are, so it can own its share of the
 * scenario's state (pages, slots, areas) whatever the thread count. A kind
 * that needs a peer on another thread (a userfaultfd faulter blocks its
 * thread until a manager resolves the fault) is dropped when no other thread
 * exists, and the planner checks that the peer is never only on its own
 * thread.
 */

export const MAX_THREADS = 1024;

export interface KindDecl {
  readonly kind: string;
  /** Share of the extra threads (and steps per round when multiplexed); default 1. */
  readonly weight?: number;
  /** A kind that must run on another thread for this one to make progress. */
  readonly needsPeer?: string;
}

/** One actor instance on a thread. */
export interface ActorSlot {
  readonly kind: string;
  /** Index among the instances of this kind (thread order). */
  readonly index: number;
  /** Instances of this kind in the whole plan. */
  readonly count: number;
  /** Shares of its thread's time (1 when the thread runs only this actor). */
  readonly weight: number;
}

export interface ActorPlan {
  /** The actors of each thread. */
  readonly threads: readonly (readonly ActorSlot[])[];
  /** One role string per thread: its kinds joined by '+'. */
  readonly roles: readonly string[];
  /** Kinds that could not run at this thread count, with why. */
  readonly dropped: readonly { kind: string; why: string }[];
}

/** Plan the actors of `kinds` over `threads` threads (deterministic). */
export function planActors(kinds: readonly KindDecl[], threads: number): ActorPlan {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) throw new Error(`planActors: threads must be 1..${MAX_THREADS}, got ${threads}`);
  if (kinds.length === 0) throw new Error('planActors: no actor kinds');
  const dropped: { kind: string; why: string }[] = [];
  const live = kinds.filter((k) => {
    if (k.needsPeer && threads < 2) {
      dropped.push({ kind: k.kind, why: `needs a ${k.needsPeer} on another thread; there is only one thread` });
      return false;
    }
    return true;
  });
  const per: KindDecl[][] = Array.from({ length: threads }, () => []);
  if (threads >= live.length) {
    const n = new Map<string, number>(live.map((k) => [k.kind, 0]));
    for (let i = 0; i < threads; i++) {
      let pick = live[0];
      if (i < live.length) pick = live[i];
      else {
        let best = Infinity;
        for (const k of live) {
          const r = (n.get(k.kind) as number) / (k.weight ?? 1);
          if (r < best) {
            best = r;
            pick = k;
          }
        }
      }
      n.set(pick.kind, (n.get(pick.kind) as number) + 1);
      per[i].push(pick);
    }
  } else {
    // A kind that blocks its thread until a peer acts must not run on every
    // thread: all of them could block at once.
    let j = 0;
    for (const k of live) {
      if (k.needsPeer) per[j++ % threads].push(k);
      else for (const ks of per) ks.push(k);
    }
  }
  const count = new Map<string, number>();
  for (const ks of per) for (const k of ks) count.set(k.kind, (count.get(k.kind) ?? 0) + 1);
  const seen = new Map<string, number>();
  const out = per.map((ks) => ks.map((k) => {
    const index = seen.get(k.kind) ?? 0;
    seen.set(k.kind, index + 1);
    return { kind: k.kind, index, count: count.get(k.kind) as number, weight: threads >= live.length ? 1 : Math.max(1, k.weight ?? 1) };
  }));
  // A kind that needs a peer must find one on some other thread.
  for (const k of live) {
    if (!k.needsPeer) continue;
    out.forEach((slots, tid) => {
      if (!slots.some((s) => s.kind === k.kind)) return;
      const elsewhere = out.some((o, j) => j !== tid && o.some((s) => s.kind === k.needsPeer));
      if (!elsewhere) throw new Error(`planActors: ${k.kind} on thread ${tid} needs a ${k.needsPeer} on another thread (declare them next to each other)`);
    });
  }
  return { threads: out, roles: out.map((slots) => slots.map((s) => s.kind).join('+')), dropped };
}
