import type { LockStatRow } from './collect.js';
import type { Era } from '../mm/era.js';

/* The bench report's types: what `bench --json` writes and `bench --html` draws. */

export interface BenchOptions {
  workloads: string[];
  threads: number[];
  modes: ('per-vma' | 'mmap-lock')[];
  eras: Era[];
  durationMs: number;
  repeat: number;
  writerRate: number;
  /** Pages the fault-vs-munmap-large writer moves per op (absent in reports from before it existed). */
  writerHold?: number;
  seed: number;
  check: boolean;
  json?: string;
  html?: string;
}

export interface BenchPoint {
  workload: string;
  mode: 'per-vma' | 'mmap-lock' | 'n/a';
  era: number | null;
  threads: number;
  /** Operations per second: median over the repeats, and min/max. */
  opsPerSec: number;
  opsPerSecMin: number;
  opsPerSecMax: number;
  spreadPct: number;
  perThread: number;
  /** ops/s at N threads / (N x ops/s at 1 thread) for the same workload, mode and era. */
  efficiency: number | null;
  vma: { success: number; abort: number; retry: number; miss: number; mmapLockFaults: number; faults: number } | null;
  /** Faults not completed under the VMA lock / all faults. */
  fallbackRate: number | null;
  lockStat: LockStatRow[];
  violations: number;
  status: string;
}

export interface BenchReport {
  date: string;
  machine: { cpu: string; cores: number; node: string; platform: string };
  options: BenchOptions;
  checked: boolean;
  points: BenchPoint[];
  /** The signal that stopped bench early (the points are the finished ones), or null. */
  interrupted: string | null;
}
