// Opens a SQLite source for reading only. The source is never modified.
import Database from 'better-sqlite3';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { FailureType, nonRetryable } from '../errors';

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

/** PRAGMA integrity_check; throws SourceCorrupt with SQLite's own findings. */
export function checkIntegrity(db: SqliteDb, path: string): void {
  let rows: { integrity_check: string }[];
  try {
    rows = db.pragma('integrity_check(20)') as { integrity_check: string }[];
  } catch (err) {
    throw nonRetryable(
      FailureType.SourceCorrupt,
      `source ${path} is corrupt: integrity_check could not run (${(err as Error).message}). Restore the file from a backup or repair it with sqlite3's .recover, then start a new run.`,
      err,
    );
  }
  const problems = rows.map((r) => r.integrity_check).filter((m) => m !== 'ok');
  if (problems.length > 0) {
    throw nonRetryable(
      FailureType.SourceCorrupt,
      `source ${path} failed PRAGMA integrity_check: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}. Restore the file from a backup or repair it with sqlite3's .recover, then start a new run.`,
    );
  }
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
