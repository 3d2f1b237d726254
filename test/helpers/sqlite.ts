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

/**
 * Table t with `rows` rows of every storage class in mixed shapes (64-bit extremes, decimals as
 * text and real, ISO dates, JSON and not-quite-JSON, uuid-like hex, 16- and 3-byte blobs), keys
 * id = i * keyStep (a sparse rowid when keyStep > 1).
 */
export function mixedValuesTableSql(rows: number, keyStep: number): string {
  return `CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, r REAL, d DECIMAL(12,4), s TEXT, j TEXT, u TEXT, b BLOB, f INTEGER);
   WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < ${rows})
   INSERT INTO t SELECT i * ${keyStep},
     CASE WHEN i % 1000 = 7 THEN -9223372036854775808 WHEN i % 997 = 3 THEN 9223372036854775807 ELSE i END,
     CASE WHEN i % 50000 = 1 THEN 123456.125 ELSE i / 7.0 END,
     CASE WHEN i % 3 = 0 THEN i / 100.0 WHEN i % 3 = 1 THEN printf('%d.%04d', i, i % 10000) ELSE NULL END,
     CASE WHEN i % 11 = 0 THEN '2024-01-0' || (i % 9 + 1) || ' 10:00:00' WHEN i % 13 = 0 THEN 'yes' ELSE 'text ' || i END,
     CASE WHEN i % 5 = 0 THEN '{"a":' || i || '}' WHEN i % 7 = 0 THEN '[1,' ELSE NULL END,
     CASE WHEN i % 2 = 0 THEN lower(hex(randomblob(16))) ELSE NULL END,
     CASE WHEN i % 17 = 0 THEN randomblob(16) WHEN i % 19 = 0 THEN randomblob(3) ELSE NULL END,
     i % 2
   FROM k;`;
}
