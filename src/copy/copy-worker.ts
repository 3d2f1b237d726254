// Worker-thread side of batch-source.ts: reads and encodes batches of the chunks it is given.
// Tasks of one file share a SQLite connection (see acquire); requests are served in arrival order.
import { statSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { KeyTuple } from '../types';
import { ChunkEncoder, threadPayloadPool } from './encode-batch';
import type { ToWorker, FromWorker, OpenArgs } from './batch-source';

interface Task {
  db: Database.Database;
  dbPath: string;
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

// Connections are shared by the tasks of one file and kept open for a moment after the last one
// closes: a table's chunks follow each other on the same thread, and opening a connection per
// chunk (schema parse, page cache) churned memory. A connection is reused only while the file is
// the same one (inode, size, mtime), so a file replaced at the same path is opened anew.
interface Conn {
  db: Database.Database;
  id: string;
  refs: number;
  timer: NodeJS.Timeout | null;
}
const conns = new Map<string, Conn>();
const CONN_IDLE_MS = 2000;

function fileId(dbPath: string): string {
  const st = statSync(dbPath, { bigint: true });
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

function acquire(dbPath: string): Database.Database {
  const id = fileId(dbPath);
  const c = conns.get(dbPath);
  if (c && c.id === id) {
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
    c.refs++;
    return c.db;
  }
  if (c && c.refs === 0) {
    if (c.timer) clearTimeout(c.timer);
    conns.delete(dbPath);
    c.db.close();
  }
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    db.defaultSafeIntegers(true);
    db.pragma('query_only = 1');
    // Keyset batches read the table in order: beyond the B-tree's interior pages a page cache does
    // not help (the OS caches the file); 512 KiB instead of SQLite's 2 MiB per connection.
    db.pragma('cache_size = -512');
  } catch (err) {
    db.close();
    throw err;
  }
  // A connection still in use by a task of the file's previous version stays that task's own.
  if (!conns.has(dbPath)) conns.set(dbPath, { db, id, refs: 1, timer: null });
  return db;
}

function release(dbPath: string, db: Database.Database): void {
  const c = conns.get(dbPath);
  if (!c || c.db !== db) {
    db.close();
    return;
  }
  if (--c.refs > 0) return;
  c.timer = setTimeout(() => {
    if (conns.get(dbPath) === c && c.refs === 0) {
      conns.delete(dbPath);
      c.db.close();
    }
  }, CONN_IDLE_MS);
  c.timer.unref();
}

function openTask(id: number, open: OpenArgs): void {
  const { dbPath, table, after, hi, batchSize } = open;
  const db = acquire(dbPath);
  try {
    tasks.set(id, { db, dbPath, enc: new ChunkEncoder(db, table, threadPayloadPool, { digests: open.digests === true, profile: open.profile === true, pageReader: open.pageReader !== false }), hi, after, batchSize });
  } catch (err) {
    release(dbPath, db);
    throw err;
  }
}

function closeTask(id: number): void {
  const t = tasks.get(id);
  if (!t) return;
  tasks.delete(id);
  t.enc.close();
  release(t.dbPath, t.db);
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
    if (msg.open) openTask(msg.id, msg.open);
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
