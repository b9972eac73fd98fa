/**
 * Arena layout: every shared struct is declared here once, as Int32 word
 * offsets from a record's base index (DESIGN.md rule 2). A record is an index
 * into the arena's Int32Array; a field is `base + OFFSET`.
 *
 * Float64 fields (times, lock_stat sums) live in the same buffer; their
 * offsets are given in Int32 words and must be even so that
 * `f64[(base + OFF) >> 1]` addresses them.
 */

export const ARENA_MAGIC = 0x4d4d5452; // "MMTR"
export const LAYOUT_VERSION = 3;

/** Words per cache line (64 bytes). */
export const LINE = 16;
/** Per-thread regions are padded to multiples of this many words (128 bytes). */
export const PT_ALIGN = 32;

// ---------------------------------------------------------------------------
// Header (word offsets from 0). Words written often by many threads sit on
// their own cache lines (DESIGN.md rule 9).
// ---------------------------------------------------------------------------
export const H_MAGIC = 0;
export const H_VERSION = 1;
export const H_NTHREADS = 2;
export const H_TOTAL_WORDS = 3;
export const H_PT_BASE = 4;
export const H_PT_STRIDE = 5;
export const H_VIOL_BASE = 6;
export const H_VIOL_CAP = 7;
export const H_SCEN_BASE = 8;
export const H_SCEN_WORDS = 9;
/** Bug switches: 64 bits in two words, read once per operation. */
export const H_BUGS0 = 10;
export const H_BUGS1 = 11;
export const H_SEED = 12;
/** Run options (see F_* bits). */
export const H_FLAGS = 13;
/** Era of the per-VMA lock (0 = E1, 1 = E2, 2 = E3). */
export const H_ERA = 14;
/** Watchdog / hang-check: nothing in header, see per-thread PROGRESS. */
export const H_JITTER = 15;
/** Base of the lockdep class-dependency matrix (MAX_LOCK_CLASSES^2 words). */
export const H_LOCKDEP_BASE = 18;
export const H_CHECK_SEQ = 19; // quiescent checks done (for reports)
/** Epoch (f64, ms since performance.timeOrigin of the creating thread + timeOrigin). */
export const H_EPOCH_F64 = 16; // words 16,17
/** Scenario parameters: 16 words the scenario may interpret. */
export const H_PARAMS = 20;
export const H_NPARAMS = 12;

// Control words, each on its own line.
export const H_STOP = 32; // set to 1: actors finish their current op and return
export const H_DEBUG_LOCKS_OFF = 33; // lockdep reported once and turned itself off
export const H_TRACE_OFF = 34; // traceoff_on_warning: the first violation froze the flight recorder
export const H_GENERATION = 35; // actor incarnations: a shuffle restarts every actor with a new random stream
/** Base of the controlled scheduler's region (0: the run is not controlled; src/sync/ctl.ts). */
export const H_CTL_BASE = 36;
export const H_ABORT = 48; // set to 1: every wait unwinds (RunAborted)
export const H_READY = 64; // barrier: workers increment
export const H_GO = 80; // barrier: main sets 1 and notifies
export const H_VIOL_COUNT = 96; // violations recorded (may exceed capacity)
export const H_PAUSE = 112; // stutter: 1 = actors park between ops
export const H_PAUSED = 128; // how many actors are parked at the pause barrier
// RCU global state.
export const H_RCU_GP_SEQ = 144; // last started grace period (odd values)
export const H_RCU_GP_DONE = 145; // last completed grace period
export const H_RCU_GP_LOCK = 160; // spinlock serialising synchronizeRcu
export const HEADER_WORDS = 192;

// Run flag bits (H_FLAGS).
export const F_KEEP_GOING = 1 << 0;
export const F_NO_CHECK = 1 << 1;
/** Precondition assertions off (--no-direct-asserts): only consequence oracles judge. */
export const F_NO_DIRECT = 1 << 2;
export const F_TRACE = 1 << 4;

