import { describe, it, expect } from 'vitest';
import { runScenario, type RunConfig } from '../src/harness/run.js';
import { BUGS } from '../src/bugs/catalogue.js';
import { SCENARIOS } from '../stress/index.js';

const silent = { out: () => undefined, err: () => undefined, isTTY: false };

function cfg(over: Partial<RunConfig>): RunConfig {
  return {
    scenario: 'rwsem-torture', threads: 2, durationMs: 2000, seed: 1234, bugs: [], watchdogMs: 10_000,
    statIntervalMs: 60_000, keepGoing: false, quiet: true, progress: false, ...over,
  };
}

// Scenarios that must run clean (the deadlock self-test is tested separately).
const clean = SCENARIOS.filter((s) => s.name !== 'deadlock-selftest');

describe('torture scenarios run clean', () => {
  for (const s of clean) {
    for (const threads of [2, 4]) {
      it(`${s.name} with ${threads} threads: zero violations in 2 s`, async () => {
        const r = await runScenario(cfg({ scenario: s.name, threads }), silent);
        expect(r.violations).toEqual([]);
        expect(r.violationCount).toBe(0);
        expect(r.stats.failures).toBe(0);
        expect(r.status).toBe('SUCCESS');
        expect(r.exitCode).toBe(0);
        // Every thread did work.
        for (const n of r.perThreadOps) expect(n).toBeGreaterThan(0);
      });
    }
  }
});

describe('every primitive bug switch is detected by its scenario', () => {
  for (const b of BUGS) {
    it(`${b.id} is caught by ${b.scenario} within 20 s`, async () => {
      const r = await runScenario(cfg({ scenario: b.scenario, threads: b.threads, durationMs: 20_000, bugs: [b.id] }), silent);
      expect(r.status).toBe('FAILURE');
      expect(r.exitCode).toBe(1);
      expect(r.violationCount).toBeGreaterThan(0);
      // The oracle that fired is one of those the catalogue names.
      expect(b.symptom).toContain(r.violations[0].kind);
      expect(r.firstViolationMs).not.toBeNull();
      expect(r.firstViolationMs!).toBeLessThan(20_000);
    });
  }
});

describe('watchdog', () => {
  it('turns a model deadlock into HANG / exit 3 with the wait-for cycle, within its bound', async () => {
    const started = Date.now();
    const r = await runScenario(cfg({ scenario: 'deadlock-selftest', threads: 2, durationMs: 60_000, watchdogMs: 1500 }), silent);
    expect(r.status).toBe('HANG');
    expect(r.exitCode).toBe(3);
    expect(r.hang).not.toBeNull();
    expect(r.hang!.graph.cycle).not.toBeNull();
    expect(new Set(r.hang!.graph.cycle)).toEqual(new Set([0, 1]));
    expect(r.hang!.report.join('\n')).toContain('circular locking dependency');
    // Bounded: watchdog period + join budget, far from the 60 s duration.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});

describe('mm scenarios run clean in every era, with and without per-VMA locking', () => {
  for (const era of [1, 2, 3] as const) {
    for (const perVmaLock of [true, false]) {
      it(`page-fault E${era} per-vma-lock ${perVmaLock ? 'on' : 'off'}: zero violations, quiescent checks pass`, async () => {
        const r = await runScenario(cfg({ scenario: 'page-fault', threads: 2, durationMs: 1500, model: { era, perVmaLock } }), silent);
        expect(r.violations).toEqual([]);
        expect(r.status).toBe('SUCCESS');
        const d = r.stats.data as Record<string, number>;
        expect(d.faults).toBeGreaterThan(0);
        if (perVmaLock) expect(d.vma_lock_success).toBeGreaterThan(0);
        else expect(d.vma_lock_success).toBe(0);
        expect(d.mmap_lock_faults + d.vma_lock_success).toBe(d.faults);
      });
    }
  }
});
