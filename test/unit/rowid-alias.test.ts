// A rowid table's INTEGER PRIMARY KEY is the rowid itself: the keyset reader and the value profile,
// which select the rowid anyway, read such a column once. Only when SQLite itself compiles the
// column to its Rowid opcode: a declaration that merely looks like an alias must be read as a column.
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { openSource } from '../../src/sqlite/open';
import { compileKeysetQuery, compilesToRowid, KeysetReader, rowidAliasOf } from '../../src/sqlite/reader';
import type { KeyPlan } from '../../src/types';
import type { SqliteValue } from '../../src/sqlite/types';
import { makeSqlite, tempDir } from '../helpers/sqlite';

const dir = tempDir('rowid-alias');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Every table holds rows whose `id` differs from the rowid wherever SQLite lets it.
const file = makeSqlite(
  dir,
  'a.db',
  `CREATE TABLE plain (id INTEGER PRIMARY KEY, v TEXT);
   CREATE TABLE lower_case (id integer primary key autoincrement, v TEXT);
   CREATE TABLE table_level (id INTEGER, v TEXT, PRIMARY KEY (id DESC));
   CREATE TABLE desc_quirk (id INTEGER PRIMARY KEY DESC, v TEXT);
   CREATE TABLE int_not_integer (id INT PRIMARY KEY, v TEXT);
   CREATE TABLE bigint_pk (id BIGINT PRIMARY KEY, v TEXT);
   CREATE TABLE no_pk (id INTEGER, v TEXT);
   CREATE TABLE without_rowid (id INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
   INSERT INTO plain SELECT i * 3, 'p' || i FROM n;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
   INSERT INTO lower_case SELECT i * 5, 'l' || i FROM n;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
   INSERT INTO table_level SELECT 9223372036854775807 - i, 't' || i FROM n;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
   INSERT INTO desc_quirk SELECT CASE WHEN i % 10 = 0 THEN 'text ' || i ELSE 10000 - i END, 'd' || i FROM n;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
   INSERT INTO int_not_integer SELECT 7 * i, 'i' || i FROM n;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
   INSERT INTO bigint_pk SELECT 11 * i, 'b' || i FROM n;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
   INSERT INTO no_pk SELECT CASE WHEN i % 7 = 0 THEN NULL ELSE 13 * i END, 'n' || i FROM n;
   WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2500)
   INSERT INTO without_rowid SELECT 17 * i, 'w' || i FROM n;`,
);

const ALIASES: Record<string, string | null> = {
  plain: 'id',
  lower_case: 'id',
  table_level: 'id', // the DESC quirk applies to the column constraint only
  desc_quirk: null,
  int_not_integer: null,
  bigint_pk: null,
  no_pk: null,
  without_rowid: null,
};

const rowidKey: KeyPlan = { kind: 'rowid', columns: ['rowid'], display: ['id'] };

/** Every row of `table` through a KeysetReader, in pages of 97 rows (both read paths). */
function readAll(table: string, key: KeyPlan, via: 'read' | 'scan'): SqliteValue[][] {
  const db = openSource(file);
  try {
    const reader = new KeysetReader(db, table, key, ['v', 'id']);
    const out: SqliteValue[][] = [];
    let after = null;
    for (;;) {
      if (via === 'read') {
        const b = reader.read(after, null, 97);
        if (b.rows.length === 0) break;
        out.push(...b.rows.map((r) => [...r]));
        after = b.lastKey;
      } else {
        const page: SqliteValue[][] = [];
        const r = reader.scan(after, null, 97, (row) => page.push([...row]), () => 13);
        if (r.rows === 0) break;
        out.push(...page);
        after = r.lastKey;
      }
    }
    return out;
  } finally {
    db.close();
  }
}

describe('rowid alias', () => {
  it('compilesToRowid: the Rowid opcode and no Column opcode', () => {
    expect(compilesToRowid(['Init', 'OpenRead', 'Rewind', 'Rowid', 'ResultRow', 'Next', 'Halt'])).toBe(true);
    expect(compilesToRowid(['Init', 'OpenRead', 'Rewind', 'Column', 'ResultRow', 'Next', 'Halt'])).toBe(false);
    expect(compilesToRowid(['Init', 'OpenRead', 'Rewind', 'Rowid', 'Column', 'ResultRow'])).toBe(false);
    expect(compilesToRowid(['Init', 'OpenRead', 'Rewind', 'IdxRowid', 'ResultRow'])).toBe(false);
  });

  it('compileKeysetQuery selects the alias column as NULL, the rest unchanged', () => {
    const q = compileKeysetQuery('t', rowidKey, ['v', 'id', 'w'], { hasLo: true, hasHi: false, rowidAlias: 1 });
    expect(q.sql).toBe('SELECT "rowid", "v", NULL, "w" FROM "t" WHERE "rowid" > ? ORDER BY "rowid" LIMIT ?');
    const plain = compileKeysetQuery('t', rowidKey, ['v', 'id', 'w'], { hasLo: true, hasHi: false });
    expect(plain.sql).toBe('SELECT "rowid", "v", "id", "w" FROM "t" WHERE "rowid" > ? ORDER BY "rowid" LIMIT ?');
  });

  for (const [table, alias] of Object.entries(ALIASES)) {
    it(`${table}: ${alias ? 'an alias, found by SQLite' : 'not an alias'}`, () => {
      const db = openSource(file);
      try {
        expect(rowidAliasOf(db, table, ['v', 'id'])).toBe(alias);
      } finally {
        db.close();
      }
    });
  }

  for (const table of Object.keys(ALIASES).filter((t) => t !== 'without_rowid')) {
    it(`${table}: the reader's rows equal SQLite's own (rowid, v, id), both read paths`, () => {
      const db = openSource(file);
      let expected: SqliteValue[][];
      try {
        expected = db.prepare(`SELECT rowid, v, id FROM "${table}" ORDER BY rowid`).raw(true).all() as SqliteValue[][];
      } finally {
        db.close();
      }
      expect(expected).toHaveLength(2500);
      expect(readAll(table, rowidKey, 'read')).toEqual(expected);
      expect(readAll(table, rowidKey, 'scan')).toEqual(expected);
    });
  }
});
