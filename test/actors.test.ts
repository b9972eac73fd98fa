import { describe, it, expect } from 'vitest';
import { planActors, MAX_THREADS } from '../stress/actors.js';
import { RACE_SCENARIOS, racePlan, ownedPages } from '../stress/mm-races.js';
import { SCENARIOS, WORKLOADS } from '../stress/index.js';
import { regionPages, SCRATCH_PAGES } from '../stress/page-fault.js';
import { modelDefaults } from '../src/mm/model.js';

const ALL_COUNTS = Array.from({ length: MAX_THREADS }, (_, i) => i + 1);

describe('planActors: how roles scale with threads', () => {
  it('gives every kind one thread first, then fills by weight (ties to the kind declared first)', () => {
    const p = planActors([{ kind: 'F', weight: 2 }, { kind: 'M' }], 8);
    expect(p.roles).toEqual(['F', 'M', 'F', 'F', 'M', 'F', 'F', 'M']);
    expect(p.threads[4]).toEqual([{ kind: 'M', index: 1, count: 3, weight: 1 }]);
    expect(p.threads[7][0]).toMatchObject({ kind: 'M', index: 2, count: 3 });
  });

  it('multiplexes every kind onto every thread when there are fewer threads than kinds, weight = share of the time', () => {
    const p = planActors([{ kind: 'A', weight: 3 }, { kind: 'B' }, { kind: 'C' }], 2);
    expect(p.roles).toEqual(['A+B+C', 'A+B+C']);
    expect(p.threads[0]).toEqual([{ kind: 'A', index: 0, count: 2, weight: 3 }, { kind: 'B', index: 0, count: 2, weight: 1 }, { kind: 'C', index: 0, count: 2, weight: 1 }]);
    expect(p.threads[1][0]).toEqual({ kind: 'A', index: 1, count: 2, weight: 3 });
    expect(planActors([{ kind: 'A' }, { kind: 'B' }], 1).roles).toEqual(['A+B']);
    // With a thread per kind, each thread runs one kind.
    expect(planActors([{ kind: 'F' }, { kind: 'A' }], 3).roles).toEqual(['F', 'A', 'F']);
  });

  it('drops a kind that needs a peer on another thread when there is one thread, and never leaves it alone', () => {
    const kinds = [{ kind: 'waiter', needsPeer: 'waker' }, { kind: 'waker' }, { kind: 'other' }];
    const one = planActors(kinds, 1);
    expect(one.roles).toEqual(['waker+other']);
    expect(one.dropped).toEqual([{ kind: 'waiter', why: 'needs a waker on another thread; there is only one thread' }]);
    // The waiter blocks its thread, so it stays one instance; the others run everywhere.
    expect(planActors(kinds, 2).roles).toEqual(['waiter+waker+other', 'waker+other']);
    // Two waiters on two threads could both block: one is never left without a waker elsewhere.
    expect(() => planActors([{ kind: 'waiter', needsPeer: 'waker' }, { kind: 'w2', needsPeer: 'waker' }, { kind: 'waker', needsPeer: 'waiter' }], 2)).toThrow(/needs a/);
  });

  it('rejects thread counts outside 1..1024', () => {
    expect(() => planActors([{ kind: 'A' }], 0)).toThrow(/1\.\.1024/);
    expect(() => planActors([{ kind: 'A' }], 1025)).toThrow(/1\.\.1024/);
  });
});

describe('every race scenario has a valid plan at every thread count 1..1024', () => {
  for (const s of RACE_SCENARIOS) {
    it(`${s.name}: one role per thread, instances numbered 0..count-1, every kind present, owned pages disjoint`, () => {
      const kinds = new Set(racePlan(s.name, 64).threads.flat().map((a) => a.kind));
      // Plain checks collected into one list (an expect() per actor would
      // make half a million assertion calls); the list must come out empty.
      const faults: string[] = [];
      for (const n of ALL_COUNTS) {
        const plan = racePlan(s.name, n);
        const at = `${s.name} at ${n} threads`;
        if (plan.roles.length !== n) faults.push(`${at}: ${plan.roles.length} roles`);
        if (s.roles(n).join() !== plan.roles.join()) faults.push(`${at}: roles() disagrees with the plan`);
        const byKind = new Map<string, { idx: number[]; counts: Set<number> }>();
        for (const a of plan.threads.flat()) {
          const e = byKind.get(a.kind) ?? { idx: [], counts: new Set<number>() };
          e.idx.push(a.index);
          e.counts.add(a.count);
          byKind.set(a.kind, e);
        }
        for (const [kind, e] of byKind) {
          if (!e.idx.every((x, i) => x === i)) faults.push(`${at}: ${kind} indices ${e.idx.slice(0, 8).join(',')}... not 0..count-1 in thread order`);
          if (e.counts.size !== 1 || !e.counts.has(e.idx.length)) faults.push(`${at}: ${kind} count disagrees with its ${e.idx.length} instances`);
        }
        // Every kind runs, except one that cannot run on a single thread.
        for (const k of kinds) if (!byKind.has(k) && !plan.dropped.some((d) => d.kind === k)) faults.push(`${at}: ${k} missing`);
        if (n > 1 && plan.dropped.length > 0) faults.push(`${at}: dropped ${plan.dropped.map((d) => d.kind).join(',')}`);
        // No page is owned by two actor instances.
        const owner = new Map<number, string>();
        for (const a of plan.threads.flat()) {
          for (const page of ownedPages(a.kind, a.index, a.count)) {
            const who = `${a.kind}#${a.index}`;
            if (owner.has(page)) faults.push(`${at}: page ${page} owned by ${owner.get(page)} and ${who}`);
            owner.set(page, who);
          }
        }
      }
      expect(faults.slice(0, 5)).toEqual([]);
    });
  }

  it('judging instances own pages; the first faulter, forker, pinner and first-toucher always judge', () => {
    for (const n of [1, 2, 16, 17, 1024]) {
      for (const kind of ['faulter', 'forker', 'pinner', 'first-toucher']) expect(ownedPages(kind, 0, n).length).toBeGreaterThan(0);
    }
    expect(ownedPages('faulter', 16, 17)).toEqual([]);
    expect(ownedPages('faulter', 0, 1)).toHaveLength(8 * 16);
  });
});

describe('every scenario and bench workload names a role for each thread at every count 1..1024', () => {
  for (const s of [...SCENARIOS, ...WORKLOADS]) {
    it(s.name, () => {
      const faults: string[] = [];
      for (const n of ALL_COUNTS) {
        const roles = s.roles(n);
        if (roles.length !== n || roles.some((r) => r.length === 0)) faults.push(`${n} threads: roles ${roles.slice(0, 8).join(',')}...`);
      }
      expect(faults.slice(0, 5)).toEqual([]);
    });
  }

  it('the default model fits one page-fault region and a first-touch area per thread, above them the writers\' scratch', () => {
    for (const n of ALL_COUNTS) {
      const m = modelDefaults(n);
      const pages = regionPages(m.mmPages, n);
      expect(pages).toBeGreaterThanOrEqual(1);
      expect(n * pages * 2).toBeLessThanOrEqual(m.mmPages - SCRATCH_PAGES);
      expect(n * 32).toBeLessThanOrEqual(m.mmPages);
      expect(m.maxVmasPerMm).toBeGreaterThanOrEqual(n + 1);
    }
  });
});
