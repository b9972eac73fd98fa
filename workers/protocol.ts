/* What the harness and a worker say to each other: one task in, one result out. */

/** What the harness hands each worker: the arena and which actor to be. */
export interface WorkerTask {
  sab: SharedArrayBuffer;
  tid: number;
  scenario: string;
  role: string;
  /** The ES module that exports a scenario defined outside mmtorture. */
  module?: string;
}

export interface WorkerResult {
  tid: number;
  /** 'ok': returned at stop; 'aborted': unwound by the abort word; 'error': the actor threw. */
  outcome: 'ok' | 'aborted' | 'error';
  error?: string;
  /** The worker thread that ran the actor (a shuffle moves actors between them). */
  threadId?: number;
}
