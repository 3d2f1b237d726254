// The value profile of a large rowid table is scanned by two threads in rowid ranges (src/sqlite/profile.ts):
// the merged facts must equal a single scan's, exactly.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { profileTable } from '../../src/sqlite/profile';
import type { SqliteColumn } from '../../src/sqlite/types';
import { makeSqlite, mixedValuesTableSql, tempDir } from '../helpers/sqlite';

const dir = tempDir('copy-profile');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = makeSqlite(
  dir,
  'p.db',
  mixedValuesTableSql(260000, 3),
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
