// Where copyChunk gets its encoded batches from: a small pool of worker threads (one per core,
// shared by all chunks of the process) that read SQLite and encode COPY text, so reading and
// encoding batch N+1 overlaps batch N's PostgreSQL transaction and a second core does work.
// Exactly-once is untouched: the worker only reads; every commit (COPY + checkpoint, one
// transaction) stays in copyChunk, in order. `CUTOVER_COPY_THREADS=0` reads in the main thread.
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { KeyTuple, TablePlan } from '../types';
import type { SqliteDb } from '../sqlite/open';
import { ChunkEncoder, threadPayloadPool, type EncodedBatch } from './encode-batch';
import { threadEntryCode } from '../thread-entry';

export interface OpenArgs {
  dbPath: string;
  table: TablePlan;
  after: KeyTuple | null;
  hi: KeyTuple | null;
  batchSize: number;
  /** Hash the accepted rows of each batch for the checksum stage (EncodedBatch.digest). */
  digests?: boolean;
  /** Gather each batch's value facts (EncodedBatch.profile): the table's plan is speculative. */
  profile?: boolean;
  /** False: read through SQLite only, never from the file's pages (a live source). */
  pageReader?: boolean;
}

export type ToWorker =
  | { op: 'next'; id: number; seq: number; open?: OpenArgs }
  | { op: 'close'; id: number }
  | { op: 'recycle'; buf: ArrayBuffer };
export type FromWorker =
  | { id: number; seq: number; batch: EncodedBatch | null; error?: undefined }
  | { id: number; seq: number; batch?: undefined; error: { name: string; message: string; stack?: string; code?: string } };

/** Batches of one chunk, in key order, starting after `after`. */
export interface BatchSource {
  /** The next batch (null at the end of the chunk). At most one call may be outstanding. */
  next(): Promise<EncodedBatch | null>;
  /** Releases the source; an outstanding next() is left to settle and ignored. */
  close(): void;
  /**
   * Hands a batch's payload buffer back for a later batch. Only once nothing references it any
   * more: after its COPY completed (the server answered), never while a write may be pending.
   * Optional: a batch that is not recycled is simply garbage-collected.
   */
  recycle(batch: EncodedBatch): void;
}

export function threadCount(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.CUTOVER_COPY_THREADS;
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (Number.isInteger(n) && n >= 0) return Math.min(n, 16);
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(4, cores));
}

export function openBatchSource(
  db: SqliteDb,
  table: TablePlan,
  after: KeyTuple | null,
  hi: KeyTuple | null,
  batchSize: number,
  options: { digests?: boolean; profile?: boolean; pageReader?: boolean } = {},
): BatchSource {
  const dbPath = db.name;
  const digests = options.digests === true;
  const profile = options.profile === true;
  const pageReader = options.pageReader !== false;
  if (threadCount() === 0 || (db as { memory?: boolean }).memory || !dbPath || dbPath === ':memory:') {
    return inlineSource(db, table, after, hi, batchSize, digests, profile, pageReader);
  }
  return pool().open({ dbPath: path.resolve(dbPath), table, after, hi, batchSize, digests, profile, pageReader });
}

function inlineSource(db: SqliteDb, table: TablePlan, after: KeyTuple | null, hi: KeyTuple | null, batchSize: number, digests: boolean, profile: boolean, pageReader: boolean): BatchSource {
  const enc = new ChunkEncoder(db, table, threadPayloadPool, { digests, profile, pageReader });
  let cursor = after;
  let closed = false;
  return {
    async next() {
      if (closed) throw new Error('batch source closed');
      const b = enc.next(cursor, hi, batchSize);
      if (b) cursor = b.lastKey;
      return b;
    },
    close() {
      closed = true;
      enc.close();
    },
    recycle(batch) {
      const buf = batch.payload.buffer as ArrayBuffer;
      if (batch.payload.byteOffset === 0) threadPayloadPool.put(buf);
    },
  };
}

// ---------------------------------------------------------------------------------------------

interface Pending {
  seq: number;
  resolve(b: EncodedBatch | null): void;
  reject(e: Error): void;
}

/**
 * A copy thread with no chunk for this long exits: its heap (tens of MB) would otherwise stay with
 * the worker process through the key builds and checksums that follow the copy. Longer than the
 * gap between one chunk and the next of a table, and than a large table's key build (3 s for the
 * bench's 2M-row table on a loaded 2-core machine): with 3 s the thread whose table was building
 * its keys exited just before the next table came, and a new one started, with its own module load
 * and JIT warm-up.
 */
function copyThreadIdleMs(env: NodeJS.ProcessEnv = process.env): number {
  const ms = Number(env.CUTOVER_COPY_THREAD_IDLE_MS);
  return Number.isFinite(ms) && ms >= 0 && env.CUTOVER_COPY_THREAD_IDLE_MS !== '' ? ms : 10_000;
}

class PoolWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  tasks = 0;
  dead: Error | null = null;
  private idle: NodeJS.Timeout | null = null;

  constructor(onDeath: (w: PoolWorker) => void) {
    this.worker = spawnWorker();
    this.worker.unref();
    this.worker.on('message', (m: FromWorker) => {
      const p = this.pending.get(m.id);
      if (!p || p.seq !== m.seq) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error) {
        const err = Object.assign(new Error(m.error.message), { name: m.error.name, code: m.error.code });
        if (m.error.stack) err.stack = m.error.stack;
        p.reject(err);
      } else p.resolve(m.batch ?? null);
    });
    const die = (err: Error) => {
      if (this.dead) return;
      this.dead = err;
      onDeath(this);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => die(err));
    this.worker.on('exit', (code) => die(new Error(`copy worker thread exited (code ${code})`)));
    this.retire = () => {
      if (this.dead || this.tasks > 0) return;
      die(new Error('copy worker thread retired (idle)'));
      void this.worker.terminate();
    };
  }

  private readonly retire: () => void;

  /** A chunk was given to this thread. */
  busy(): void {
    this.tasks++;
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
  }

  /** A chunk of this thread finished; the thread exits once it has had none for a while. */
  done(): void {
    this.tasks--;
    if (this.tasks > 0 || this.dead) return;
    this.idle = setTimeout(this.retire, copyThreadIdleMs());
    this.idle.unref();
  }

  request(msg: ToWorker & { op: 'next' }): Promise<EncodedBatch | null> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { seq: msg.seq, resolve, reject });
      this.worker.ref();
      this.worker.postMessage(msg);
    });
  }
}

/**
 * Heap limits of a copy thread: its live data is two batches; small young generations keep RSS low.
 * 8 MB: since rows are read in pages (KeysetReader.scan) read+encode CPU is the same as with 16 MB
 * (scale-1 tables, 3 alternating runs each) and each thread's heap is ≈10 MB smaller; 4 MB saved
 * only 4 MB more and cost CPU in GC.
 */
function resourceLimits() {
  const young = Number(process.env.CUTOVER_COPY_YOUNG_MB ?? 8);
  return { maxYoungGenerationSizeMb: young, maxOldGenerationSizeMb: 256 };
}

function spawnWorker(): Worker {
  const ts = __filename.endsWith('.ts');
  const file = path.join(__dirname, ts ? 'copy-worker.ts' : 'copy-worker.js');
  if (!ts) return new Worker(file, { resourceLimits: resourceLimits() });
  // From TypeScript sources (tsx, vitest) the thread registers tsx first.
  const code = threadEntryCode(file);
  return new Worker(code, { eval: true, resourceLimits: resourceLimits() });
}

class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private nextId = 1;

  constructor(private readonly size: number) {}

  live(): number {
    return this.workers.length;
  }

  private pick(): PoolWorker {
    if (this.workers.length < this.size) {
      const w = new PoolWorker((dead) => {
        const i = this.workers.indexOf(dead);
        if (i >= 0) this.workers.splice(i, 1);
      });
      this.workers.push(w);
      return w;
    }
    return this.workers.reduce((a, b) => (b.tasks < a.tasks ? b : a));
  }

  open(args: OpenArgs): BatchSource {
    const w = this.pick();
    const id = this.nextId++;
    w.busy();
    let seq = 0;
    let closed = false;
    return {
      next() {
        if (closed) return Promise.reject(new Error('batch source closed'));
        const msg: ToWorker & { op: 'next' } = { op: 'next', id, seq, ...(seq === 0 ? { open: args } : {}) };
        seq++;
        return w.request(msg);
      },
      close() {
        if (closed) return;
        closed = true;
        w.done();
        const p = w.pending.get(id);
        if (p) {
          w.pending.delete(id);
          if (w.pending.size === 0) w.worker.unref();
          p.resolve(null);
        }
        if (!w.dead && seq > 0) w.worker.postMessage({ op: 'close', id } satisfies ToWorker);
      },
      recycle(batch) {
        const buf = batch.payload.buffer as ArrayBuffer;
        if (w.dead || batch.payload.byteOffset !== 0 || buf.byteLength === 0) return;
        // Transferred back (no copy): the worker's pool owns it from here.
        w.worker.postMessage({ op: 'recycle', buf } satisfies ToWorker, [buf]);
      },
    };
  }
}

/** Copy threads alive now (tests, and what the process holds between copies). */
export function liveCopyThreads(): number {
  return shared?.live() ?? 0;
}

let shared: WorkerPool | null = null;
function pool(): WorkerPool {
  return (shared ??= new WorkerPool(threadCount()));
}
