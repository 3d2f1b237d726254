// Which tables changed between the snapshot a run copied from and a new one: exact, in key order.
import Database from 'better-sqlite3';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { diffSources } from '../../src/sqlite/diff';
import type { KeyPlan } from '../../src/types';
import { makeSqlite, tempDir } from '../helpers/sqlite';

const dir = tempDir('source-diff');
const rowid: KeyPlan = { kind: 'rowid', columns: ['rowid'], display: ['id'] };
const tables = [
  { name: 'a', key: rowid },
  { name: 'b', key: { kind: 'pk', columns: ['k'] } as KeyPlan },
];
let n = 0;

/** A base file and a copy changed by `sql`; returns the diff between them. */
function diffAfter(sql: string) {
  const before = makeSqlite(
    dir,
    `base-${++n}.db`,
    `CREATE TABLE a (id INTEGER PRIMARY KEY, r REAL, t TEXT, x BLOB);
     CREATE TABLE b (k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;
     INSERT INTO a VALUES (1, 0.0, 'one', x'00'), (2, 1.5, 'two', x'01'), (3, NULL, 'three', NULL);
     INSERT INTO b VALUES ('x', 9223372036854775807), ('y', -1);`,
  );
  const after = path.join(dir, `after-${n}.db`);
  copyFileSync(before, after);
  const db = new Database(after);
  db.exec(sql);
  db.close();
  return diffSources(before, after, tables);
}

describe('diffSources', () => {
  it('finds nothing in an identical copy (even after VACUUM rewrote the file)', () => {
    expect(diffAfter('VACUUM')).toEqual({ tables: [], schemaChange: null });
  });

  it('names the table and the first changed row, for every storage class', () => {
    expect(diffAfter(`UPDATE a SET t = 'TWO' WHERE id = 2`).tables).toEqual([{ table: 'a', detail: 'row id=2 changed' }]);
    // Same bytes as text, another storage class: x'01' (blob) → 1 (integer).
    expect(diffAfter(`UPDATE a SET x = 1 WHERE id = 2`).tables).toEqual([{ table: 'a', detail: 'row id=2 changed' }]);
    expect(diffAfter(`UPDATE a SET x = x'02' WHERE id = 1`).tables).toEqual([{ table: 'a', detail: 'row id=1 changed' }]);
    expect(diffAfter(`UPDATE a SET r = 1.5000000000000002 WHERE id = 2`).tables).toEqual([{ table: 'a', detail: 'row id=2 changed' }]);
    expect(diffAfter(`UPDATE b SET v = 9223372036854775806 WHERE k = 'x'`).tables).toEqual([{ table: 'b', detail: 'row k=x changed' }]);
  });

  it('counts added and deleted rows, and sees a delete plus an insert that keeps the count', () => {
    expect(diffAfter(`INSERT INTO a VALUES (4, 2, 'four', NULL)`).tables).toEqual([{ table: 'a', detail: '1 row(s) more (3 at the snapshot, 4 now)' }]);
    expect(diffAfter(`DELETE FROM b WHERE k = 'y'`).tables).toEqual([{ table: 'b', detail: '1 row(s) fewer (2 at the snapshot, 1 now)' }]);
    expect(diffAfter(`DELETE FROM a WHERE id = 2; INSERT INTO a VALUES (7, 1.5, 'two', x'01')`).tables).toEqual([
      { table: 'a', detail: 'rows differ from id=2 on (a row was added, deleted or re-keyed)' },
    ]);
  });

  it('reports a schema change instead of table differences', () => {
    expect(diffAfter(`ALTER TABLE a ADD COLUMN extra TEXT`)).toEqual({ tables: [], schemaChange: 'table a altered' });
    expect(diffAfter(`CREATE INDEX b_v ON b (v); DROP TABLE a`).schemaChange).toBe('table a dropped, index b_v added');
  });
});
