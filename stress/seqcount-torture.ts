import type { BuiltinScenario } from './types.js';
import type { Task } from '../src/shm/task.js';
import type { Arena } from '../src/shm/arena.js';
import { Viol } from '../src/shm/kinds.js';
import { seqcountInit, writeSeqcountBegin, writeSeqcountEnd, readSeqcountBegin, readSeqcountRetry } from '../src/sync/seqcount.js';
import { spinLock, spinUnlock, spinLockInit } from '../src/sync/spinlock.js';
import { LC_TORTURE_SEQ } from '../src/sync/lockclass.js';
import { ctlPoint, P_READ } from '../src/sync/ctl.js';
import { running, spinDelay, tidsOf, sumCtr } from './common.js';

/*
 * seqcount-torture: a writer (serialised by a spinlock, as seqcount writers
 * must be) updates a RECORD_WORDS-word record so that every word holds the
 * same value; readers take snapshots with read_seqcount_begin/retry and must
 * never accept a snapshot whose words differ.
 */
const SEQ = 0;
const WLOCK = 16;
const RECORD = 32;
const RECORD_WORDS = 8;
const SCRATCH = 48;
const C_WRITES = 0;
const C_READS = 1;
const C_RETRIES = 2;
const C_TORN = 3;

export const seqcountTorture: BuiltinScenario = {
  name: 'seqcount-torture',
  description: 'a writer updates a multi-word record under a seqcount; readers must never accept a torn snapshot',
  exposes: ['seqcount-no-retry', 'seqcount-begin-odd'],
  words: () => 64,
  setup(arena: Arena) {
    seqcountInit(arena.i32, arena.scenBase + SEQ);
    spinLockInit(arena.i32, arena.scenBase + WLOCK);
  },
  roles: (threads) => Array.from({ length: threads }, (_, i) => (i === 0 || (threads > 3 && i === 2) ? 'writer' : 'reader')),
  run(t: Task, role: string) {
    const i32 = t.i32;
    const base = t.arena.scenBase;
    const seq = base + SEQ;
    if (role === 'writer') {
      let v = t.tid << 24;
      while (running(t)) {
        spinLock(t, base + WLOCK, LC_TORTURE_SEQ);
        writeSeqcountBegin(i32, seq);
        v++;
        for (let k = 0; k < RECORD_WORDS; k++) {
          Atomics.store(i32, base + RECORD + k, v);
          spinDelay(i32, base + SCRATCH, 8);
        }
        writeSeqcountEnd(i32, seq);
        spinUnlock(t, base + WLOCK, LC_TORTURE_SEQ);
        t.count(C_WRITES);
        spinDelay(i32, base + SCRATCH, 64 + (t.rand() & 255));
      }
      return;
    }
    while (running(t)) {
      let s: number;
      let first: number;
      let bad = -1;
      let badVal = 0;
      for (;;) {
        s = readSeqcountBegin(t, seq);
        first = Atomics.load(i32, base + RECORD);
        bad = -1;
        for (let k = 1; k < RECORD_WORDS; k++) {
          if (t.ctl !== 0) ctlPoint(t, P_READ, base + RECORD + k);
          const w = Atomics.load(i32, base + RECORD + k);
          if (w !== first && bad < 0) {
            bad = k;
            badVal = w;
          }
        }
        if (!readSeqcountRetry(t, seq, s)) break;
        t.count(C_RETRIES);
      }
      t.count(C_READS);
      if (bad >= 0) {
        t.count(C_TORN);
        t.violation(Viol.SeqTorn, seq, first, badVal, bad, s);
      }
    }
  },
  stats(arena: Arena) {
    const roles = this.roles(arena.nthreads);
    const writers = tidsOf(roles, 'writer');
    const readers = tidsOf(roles, 'reader');
    const writes = sumCtr(arena, writers, C_WRITES);
    const reads = sumCtr(arena, readers, C_READS);
    const retries = sumCtr(arena, readers, C_RETRIES);
    const torn = sumCtr(arena, readers, C_TORN);
    return {
      lines: [`Writes: ${writes}  Reads: ${reads}  Retries: ${retries}  Torn accepted: ${torn} ${torn ? '!!!' : ''}`.trimEnd()],
      failures: torn,
      warnings: 0,
      data: { writes, reads, retries, torn },
    };
  },
};
