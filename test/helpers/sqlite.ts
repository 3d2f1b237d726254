// Real SQLite files for tests, built from SQL.
import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `cutover-${prefix}-`));
}

/** Creates a SQLite file from SQL (and an optional callback for data SQL cannot express). */
export function makeSqlite(dir: string, name: string, sql: string, fill?: (db: Database.Database) => void): string {
  const file = path.join(dir, name);
  const db = new Database(file);
  db.defaultSafeIntegers(true);
  db.exec(sql);
  fill?.(db);
  db.close();
  return file;
}

/** Reads a whole table from SQLite independently of the code under test. */
export function readSqliteRows(file: string, table: string, orderBy: string): Record<string, unknown>[] {
  const db = new Database(file, { readonly: true });
  db.defaultSafeIntegers(true);
  try {
    return db.prepare(`SELECT * FROM "${table.replace(/"/g, '""')}" ORDER BY ${orderBy}`).all() as Record<string, unknown>[];
  } finally {
    db.close();
  }
}
