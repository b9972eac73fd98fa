import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { makeArena } from './helpers/arena.js';
import {
  initRwsem, downRead, downReadTrylock, downReadKillable, downWrite, downWriteTrylock, downWriteKillable,
  upRead, upWrite, downgradeWrite, rwsemIsLocked, rwsemReaderCount, rwsemWriteOwner, rwsemWaiters,
  RWSEM_FLAG_WAITERS, RWSEM_WRITER_LOCKED, RWSEM_READER_BIAS,
} from '../src/sync/rwsem.js';
import { spinLock, spinUnlock, spinTrylock, spinOwner, spinIsLocked } from '../src/sync/spinlock.js';
import {
  seqcountInit, writeSeqcountBegin, writeSeqcountEnd, readSeqcountBegin, readSeqcountRetry, rawReadSeqcount,
  rawSeqcountTryBegin,
} from '../src/sync/seqcount.js';
import {
  rcuReadLock, rcuReadUnlock, synchronizeRcu, callRcu, rcuProcessCallbacks, rcuPending, rcuBarrier, rcuGpDone,
  rcuReadLockHeld, getStateSynchronizeRcu, pollStateSynchronizeRcu,
} from '../src/sync/rcu.js';
import {
  refcountSet, refcountIncNotZero, refcountIncNotZeroLimited, refcountDecAndTest, refcountRead, refcountAddNotZero,
} from '../src/sync/refcount.js';
import { initCompletion, complete, waitForCompletionKillable, completeAll } from '../src/sync/completion.js';
import { EINTR } from '../src/sync/sched.js';
import { rwsemMarkWake, WAKE_ANY } from '../src/sync/rwsem_waitlist.js';
import { rawSpinLock, rawSpinUnlock } from '../src/sync/spinlock.js';
import { AH_RWSEM_MARK_WAKE } from '../src/sync/lockdep.js';
import { spinLockNested } from '../src/sync/spinlock.js';
import { LC_PTL, SINGLE_DEPTH_NESTING } from '../src/sync/lockclass.js';
import { RW_WAIT_LOCK } from '../src/shm/layout.js';
import { LC_TORTURE_RWSEM, LC_TORTURE_SPIN, LOCK_CLASS_NAMES } from '../src/sync/lockclass.js';
import { heldLocks } from '../src/check/waitgraph.js';
import { decodeViolations, lockStat, violationCount } from '../src/harness/collect.js';
import { T_RCU_CTR, T_KILL, F_NO_CHECK } from '../src/shm/layout.js';
import { Arena } from '../src/shm/arena.js';
import { Task } from '../src/shm/task.js';

