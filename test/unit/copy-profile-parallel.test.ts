// The value profile of a large rowid table is scanned by two threads in rowid ranges (src/sqlite/profile.ts):
// the merged facts must equal a single scan's, exactly.
import { afterAll, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { profileTable, profileTableAsync, releaseProfileThreads } from '../../src/sqlite/profile';
import type { SqliteColumn } from '../../src/sqlite/types';
import { makeSqlite, mixedValuesTableSql, tempDir } from '../helpers/sqlite';

const dir = tempDir('copy-profile');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = makeSqlite(
  dir,
  'p.db',
  `${mixedValuesTableSql(260000, 3)}
   -- Looks like a rowid alias and is not one (SQLite's DESC quirk): its ids are not its rowids.
   CREATE TABLE q (id INTEGER PRIMARY KEY DESC, v TEXT);
   WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 260000)
   INSERT INTO q SELECT 1000000 - i, 'q' || i FROM k;`,
);

function columnsOf(db: Database.Database, table: string): SqliteColumn[] {
  // Real pkIndex: the ranged scans read an INTEGER PRIMARY KEY that is a rowid alias once, as the rowid.
  return (db.prepare(`SELECT name, type, pk FROM pragma_table_info(?)`).all(table) as { name: string; type: string; pk: bigint }[]).map(
    (r): SqliteColumn => ({ name: r.name, declaredType: r.type, notNull: false, defaultSql: null, pkIndex: Number(r.pk), hidden: 0, collation: null }),
  );
}

type Profiler = (db: Database.Database, table: string, cols: SqliteColumn[]) => unknown;

const VARIANTS: [string, Profiler][] = [
  ['the two-thread scan (profileTable)', (db, table, cols) => profileTable(db, table, cols)],
  ['the helper threads (profileTableAsync)', (db, table, cols) => profileTableAsync(db, table, cols)],
];

describe('parallel value profile', () => {
  for (const [name, profile] of VARIANTS) {
    it(`${name}: the same facts as the single-thread scan`, async () => {
      const db = new Database(file, { readonly: true });
      db.defaultSafeIntegers(true);
      const prev = process.env.CUTOVER_PROFILE_THREADS;
      try {
        for (const table of ['t', 'q']) {
          const cols = columnsOf(db, table);
          process.env.CUTOVER_PROFILE_THREADS = '0';
          const serial = profileTable(db, table, cols);
          process.env.CUTOVER_PROFILE_THREADS = '1';
          expect(await profile(db, table, cols)).toEqual(serial);
          expect(serial.id!.rows).toBe(260000);
          if (table === 't') expect(serial.id).toMatchObject({ integers: 260000, nulls: 0, minInteger: '3', maxInteger: '780000' });
          else expect(serial.id).toMatchObject({ integers: 260000, minInteger: '740000', maxInteger: '999999' });
        }
      } finally {
        if (prev === undefined) delete process.env.CUTOVER_PROFILE_THREADS;
        else process.env.CUTOVER_PROFILE_THREADS = prev;
        db.close();
        await releaseProfileThreads();
      }
    }, 60_000);
  }
});