// ---------------------------------------------------------------------------
// Per-thread region. Only the owner writes most fields; the main thread reads
// them racily for statistics (plain reads of monotonic counters).
// ---------------------------------------------------------------------------
export const T_TID = 0;
/** RCU reader state: 0 = quiescent, else the grace-period seq sampled at entry. */
export const T_RCU_CTR = 1;
/** RCU nesting depth (owner only). */
export const T_RCU_NEST = 2;
/** Futex word the thread parks on; wakers add 1 and notify. */
export const T_WAKE_SEQ = 3;
/** rwsem waiter: 1 while queued, 0 once a waker granted the lock (`waiter.task`). */
export const T_WAITER_TASK = 4;
/** rwsem waiter: next thread in the FIFO (tid + 1, 0 = none). */
export const T_WAITER_NEXT = 5;
/** rwsem waiter: 0 = read, 1 = write. */
export const T_WAITER_TYPE = 6;
/** rwsem waiter: handoff_set. */
export const T_WAITER_HANDOFF = 7;
/** What this thread waits for: lock word index + 1 (0 = nothing). */
export const T_WAIT_LOCK = 8;
/** What this thread waits for: class | mode << 8 | kind << 12. */
export const T_WAIT_INFO = 9;
/** Fatal signal pending (killable waits return -EINTR). */
export const T_KILL = 10;
/** Progress counter: bumped once per completed operation. */
export const T_PROGRESS = 11;
/** The thread's state: one of STATE_*. */
export const T_STATE = 12;
/** T_STATE values: not started, running an actor, parked at the pause barrier, the actor returned. */
export const STATE_IDLE = 0;
export const STATE_RUNNING = 1;
export const STATE_PARKED = 2;
export const STATE_DONE = 3;
/** Held-lock stack depth (lockdep). */
export const T_HELD_DEPTH = 13;
/** Pagefault-disable depth (pagefault_disable()). */
export const T_PF_DISABLE = 14;
/** Current operation id (for reports). */
export const T_CUR_OP = 15;
/** Held-lock stack: HELD_MAX entries of HELD_W words: lock index, class | mode << 8, acquire time (f64, sampled; 0 = not sampled). */
export const T_HELD = 16;
export const HELD_MAX = 24;
export const HELD_W = 4;
export const HE_LOCK = 0;
export const HE_INFO = 1;
export const HE_T_F64 = 2;
export const T_HELD_END = T_HELD + HELD_MAX * HELD_W;
/** Scenario/actor counters (ops, failures, ...): plain Int32 written by the owner only. */
export const T_CTR = T_HELD_END;
export const T_NCTR = 64;
/** call_rcu callback ring: head, tail, then CB_CAP entries of CB_WORDS. */
export const T_CB_HEAD = T_CTR + T_NCTR;
export const T_CB_TAIL = T_CB_HEAD + 1;
export const T_CB_RING = T_CB_HEAD + 4;
export const CB_CAP = 1024; // power of two
export const CB_WORDS = 4; // kind, arg0, arg1, target gp
export const T_CB_END = T_CB_RING + CB_CAP * CB_WORDS;
/** Float64 fields (word offsets, even). */
export const T_F_WAIT_SINCE = T_CB_END; // when the current wait began (ms since epoch)
export const T_F_WAITER_TIMEOUT = T_F_WAIT_SINCE + 2; // rwsem waiter handoff deadline
/** Actor float counters (e.g. max writer wait) */
export const T_F_CTR = T_F_WAITER_TIMEOUT + 2;
export const T_NFCTR = 16;
/** lock_stat: per lock class LS_F64S float64s. */
export const T_F_LOCKSTAT = T_F_CTR + T_NFCTR * 2;
export const LS_ACQ = 0;
export const LS_CONTENDED = 1;
export const LS_WAIT_SUM = 2;
export const LS_WAIT_MAX = 3;
export const LS_HOLD_SUM = 4;
export const LS_HOLD_N = 5;
export const LS_HOLD_MAX = 6;
export const LS_FAILED = 7; // trylock failures / killable aborts
export const LS_F64S = 8;
export const MAX_LOCK_CLASSES = 24;
export const T_F_LOCKSTAT_END = T_F_LOCKSTAT + MAX_LOCK_CLASSES * LS_F64S * 2;
/**
 * Wait-time histograms per lock class (HDR-style, log2 buckets): bucket 0
 * counts waits under 0.25 us, bucket b >= 1 waits in [2^(b-1), 2^b) / 4 us.
 */
export const WH_BUCKETS = 24;
export const T_WAIT_HIST = T_F_LOCKSTAT_END;
export const T_WAIT_HIST_END = T_WAIT_HIST + MAX_LOCK_CLASSES * WH_BUCKETS;
/**
 * Per-thread object magazine (the per-CPU slab cache of mm/slub.c) for the
 * folio slab: a count, then MAG_CAP object bases.
 */
export const T_MAG = T_WAIT_HIST_END;
export const MAG_CAP = 32;
export const T_MAG_END = T_MAG + 16 + MAG_CAP;
/** Flight recorder ring: head then TR_CAP events of TR_WORDS. */
export const T_TR_HEAD = T_MAG_END;
export const T_TR_RING = T_TR_HEAD + 8;
export const TR_CAP = 256; // power of two
export const TR_WORDS = 8; // f64 time (2 words), op, obj, a, b, c, seq
export const TR_T_F64 = 0;
export const TR_OP = 2;
export const TR_OBJ = 3;
export const TR_A = 4;
export const TR_B = 5;
export const TR_C = 6;
export const TR_SEQ = 7;
export const T_TR_END = T_TR_RING + TR_CAP * TR_WORDS;
/** The word this thread sleeps on now (+1; 0 = none): the harness kicks it on pause, stop and abort. */
export const T_SLEEP_ON = T_TR_END;
/** When a waker last woke this thread through wake_up_process() (f64 ms since epoch, even offset; 0 = consumed). */
export const T_F_WOKEN_AT = T_SLEEP_ON + 2 - (T_SLEEP_ON & 1);
/**
 * Hold-time histograms per lock class and mode (the sampled holds of
 * lock_stat, exclusive and shared apart, as /proc/lock_stat's W and R rows), and
 * wake-up latency histograms per class (release by the waker to the woken
 * waiter running again): both log2 buckets like T_WAIT_HIST.
 */