function helperThread(data: Record<string, unknown>): { worker: Worker; result: Promise<{ ret: number }> } {
  const worker = new Worker(new URL('./helpers/thread.mjs', import.meta.url), { workerData: data });
  const result = new Promise<{ ret: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  return { worker, result };
}

/** Block the test thread until cond() or the timeout; returns cond(). */
function waitFor(cond: () => boolean, ms = 5000): boolean {
  const deadline = Date.now() + ms;
  const nap = new Int32Array(new SharedArrayBuffer(4));
  while (!cond() && Date.now() < deadline) Atomics.wait(nap, 0, 0, 1);
  return cond();
}

describe('rwsem (kernel/locking/rwsem.c semantics)', () => {
  it('lockdep: a second lock of a held class needs a nesting annotation (spin_lock_nested); an unannotated one is recursive locking', () => {
    const { arena, tasks: [t0], base } = makeArena();
    spinLock(t0, base, LC_PTL);
    spinLockNested(t0, base + 16, LC_PTL, SINGLE_DEPTH_NESTING);
    spinUnlock(t0, base + 16, LC_PTL);
    spinUnlock(t0, base, LC_PTL);
    expect(violationCount(arena)).toBe(0);
    spinLock(t0, base, LC_PTL);
    spinLock(t0, base + 16, LC_PTL);
    expect(decodeViolations(arena).map((x) => x.kind)).toEqual(['recursive-locking']);
  });

  it('rwsem_mark_wake() asserts the wait_lock is held: lock-not-held without it, nothing with it', () => {
    const { arena, tasks: [t0], base } = makeArena();
    const sem = base;
    initRwsem(arena.i32, sem, LC_TORTURE_RWSEM);
    rawSpinLock(t0, sem + RW_WAIT_LOCK);
    rwsemMarkWake(t0, sem, WAKE_ANY);
    rawSpinUnlock(t0, sem + RW_WAIT_LOCK);
    expect(violationCount(arena)).toBe(0);
    rwsemMarkWake(t0, sem, WAKE_ANY);
    const v = decodeViolations(arena);
    expect(v.map((x) => x.kind)).toEqual(['lock-not-held']);
    expect(v[0].args.caller).toBe(AH_RWSEM_MARK_WAKE);
  });

  it('read and write fast paths, trylocks and rwsem_is_locked', () => {
    const { arena, tasks: [t0, t1], base } = makeArena();
    const sem = base;
    initRwsem(arena.i32, sem, LC_TORTURE_RWSEM);
    expect(rwsemIsLocked(arena.i32, sem)).toBe(false);
    downRead(t0, sem);
    expect(downReadTrylock(t1, sem)).toBe(true);
    expect(rwsemReaderCount(arena.i32, sem)).toBe(2);
    expect(downWriteTrylock(t1, sem)).toBe(false);
    upRead(t1, sem);
    upRead(t0, sem);
    expect(arena.i32[sem]).toBe(0);
    downWrite(t0, sem);
    expect(rwsemWriteOwner(arena.i32, sem)).toBe(0);
    expect(downReadTrylock(t1, sem)).toBe(false);
    expect(downWriteTrylock(t1, sem)).toBe(false);
    expect(arena.i32[sem]).toBe(RWSEM_WRITER_LOCKED);
    upWrite(t0, sem);
    expect(rwsemIsLocked(arena.i32, sem)).toBe(false);
    expect(violationCount(arena)).toBe(0);
  });

  it('downgrade_write turns the writer into one reader', () => {
    const { arena, tasks: [t0, t1], base } = makeArena();
    initRwsem(arena.i32, base, LC_TORTURE_RWSEM);
    downWrite(t0, base);
    downgradeWrite(t0, base);
    expect(arena.i32[base]).toBe(RWSEM_READER_BIAS);
    expect(heldLocks(arena, 0)).toEqual([{ lock: base, cls: LOCK_CLASS_NAMES[LC_TORTURE_RWSEM], mode: 'read' }]);
    expect(downReadTrylock(t1, base)).toBe(true);
    upRead(t1, base);
    upRead(t0, base);
    expect(arena.i32[base]).toBe(0);
    expect(violationCount(arena)).toBe(0);
  });

  it('an unlock without a matching lock is a bad unlock balance (lockdep)', () => {
    const { arena, tasks: [t0, t1], base } = makeArena();
    initRwsem(arena.i32, base, LC_TORTURE_RWSEM);
    downRead(t0, base);
    upRead(t1, base); // t1 never took it: B1's shape
    const v = decodeViolations(arena);
    expect(v.map((x) => x.kind)).toEqual(['bad-unlock-balance']);
    expect(v[0].tid).toBe(1);
  });

  it('lock_stat counts acquisitions and failed trylocks per class', () => {
    const { arena, tasks: [t0, t1], base } = makeArena();
    initRwsem(arena.i32, base, LC_TORTURE_RWSEM);
    for (let i = 0; i < 5; i++) {
      downWrite(t0, base);
      expect(downReadTrylock(t1, base)).toBe(false);
      upWrite(t0, base);
    }
    const row = lockStat(arena).find((r) => r.class === LOCK_CLASS_NAMES[LC_TORTURE_RWSEM])!;
    expect(row.acquisitions).toBe(5);
    expect(row.failed).toBe(5);
  });

  it('a release below the top of the held-lock stack closes the gap; the rest stay held in order', () => {
    const { arena, tasks: [t0], base } = makeArena();
    const [a, b, c] = [base, base + 16, base + 32]; // three classes: same-class nesting would need annotations
    initRwsem(arena.i32, a, LC_TORTURE_RWSEM);
    downRead(t0, a);
    spinLock(t0, b, LC_TORTURE_SPIN);
    spinLock(t0, c, LC_PTL);
    spinUnlock(t0, b, LC_TORTURE_SPIN); // not LIFO
    expect(heldLocks(arena, 0).map((h) => [h.lock, h.mode])).toEqual([[a, 'read'], [c, 'write']]);
    upRead(t0, a);
    expect(heldLocks(arena, 0).map((h) => h.lock)).toEqual([c]);
    spinUnlock(t0, c, LC_PTL);
    expect(heldLocks(arena, 0)).toEqual([]);
    expect(violationCount(arena)).toBe(0);
  });

  it('--no-check keeps the held-lock stack (the wait-for graph reads it) but not lock_stat\'s acquisitions', () => {
    const arena = Arena.create({ threads: 1, scenarioWords: 256, flags: F_NO_CHECK });
    const t0 = new Task(arena, 0);
    const base = arena.scenBase;
    initRwsem(arena.i32, base, LC_TORTURE_RWSEM);
    downRead(t0, base);
    expect(heldLocks(arena, 0)).toEqual([{ lock: base, cls: LOCK_CLASS_NAMES[LC_TORTURE_RWSEM], mode: 'read' }]);
    upRead(t0, base);
    expect(heldLocks(arena, 0)).toEqual([]);
    const row = lockStat(arena).find((r) => r.class === LOCK_CLASS_NAMES[LC_TORTURE_RWSEM]);
    expect(row?.acquisitions ?? 0).toBe(0);
  });

  it('writer preference: a recursive down_read behind a queued writer deadlocks (caught by the bounded wait)', async () => {
    const { arena, tasks: [t0], base } = makeArena(2);
    initRwsem(arena.i32, base, LC_TORTURE_RWSEM);
    downRead(t0, base);
    const w = helperThread({ sab: arena.sab, tid: 1, op: 'downWriteKillable', sem: base, timeoutMs: 10_000 });
    expect(waitFor(() => rwsemWaiters(arena, base).includes(1))).toBe(true);
    expect(arena.i32[base] & RWSEM_FLAG_WAITERS).toBe(RWSEM_FLAG_WAITERS);
    // The second read queues behind the writer, which waits for our first read: -EINTR after the timeout.
    expect(downReadKillable(t0, base, 200)).toBe(EINTR);
    expect(downReadTrylock(t0, base)).toBe(false);
    upRead(t0, base); // the writer now gets the lock
    expect((await w.result).ret).toBe(0);
    await w.worker.terminate();
    expect(waitFor(() => arena.i32[base] === 0)).toBe(true);
    // Lockdep saw the recursive read before the thread blocked.
    expect(decodeViolations(arena).map((v) => v.kind)).toEqual(['recursive-locking']);
  });

  it('with the rwsem-no-writer-preference bug the recursive read slips past the queued writer', async () => {
    const { arena, tasks: [t0], base } = makeArena(2, ['rwsem-no-writer-preference']);
    initRwsem(arena.i32, base, LC_TORTURE_RWSEM);
    downRead(t0, base);
    const w = helperThread({ sab: arena.sab, tid: 1, op: 'downWriteKillable', sem: base, timeoutMs: 10_000 });
    expect(waitFor(() => rwsemWaiters(arena, base).includes(1))).toBe(true);
    expect(downReadKillable(t0, base, 200)).toBe(0);
    upRead(t0, base);
    upRead(t0, base);
    expect((await w.result).ret).toBe(0);
    await w.worker.terminate();
  });

  it('a killed waiter leaves the queue and the lock consistent', async () => {
    const { arena, tasks: [t0], base } = makeArena(2);
    initRwsem(arena.i32, base, LC_TORTURE_RWSEM);
    downWrite(t0, base);
    const w = helperThread({ sab: arena.sab, tid: 1, op: 'downReadKillable', sem: base, timeoutMs: 100 });
    expect((await w.result).ret).toBe(EINTR);
    await w.worker.terminate();
    expect(rwsemWaiters(arena, base)).toEqual([]);
    expect(arena.i32[base]).toBe(RWSEM_WRITER_LOCKED); // no WAITERS left behind
    upWrite(t0, base);
    expect(arena.i32[base]).toBe(0);
  });

  it('phase-fair wake-up: releasing a writer grants the queued reader', async () => {
    const { arena, tasks: [t0], base } = makeArena(2);
    initRwsem(arena.i32, base, LC_TORTURE_RWSEM);
    downWrite(t0, base);
    const r = helperThread({ sab: arena.sab, tid: 1, op: 'downReadKillable', sem: base, timeoutMs: 10_000, holdMs: 50 });
    expect(waitFor(() => rwsemWaiters(arena, base).includes(1))).toBe(true);
    upWrite(t0, base);
    expect(waitFor(() => rwsemReaderCount(arena.i32, base) === 1)).toBe(true);
    expect(downWriteTrylock(t0, base)).toBe(false);
    expect((await r.result).ret).toBe(0);
    await r.worker.terminate();
    expect(arena.i32[base]).toBe(0);
  });

  it('killable waits honour a fatal signal (T_KILL)', () => {
    const { arena, tasks: [t0, t1], base } = makeArena(2);
    initRwsem(arena.i32, base, LC_TORTURE_RWSEM);
    downWrite(t0, base);
    arena.i32[arena.pt(1) + T_KILL] = 1;
    expect(downWriteKillable(t1, base)).toBe(EINTR);
    expect(downReadKillable(t1, base)).toBe(EINTR);
    upWrite(t0, base);
    expect(arena.i32[base]).toBe(0);
  });
});

describe('spinlock', () => {
  it('records its owner and reports an unlock by a non-owner', () => {
    const { arena, tasks: [t0, t1], base } = makeArena();
    spinLock(t0, base, LC_TORTURE_SPIN);
    expect(spinOwner(arena.i32, base)).toBe(0);
    expect(spinTrylock(t1, base, LC_TORTURE_SPIN)).toBe(false);
    spinUnlock(t0, base, LC_TORTURE_SPIN);
    expect(spinIsLocked(arena.i32, base)).toBe(false);
    expect(violationCount(arena)).toBe(0);
    spinLock(t0, base, LC_TORTURE_SPIN);
    spinUnlock(t1, base, LC_TORTURE_SPIN);
    expect(decodeViolations(arena).map((v) => v.kind)).toEqual(['bad-unlock-balance', 'spin-bad-unlock']);
  });
});

describe('seqcount', () => {
  it('begin returns an even sequence; retry sees a write', () => {
    const { arena, tasks: [t0], base } = makeArena();
    seqcountInit(arena.i32, base);
    const s = readSeqcountBegin(t0, base);
    expect(s % 2).toBe(0);
    expect(readSeqcountRetry(t0, base, s)).toBe(false);
    writeSeqcountBegin(arena.i32, base);
    expect(rawReadSeqcount(arena.i32, base) % 2).toBe(1);
    expect(rawSeqcountTryBegin(arena.i32, base)).toBe(-1);
    writeSeqcountEnd(arena.i32, base);
    expect(readSeqcountRetry(t0, base, s)).toBe(true);
  });

  it('the seqcount-no-retry bug makes retry always succeed', () => {
    const { arena, tasks: [t0], base } = makeArena(1, ['seqcount-no-retry']);
    seqcountInit(arena.i32, base);
    const s = readSeqcountBegin(t0, base);
    writeSeqcountBegin(arena.i32, base);
    writeSeqcountEnd(arena.i32, base);
    expect(readSeqcountRetry(t0, base, s)).toBe(false);
  });
});

describe('RCU', () => {
  it('nesting: only the outermost unlock makes the thread quiescent', () => {
    const { arena, tasks: [t0] } = makeArena();
    rcuReadLock(t0);
    rcuReadLock(t0);
    rcuReadUnlock(t0);
    expect(rcuReadLockHeld(t0)).toBe(true);
    expect(arena.i32[arena.pt(0) + T_RCU_CTR]).not.toBe(0);
    rcuReadUnlock(t0);
    expect(arena.i32[arena.pt(0) + T_RCU_CTR]).toBe(0);
  });

  it('synchronize_rcu completes a grace period; call_rcu callbacks run only after one', () => {
    const { arena, tasks: [t0] } = makeArena();
    const ran: number[] = [];
    const fn = (_t: unknown, kind: number, a0: number) => ran.push(kind * 100 + a0);
    const cookie = getStateSynchronizeRcu(arena.i32);
    callRcu(t0, 1, 7, 0, fn);
    expect(rcuProcessCallbacks(t0, fn)).toBe(0);
    expect(pollStateSynchronizeRcu(arena.i32, cookie)).toBe(false);
    const before = rcuGpDone(arena.i32);
    synchronizeRcu(t0);
    expect(rcuGpDone(arena.i32)).toBeGreaterThan(before);
    expect(pollStateSynchronizeRcu(arena.i32, cookie)).toBe(true);
    expect(rcuProcessCallbacks(t0, fn)).toBe(1);
    expect(ran).toEqual([107]);
    callRcu(t0, 2, 3, 0, fn);
    rcuBarrier(t0, fn);
    expect(rcuPending(t0)).toBe(0);
    expect(ran).toEqual([107, 203]);
  });

  it('synchronize_rcu inside a read-side section is reported, not a self-deadlock', () => {
    const { arena, tasks: [t0] } = makeArena();
    rcuReadLock(t0);
    synchronizeRcu(t0);
    rcuReadUnlock(t0);
    expect(decodeViolations(arena).map((v) => v.kind)).toEqual(['rcu-sync-in-reader']);
  });

  it('a grace period waits for a reader that entered before it', async () => {
    const { arena, tasks: [t0, t1] } = makeArena();
    rcuReadLock(t1); // t1 is a reader "on another CPU"
    const gp = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import(workerData.url + '/dist/src/shm/arena.js').then(async ({ Arena }) => {
         const { Task } = await import(workerData.url + '/dist/src/shm/task.js');
         const { synchronizeRcu } = await import(workerData.url + '/dist/src/sync/rcu.js');
         synchronizeRcu(new Task(Arena.attach(workerData.sab), 0));
         parentPort.postMessage('done');
       });`,
      { eval: true, workerData: { sab: arena.sab, url: new URL('..', import.meta.url).href.replace(/\/$/, '') } },
    );
    let done = false;
    const finished = new Promise<void>((r) => gp.once('message', () => { done = true; r(); }));
    await new Promise((r) => setTimeout(r, 150));
    expect(done).toBe(false); // still waiting for t1
    rcuReadUnlock(t1);
    await finished;
    await gp.terminate();
    void t0;
  });
});

describe('refcount', () => {
  it('inc_not_zero refuses a dead object; the limited form refuses over the limit', () => {
    const { arena, tasks: [t0], base } = makeArena();
    refcountSet(arena.i32, base, 0);
    expect(refcountIncNotZero(t0, base)).toBe(false);
    refcountSet(arena.i32, base, 1);
    expect(refcountIncNotZero(t0, base)).toBe(true);
    expect(refcountRead(arena.i32, base)).toBe(2);
    expect(refcountIncNotZeroLimited(t0, base, 2, 1)).toBe(-1 - 2); // a wrong guess of the count: the failed CAS gives the real one
    expect(refcountIncNotZeroLimited(t0, base, 3, 2)).toBe(2);
    expect(refcountAddNotZero(t0, base, 10)).toBe(3);
    refcountSet(arena.i32, base, 1);
    expect(refcountDecAndTest(t0, base, 0)).toBe(true);
    expect(refcountIncNotZeroLimited(t0, base, 100, 1)).toBe(-1);
    expect(refcountRead(arena.i32, base)).toBe(0);
    expect(refcountDecAndTest(t0, base, 0)).toBe(false); // underflow
    expect(decodeViolations(arena).map((v) => v.kind)).toEqual(['refcount-underflow']);
  });

  it('the refcount-inc-on-zero bug takes a reference on a dead object', () => {
    const { arena, tasks: [t0], base } = makeArena(1, ['refcount-inc-on-zero']);
    refcountSet(arena.i32, base, 0);
    expect(refcountIncNotZero(t0, base)).toBe(true);
  });
});

describe('completion', () => {
  it('complete releases one waiter; a wait times out with -EINTR', () => {
    const { arena, tasks: [t0], base } = makeArena();
    initCompletion(arena.i32, base);
    expect(waitForCompletionKillable(t0, base, 20)).toBe(EINTR);
    complete(arena.i32, base);
    expect(waitForCompletionKillable(t0, base, 20)).toBe(0);
    expect(waitForCompletionKillable(t0, base, 20)).toBe(EINTR);
    completeAll(arena.i32, base);
    expect(waitForCompletionKillable(t0, base, 20)).toBe(0);
    expect(waitForCompletionKillable(t0, base, 20)).toBe(0);
  });
});

describe('lockdep validator', () => {
  it('reports a circular class dependency before any deadlock happens', () => {
    const { arena, tasks: [t0], base } = makeArena();
    const a = base;
    const b = base + 16;
    initRwsem(arena.i32, a, LC_TORTURE_RWSEM);
    downWrite(t0, a);
    spinLock(t0, b, LC_TORTURE_SPIN); // torture_rwsem -> torture_spinlock
    spinUnlock(t0, b, LC_TORTURE_SPIN);
    upWrite(t0, a);
    expect(violationCount(arena)).toBe(0);
    spinLock(t0, b, LC_TORTURE_SPIN);
    downWrite(t0, a); // torture_spinlock -> torture_rwsem closes the cycle
    upWrite(t0, a);
    spinUnlock(t0, b, LC_TORTURE_SPIN);
    expect(decodeViolations(arena).map((v) => v.kind)).toEqual(['circular-dependency']);
  });

  it('reports blocking on mmap_lock while holding a VMA read lock, and might_fault under a lock', async () => {
    const { LC_MMAP_LOCK, LC_VMA_LOCK } = await import('../src/sync/lockclass.js');
    const { mightFault } = await import('../src/sync/lockdep.js');
    const { arena, tasks: [t0], base } = makeArena();
    const vmaLock = base;
    const mmapLock = base + 16;
    initRwsem(arena.i32, vmaLock, LC_VMA_LOCK);
    initRwsem(arena.i32, mmapLock, LC_MMAP_LOCK);
    expect(mightFault(t0)).toBe(false);
    expect(downReadTrylock(t0, vmaLock)).toBe(true);
    expect(downReadTrylock(t0, mmapLock)).toBe(true); // a trylock is allowed
    upRead(t0, mmapLock);
    expect(violationCount(arena)).toBe(0);
    downRead(t0, mmapLock); // a blocking acquisition is not
    expect(decodeViolations(arena).map((v) => v.kind)).toEqual(['mmap-lock-under-vma-lock']);
    upRead(t0, mmapLock);
    upRead(t0, vmaLock);
  });
});
