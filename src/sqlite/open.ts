// Opens a SQLite source for reading only. The source is never modified.
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { FailureType, nonRetryable } from '../errors';
import { oneShotThread } from '../one-shot-thread';

const SQLITE_MAGIC = 'SQLite format 3\u0000';

export type SqliteDb = Database.Database;

/** Fails (non-retryably) with a message on-call can act on when the file is not a readable SQLite database. */
export function checkSourceFile(path: string): void {
  if (!existsSync(path)) {
    throw nonRetryable(
      FailureType.SourceMissing,
      `source ${path} does not exist on the worker's host. Check the path (it is resolved on the worker, not where the run was started) and start a new run.`,
    );
  }
  const st = statSync(path);
  if (!st.isFile()) {
    throw nonRetryable(FailureType.SourceMissing, `source ${path} is not a regular file. Point "source" at the .db file itself.`);
  }
  const header = Buffer.alloc(16);
  const fd = openSync(path, 'r');
  let read = 0;
  try {
    read = readSync(fd, header, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (read < 16 || header.toString('latin1') !== SQLITE_MAGIC) {
    throw nonRetryable(
      FailureType.SourceNotSqlite,
      `source ${path} is not a SQLite 3 database (its first bytes are not "SQLite format 3"). Check the path; an encrypted (SQLCipher) file must be decrypted first.`,
    );
  }
}

/**
 * Read-only, integers as bigint (SQLite integers are 64-bit). `query_only`
 * guards against any write even through a bug of ours.
 */
export function openSource(path: string): SqliteDb {
  checkSourceFile(path);
  let db: SqliteDb;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw nonRetryable(FailureType.SourceNotSqlite, `source ${path} cannot be opened by SQLite: ${(err as Error).message}`, err);
  }
  db.defaultSafeIntegers(true);
  db.pragma('query_only = 1');
  return db;
}

/**
 * Which check: `integrity_check` reads every B-tree and also verifies that every index holds
 * exactly its table's rows; `quick_check` does all the rest (every page, cell, overflow chain and
 * record of every table and index B-tree, NOT NULL and CHECK constraints) in linear time: 0.4 s
 * instead of 1.6 s on the 300 MB bench file. The copy reads every table through its own B-tree
 * (by rowid, or the primary key of a WITHOUT ROWID table, which is its table B-tree) and counts rows
 * NOT INDEXED, so an index that disagrees with its table changes nothing we read; the full check is
 * for tables read through an index (see needsFullIntegrityCheck in src/sqlite/reader.ts).
 */
export type IntegrityPragma = 'quick_check' | 'integrity_check';

/** PRAGMA integrity_check (or quick_check); throws SourceCorrupt with SQLite's own findings. */
export function checkIntegrity(db: SqliteDb, path: string, pragma: IntegrityPragma = 'integrity_check'): void {
  let rows: Record<string, string>[];
  try {
    rows = db.pragma(`${pragma}(20)`) as Record<string, string>[];
  } catch (err) {
    throw integrityCouldNotRun(path, err, pragma);
  }
  integrityVerdict(
    rows.map((r) => r[pragma]!),
    path,
    pragma,
  );
}

function integrityCouldNotRun(path: string, err: unknown, pragma: IntegrityPragma) {
  return nonRetryable(
    FailureType.SourceCorrupt,
    `source ${path} is corrupt: ${pragma} could not run (${(err as Error).message}). Restore the file from a backup or repair it with sqlite3's .recover, then start a new run.`,
    err,
  );
}

function integrityVerdict(results: string[], path: string, pragma: IntegrityPragma): void {
  const problems = results.filter((m) => m !== 'ok');
  if (problems.length > 0) {
    throw nonRetryable(
      FailureType.SourceCorrupt,
      `source ${path} failed PRAGMA ${pragma}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}. Restore the file from a backup or repair it with sqlite3's .recover, then start a new run.`,
    );
  }
}

/** Files smaller than this are checked in the calling thread (well under a second). */
const INTEGRITY_THREAD_MIN_BYTES = 64 * 1024 * 1024;

/**
 * checkIntegrity, with the same verdicts, failure types and messages, but for a large file run in a
 * worker thread on its own read-only connection: PRAGMA integrity_check reads the whole file (≈ 1.5 s
 * per 300 MB) and, in the worker process's main thread, would stall heartbeats and workflow tasks
 * (the SDK warns past 5 s: at 900 MB it took 9 s).
 */
export async function checkIntegrityOffThread(db: SqliteDb, path: string, minBytes = INTEGRITY_THREAD_MIN_BYTES, pragma: IntegrityPragma = 'integrity_check'): Promise<void> {
  let size = -1;
  try {
    size = db.memory || !db.name ? -1 : statSync(db.name).size;
  } catch {
    size = -1;
  }
  if (size < 0 || size < minBytes) return checkIntegrity(db, path, pragma);
  const result = await integrityInThread(resolvePath(db.name), pragma);
  if ('error' in result) throw integrityCouldNotRun(path, Object.assign(new Error(result.error.message), result.error.code ? { code: result.error.code } : {}), pragma);
  integrityVerdict(result.results, path, pragma);
}

type IntegrityReply = { results: string[] } | { error: { message: string; code?: string } };

function integrityInThread(file: string, pragma: IntegrityPragma): Promise<IntegrityReply> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    let db = null;
    let reply;
    try {
      db = new Database(workerData.file, { readonly: true, fileMustExist: true });
      reply = { results: db.pragma(workerData.pragma + '(20)').map((r) => r[workerData.pragma]) };
    } catch (e) {
      reply = { error: { message: String((e && e.message) || e), code: e && typeof e.code === 'string' ? e.code : undefined } };
    } finally {
      if (db) db.close();
    }
    parentPort.postMessage(reply);`;
  return oneShotThread<IntegrityReply>(code, { file, driver: require.resolve('better-sqlite3'), pragma }, { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: 64 }, pragma);
}

export function quoteSqliteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Turns SQLite's own corruption errors into SourceCorrupt; anything else is returned as is. */
export function classifySourceError(err: unknown, path: string): unknown {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB'))) {
    return nonRetryable(
      FailureType.SourceCorrupt,
      `source ${path} is corrupt: SQLite says "${(err as Error).message}" (${code}). Restore the file from a backup or repair it with sqlite3's .recover, then start a new run.`,
      err,
    );
  }
  return err;
}
