// Worker-thread side of batch-source.ts: reads and encodes batches of the chunks it is given.
// One SQLite connection per open task; requests are served in arrival order.
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { KeyTuple, TablePlan } from '../types';
import { ChunkEncoder, threadPayloadPool } from './encode-batch';
import type { ToWorker, FromWorker } from './batch-source';

interface Task {
  db: Database.Database;
  enc: ChunkEncoder;
  hi: KeyTuple | null;
  after: KeyTuple | null;
  batchSize: number;
}

const tasks = new Map<number, Task>();
const port = parentPort!;

function post(msg: FromWorker, transfer?: ArrayBuffer[]): void {
  port.postMessage(msg, transfer);
}

function openTask(id: number, dbPath: string, table: TablePlan, after: KeyTuple | null, hi: KeyTuple | null, batchSize: number): void {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    db.pragma('query_only = 1');
    tasks.set(id, { db, enc: new ChunkEncoder(db, table), hi, after, batchSize });
  } catch (err) {
    db.close();
    throw err;
  }
}

function closeTask(id: number): void {
  const t = tasks.get(id);
  if (!t) return;
  tasks.delete(id);
  t.db.close();
}

port.on('message', (msg: ToWorker) => {
  try {
    if (msg.op === 'close') {
      closeTask(msg.id);
      return;
    }
    if (msg.op === 'recycle') {
      threadPayloadPool.put(msg.buf);
      return;
    }
    if (msg.open) openTask(msg.id, msg.open.dbPath, msg.open.table, msg.open.after, msg.open.hi, msg.open.batchSize);
    const t = tasks.get(msg.id);
    if (!t) throw new Error(`copy worker: task ${msg.id} is not open`);
    const b = t.enc.next(t.after, t.hi, t.batchSize);
    if (b === null) {
      post({ id: msg.id, seq: msg.seq, batch: null });
      return;
    }
    t.after = b.lastKey;
    post({ id: msg.id, seq: msg.seq, batch: b }, [b.payload.buffer as ArrayBuffer]);
  } catch (err) {
    const e = err as Error & { code?: unknown };
    if (msg.op === 'recycle') return;
    if (msg.op === 'next' && msg.open) closeTask(msg.id);
    post({
      id: msg.id,
      seq: msg.op === 'next' ? msg.seq : -1,
      error: { name: e?.name ?? 'Error', message: e?.message ?? String(err), stack: e?.stack, code: typeof e?.code === 'string' ? e.code : undefined },
    });
  }
});
