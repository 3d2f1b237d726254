import { describe, expect, it } from 'vitest';
import { parseCreateTable, partialIndexWhere, tokenize } from '../../src/sqlite/sql-text';

describe('parseCreateTable', () => {
  it('finds column and table CHECKs, names, collations and deferrable FKs, ignoring look-alikes in strings', () => {
    const sql = `CREATE TABLE "t" (
      id INTEGER PRIMARY KEY,
      name TEXT COLLATE NOCASE CHECK (length(name) > 0),
      kind TEXT DEFAULT 'CHECK (no)' CONSTRAINT kind_ok CHECK (kind IN ('a', 'b)')),
      parent INTEGER REFERENCES "t"(id) DEFERRABLE INITIALLY DEFERRED,
      other INTEGER,
      CONSTRAINT other_fk FOREIGN KEY (other) REFERENCES p(id) ON DELETE CASCADE,
      CHECK (other <> id)
    )`;
    const p = parseCreateTable(sql);
    expect(p.checks).toEqual([
      { name: null, column: 'name', expr: 'length(name) > 0' },
      { name: 'kind_ok', column: 'kind', expr: "kind IN ('a', 'b)')" },
      { name: null, column: null, expr: 'other <> id' },
    ]);
    expect(p.columns.find((c) => c.name === 'name')!.collation).toBe('NOCASE');
    expect(p.columns.map((c) => c.name)).toEqual(['id', 'name', 'kind', 'parent', 'other']);
    expect(p.foreignKeys).toEqual([
      { name: null, refTable: 't', deferrable: true },
      { name: 'other_fk', refTable: 'p', deferrable: false },
    ]);
  });

  it('tokenizes quoted identifiers with doubled quotes and comments', () => {
    const t = tokenize(`SELECT "a""b", [c d], 'it''s' -- comment\n /* block */ x`);
    expect(t.map((x) => x.text)).toEqual(['SELECT', '"a""b"', ',', '[c d]', ',', "'it''s'", 'x']);
  });
});

describe('partialIndexWhere', () => {
  it('returns the WHERE clause of a partial index only', () => {
    expect(partialIndexWhere(`CREATE INDEX i ON t(a) WHERE deleted_at IS NULL`)).toBe('deleted_at IS NULL');
    expect(partialIndexWhere(`CREATE INDEX i ON t(a)`)).toBeNull();
    expect(partialIndexWhere(null)).toBeNull();
  });
});
