// The value profile of a large rowid table is scanned by two threads in rowid ranges (src/sqlite/profile.ts):
// the merged facts must equal a single scan's, exactly.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { profileTable } from '../../src/sqlite/profile';
import type { SqliteColumn } from '../../src/sqlite/types';
import { makeSqlite, tempDir } from '../helpers/sqlite';

const dir = tempDir('copy-profile');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = makeSqlite(
  dir,
  'p.db',
  `CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER, r REAL, d DECIMAL(12,4), s TEXT, j TEXT, u TEXT, b BLOB, f INTEGER);
   WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 260000)
   INSERT INTO t SELECT i * 3,
     CASE WHEN i % 1000 = 7 THEN -9223372036854775808 WHEN i % 997 = 3 THEN 9223372036854775807 ELSE i END,
     CASE WHEN i % 50000 = 1 THEN 123456.125 ELSE i / 7.0 END,
     CASE WHEN i % 3 = 0 THEN i / 100.0 WHEN i % 3 = 1 THEN printf('%d.%04d', i, i % 10000) ELSE NULL END,
     CASE WHEN i % 11 = 0 THEN '2024-01-0' || (i % 9 + 1) || ' 10:00:00' WHEN i % 13 = 0 THEN 'yes' ELSE 'text ' || i END,
     CASE WHEN i % 5 = 0 THEN '{"a":' || i || '}' WHEN i % 7 = 0 THEN '[1,' ELSE NULL END,
     CASE WHEN i % 2 = 0 THEN lower(hex(randomblob(16))) ELSE NULL END,
     CASE WHEN i % 17 = 0 THEN randomblob(16) WHEN i % 19 = 0 THEN randomblob(3) ELSE NULL END,
     i % 2
   FROM k;`,
);

describe('parallel value profile', () => {
  it('equals the single-thread scan', () => {
    const db = new Database(file, { readonly: true });
    db.defaultSafeIntegers(true);
    try {
      const cols = (db.prepare(`SELECT name, type FROM pragma_table_info('t')`).all() as { name: string; type: string }[]).map(
        (r): SqliteColumn => ({ name: r.name, declaredType: r.type, notNull: false, defaultSql: null, pkIndex: 0, hidden: 0, collation: null }),
      );
      const prev = process.env.CUTOVER_PROFILE_THREADS;
      process.env.CUTOVER_PROFILE_THREADS = '0';
      const serial = profileTable(db, 't', cols);
      process.env.CUTOVER_PROFILE_THREADS = '1';
      const parallel = profileTable(db, 't', cols);
      if (prev === undefined) delete process.env.CUTOVER_PROFILE_THREADS;
      else process.env.CUTOVER_PROFILE_THREADS = prev;
      expect(serial.id!.rows).toBe(260000);
      expect(parallel).toEqual(serial);
    } finally {
      db.close();
    }
  }, 60_000);
});
