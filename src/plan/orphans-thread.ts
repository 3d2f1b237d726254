// The orphan check (orphans.ts) in a thread of its own, for the plan activity: PRAGMA
// foreign_key_check reads every child table (0.11–0.17 s for the bench's 2.2M child rows), while
// the activity's thread samples and profiles the tables. Same findings as findOrphans, which a
// small file runs inline (a thread would cost more than it saves).
import { statSync } from 'node:fs';
import path from 'node:path';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { oneShotThread } from '../one-shot-thread';
import { threadEntryCode } from '../thread-entry';
import type { SqliteSchema } from '../sqlite/introspect';
import { openSource, type SqliteDb } from '../sqlite/open';
import { findOrphans, type OrphanFinding } from './orphans';

/** Files smaller than this are checked inline. */
export const ORPHANS_THREAD_MIN_BYTES = 16 * 1024 * 1024;

interface Task {
  cutoverOrphansThread: true;
  file: string;
  schema: SqliteSchema;
}

type Reply = { findings: OrphanFinding[] } | { error: { message: string; code?: string } };

/** findOrphans(db, schema), in a thread when the file is large. */
export async function findOrphansAsync(db: SqliteDb, schema: SqliteSchema, minBytes = ORPHANS_THREAD_MIN_BYTES): Promise<OrphanFinding[]> {
  let size = -1;
  try {
    size = db.memory || !db.name ? -1 : statSync(db.name).size;
  } catch {
    size = -1;
  }
  if (size < 0 || size < minBytes) return findOrphans(db, schema);
  const reply = await inThread({ cutoverOrphansThread: true, file: path.resolve(db.name), schema });
  if ('error' in reply) throw Object.assign(new Error(reply.error.message), reply.error.code ? { code: reply.error.code } : {});
  return reply.findings;
}

function inThread(task: Task): Promise<Reply> {
  // No old-generation limit: PRAGMA foreign_key_check returns every orphan row, and a badly
  // orphaned source may have millions (inline, they had the main thread's whole heap).
  return oneShotThread<Reply>(threadEntryCode(__filename), task, { maxYoungGenerationSizeMb: 8 }, 'orphan check');
}

if (!isMainThread && (workerData as Partial<Task> | null)?.cutoverOrphansThread) {
  const task = workerData as Task;
  let reply: Reply;
  let db: SqliteDb | null = null;
  try {
    db = openSource(task.file);
    reply = { findings: findOrphans(db, task.schema) };
  } catch (e) {
    const err = e as { message?: string; code?: unknown };
    reply = { error: { message: String(err?.message ?? e), ...(typeof err?.code === 'string' ? { code: err.code } : {}) } };
  } finally {
    db?.close();
  }
  parentPort!.postMessage(reply);
}