export const T_HOLD_HIST = T_F_WOKEN_AT + 2; // exclusive (write) holds
export const T_RHOLD_HIST = T_HOLD_HIST + MAX_LOCK_CLASSES * WH_BUCKETS; // shared (read) holds
export const T_WAKE_HIST = T_RHOLD_HIST + MAX_LOCK_CLASSES * WH_BUCKETS;
export const T_WAKE_HIST_END = T_WAKE_HIST + MAX_LOCK_CLASSES * WH_BUCKETS;
/** Controlled schedule: the token word (1 = this thread may run); the thread before it sets it and notifies. */
export const T_CTL_RUN = T_WAKE_HIST_END;
export const PT_STRIDE = Math.ceil((T_CTL_RUN + 1) / PT_ALIGN) * PT_ALIGN;

// ---------------------------------------------------------------------------
// Controlled scheduler region (src/sync/ctl.ts): written only by the thread
// holding the token (or the harness before the start and after the end), so
// plain accesses suffice; the token hand-over (an Atomics.store and notify
// of the next thread's T_CTL_RUN) orders them.
// ---------------------------------------------------------------------------
export const C_MODE = 0; // CTL_PCT, CTL_RANDOM, CTL_REPLAY
export const C_CUR = 1; // the thread holding the token (-1 = none)
export const C_STEP = 2; // scheduling steps taken
export const C_RNG = 3; // the scheduler's xorshift32 state
export const C_DEPTH = 4; // PCT depth d
export const C_K = 5; // PCT's estimate of the steps (change points fall in [1, k])
export const C_MAX_STEPS = 6; // the step budget: actors stop at their next operation boundary after it
export const C_STOPPED = 7; // 1 once every actor ran its operations, 2 once the budget is spent
export const C_LOG_N = 8; // context switches recorded
export const C_LOG_CAP = 9;
export const C_LOG_BASE = 10;
export const C_REPLAY_N = 11; // switches to replay (CTL_REPLAY)
export const C_REPLAY_IDX = 12;
export const C_REPLAY_BASE = 13;
export const C_TRACE_N = 14; // steps traced (a ring of C_TRACE_CAP)
export const C_TRACE_CAP = 15;
export const C_VTIME_F64 = 16; // virtual time, ms (f64, words 16-17)
export const C_TRACE_BASE = 18;
export const C_VIOL_STEP = 19; // the step of the first violation (-1 = none)
export const C_DIVERGED = 20; // replay: recorded switches that could not be taken
export const C_PREEMPT = 21; // switches away from a thread that could have gone on
export const C_NCHANGE = 22; // PCT change points (d - 1)
export const C_OPS_PENDING = 23; // actors that have not yet run their operations
export const C_CHANGE = 24; // up to CTL_MAX_CHANGES change points
export const CTL_MAX_CHANGES = 8;
export const C_THR = 32; // per-thread slots
export const CT_STATE = 0; // CT_RUN, CT_BLOCKED, CT_DONE
export const CT_PRIO = 1;
export const CT_WORD = 2; // blocked: the word it waits on
export const CT_EXPECT = 3; // ... while it holds this value
export const CT_DEADLINE_F64 = 4; // ... or until this virtual time (-1 = none); words 4-5
export const CT_OPS_LIMIT = 6; // operations this actor runs (0 = no limit)
export const CT_TIMED_OUT = 7; // its last sleep ended by its deadline, not a wake-up
export const CT_SINCE_OP = 8; // steps since its last operation boundary
export const CT_WRNG = 9; // its window-delay xorshift32 state (from the schedule seed and the thread: replays draw the same)
export const CT_WORDS = 16;

// ---------------------------------------------------------------------------
// Violation records.
// ---------------------------------------------------------------------------
export const V_KIND = 0;
export const V_TID = 1;
export const V_OP = 2;
export const V_OBJ = 3;
export const V_A = 4;
export const V_B = 5;
export const V_C = 6;
export const V_D = 7;
export const V_TIME_F64 = 8; // words 8,9
/** Controlled schedule: the scheduling step the violation happened at (-1 otherwise). */
export const V_STEP = 10;
export const V_WORDS = 16;
export const VIOL_CAP_DEFAULT = 256;

// ---------------------------------------------------------------------------
// Lock records (shared by the primitives).
// ---------------------------------------------------------------------------

/** Spinlock: one word; 0 = free, else owner tid + 1, with SPIN_CONTENDED when someone sleeps. */
export const SPIN_WORDS = 1;

/** rwsem (kernel/locking/rwsem.c): count, owner, wait_lock, queue head/tail, class. */
export const RW_COUNT = 0;
export const RW_OWNER = 1;
export const RW_WAIT_LOCK = 2;
export const RW_HEAD = 3; // first waiter tid + 1
export const RW_TAIL = 4; // last waiter tid + 1
export const RW_CLASS = 5;
/** The thread that released it last (tid + 1): named by a lost wake-up report. */
export const RW_LAST_RELEASE = 6;
export const RW_WORDS = 8;

/** seqcount: one word (even = no writer). */
export const SEQ_WORDS = 1;
