// The source side of a chunk's fast pass in a worker thread, so that better-sqlite3 (synchronous)
// reads and hashes on one core while the main thread reads PostgreSQL. A small pool shared by all
// checksum activities of the process; `CUTOVER_CHECKSUM_THREADS=0` hashes in the main thread.
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { FastSide, FastSourceSpec } from './fast';
import { threadEntryCode } from '../thread-entry';

export interface SourceRequest {
  id: number;
  dbPath: string;
  spec: FastSourceSpec;
  /** Int32 flag: non-zero asks the thread to stop at the next batch. */
  cancel: SharedArrayBuffer;
}

export type SourceReply =
  | { id: number; progress: number; result?: undefined; error?: undefined }
  | { id: number; result: FastSide; progress?: undefined; error?: undefined }
  | { id: number; error: { name: string; message: string; stack?: string; code?: string }; progress?: undefined; result?: undefined };

export function checksumThreads(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.CUTOVER_CHECKSUM_THREADS;
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (Number.isInteger(n) && n >= 0) return Math.min(n, 8);
  }
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(2, cores));
}

interface Task {
  onProgress(rows: number): void;
  resolve(r: FastSide): void;
  reject(e: Error): void;
}

/** An idle thread exits after this long (its heap is memory the worker process keeps otherwise). */
const IDLE_MS = 20_000;

class SourceWorker {
  readonly worker: Worker;
  readonly tasks = new Map<number, Task>();
  dead: Error | null = null;
  private idle: NodeJS.Timeout | null = null;

  constructor(onDeath: (w: SourceWorker) => void) {
    this.worker = spawn();
    this.worker.unref();
    this.worker.on('message', (m: SourceReply) => {
      const t = this.tasks.get(m.id);
      if (!t) return;
      if (m.progress !== undefined) {
        t.onProgress(m.progress);
        return;
      }
      this.tasks.delete(m.id);
      if (this.tasks.size === 0) this.rest();
      if (m.error) {
        const err = Object.assign(new Error(m.error.message), { name: m.error.name, code: m.error.code });
        if (m.error.stack) err.stack = m.error.stack;
        t.reject(err);
      } else t.resolve(m.result!);
    });
    const die = (err: Error) => {
      if (this.dead) return;
      this.dead = err;
      onDeath(this);
      for (const t of this.tasks.values()) t.reject(err);
      this.tasks.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`checksum worker thread exited (code ${code})`)));
  }

  /** Starts a task (keeps the process alive while it runs). */
  start(id: number, task: Task, msg: SourceRequest): void {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    this.tasks.set(id, task);
    this.worker.ref();
    this.worker.postMessage(msg);
  }

  private rest(): void {
    this.worker.unref();
    this.idle = setTimeout(() => {
      if (this.tasks.size > 0 || this.dead) return;
      this.dead = new Error('checksum worker thread retired (idle)');
      const i = workers.indexOf(this);
      if (i >= 0) workers.splice(i, 1);
      void this.worker.terminate();
    }, IDLE_MS);
    this.idle.unref();
  }
}

function spawn(): Worker {
  const ts = __filename.endsWith('.ts');
  const file = path.join(__dirname, ts ? 'source-worker.ts' : 'source-worker.js');
  const resourceLimits = { maxYoungGenerationSizeMb: Number(process.env.CUTOVER_CHECKSUM_YOUNG_MB ?? 8), maxOldGenerationSizeMb: 256 };
  if (!ts) return new Worker(file, { resourceLimits });
  // From TypeScript sources (tsx, vitest) the thread registers tsx first.
  const code = threadEntryCode(file);
  return new Worker(code, { eval: true, resourceLimits });
}

const workers: SourceWorker[] = [];
let nextId = 1;

function pick(size: number): SourceWorker {
  const idle = workers.find((w) => w.tasks.size === 0);
  if (idle) return idle;
  if (workers.length < size) {
    const w = new SourceWorker((dead) => {
      const i = workers.indexOf(dead);
      if (i >= 0) workers.splice(i, 1);
    });
    workers.push(w);
    return w;
  }
  return workers.reduce((a, b) => (b.tasks.size < a.tasks.size ? b : a));
}

/** Hashes the source side of a chunk in a worker thread. `cancel()` stops it at its next batch. */
export function hashSourceInThread(dbPath: string, spec: FastSourceSpec, onProgress: (rows: number) => void): { promise: Promise<FastSide>; cancel(): void } {
  const w = pick(Math.max(1, checksumThreads()));
  const id = nextId++;
  const cancel = new SharedArrayBuffer(4);
  const promise = new Promise<FastSide>((resolve, reject) => {
    if (w.dead) return reject(w.dead);
    w.start(id, { onProgress, resolve, reject }, { id, dbPath: path.resolve(dbPath), spec, cancel });
  });
  return { promise, cancel: () => Atomics.store(new Int32Array(cancel), 0, 1) };
}
