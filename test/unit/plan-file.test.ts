// planFromFile (introspect + profile + buildPlan without Temporal or a target) on small real
// SQLite files: CHECKs, indexes, identifiers, orphans, views, and renderPlan.
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planFromFile } from '../../src/plan/plan-file';
import { findOrphans } from '../../src/plan/orphans';
import { findOrphansAsync } from '../../src/plan/orphans-thread';
import { introspect } from '../../src/sqlite/introspect';
import { openSource } from '../../src/sqlite/open';
import { renderPlan } from '../../src/plan/render';
import { translateView } from '../../src/plan/view';
import { assignIdentifiers, transformName } from '../../src/plan/identifiers';
import { parseIndexKeys, parseCreateView } from '../../src/sqlite/sql-text';
import { createIndexSql } from '../../src/postgres/ddl';
import { makeSqlite, tempDir } from '../helpers/sqlite';

const dir = tempDir('planfile');
let n = 0;
const file = (sql: string, fill?: (db: Database.Database) => void) => makeSqlite(dir, `p${n++}.db`, sql, fill);

describe('CHECK constraints', () => {
  it('translates portable ones and reports the rest', () => {
    const plan = planFromFile(
      file(`CREATE TABLE t (id INTEGER PRIMARY KEY, price REAL CHECK (price > 0), flag BOOLEAN CHECK (flag IN (0,1)),
              kind TEXT CONSTRAINT kind_ok CHECK (kind IN ('a','b')), x CHECK (typeof(x) IN ('integer','null')));
            INSERT INTO t VALUES (1, 1.5, 1, 'a', 3), (2, 2, 0, 'b', NULL);`),
    );
    const t = plan.tables[0]!;
    expect(t.checks.map((c) => [c.name, c.pgSql])).toEqual([
      ['t_check1', '"price" > 0'],
      ['t_check2', '"flag" IN (false, true)'],
      ['kind_ok', `"kind" IN ('a', 'b')`],
      ['t_check4', null],
    ]);
    expect(t.checks[3]!.reason).toMatch(/typeof/);
    expect(t.warnings.join('\n')).toMatch(/CHECK \(typeof\(x\) IN \('integer','null'\)\) not created in PostgreSQL: function typeof\(\)/);
  });
});

describe('indexes', () => {
  const plan = planFromFile(
    file(`CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT COLLATE NOCASE UNIQUE, a INTEGER, b TEXT, flag BOOLEAN, UNIQUE (a, b));
          CREATE INDEX t_desc ON t (a DESC, b);
          CREATE INDEX t_partial ON t (b) WHERE flag = 1 AND a > 10;
          CREATE INDEX t_expr ON t (lower(b), a + 1);
          CREATE INDEX t_json ON t (json_extract(b, '$.x'));
          CREATE INDEX t_bad_where ON t (a) WHERE typeof(b) = 'text';
          CREATE INDEX t_nocase ON t (b COLLATE NOCASE);
          INSERT INTO t VALUES (1, 'A@x', 1, '"b"', 1);`),
  );
  const t = plan.tables[0]!;
  const ix = (name: string) => t.indexes.find((i) => i.name === name);
  it('keeps UNIQUE constraints, DESC, partial and expression indexes', () => {
    expect(t.uniques).toEqual([['a', 'b']]);
    expect(ix('t_desc')!.keys).toEqual(['"a" DESC', '"b"']);
    expect(ix('t_partial')!.whereSql).toBe('("flag" = true) AND ("a" > 10)');
    expect(ix('t_expr')!.keys).toEqual(['(lower("b"))', '("a" + 1)']);
    expect(ix('t_nocase')!.keys).toEqual(['lower("b")']);
    expect(createIndexSql('s', t, ix('t_desc')!)).toBe('CREATE INDEX "t_desc" ON "s"."t" ("a" DESC, "b")');
    expect(createIndexSql('s', t, ix('t_partial')!)).toBe('CREATE INDEX "t_partial" ON "s"."t" ("b") WHERE ("flag" = true) AND ("a" > 10)');
  });
  it('makes UNIQUE on a NOCASE column a unique index on lower(), with a fallback', () => {
    const u = t.indexes.find((i) => i.unique && i.keys?.[0] === 'lower("email")')!;
    expect(u).toBeDefined();
    expect(u.fallbackKeys).toEqual(['"email"']);
  });
  it('skips non-portable ones with their SQL', () => {
    expect(plan.skipped.find((s) => s.name === 't_json')).toMatchObject({ kind: 'index', sql: expect.stringMatching(/json_extract/) });
    expect(plan.skipped.find((s) => s.name === 't_bad_where')!.reason).toMatch(/typeof/);
  });
  it('parses index keys', () => {
    expect(parseIndexKeys(`CREATE INDEX x ON "t" ("a" COLLATE nocase DESC, lower(b) ASC, c)`)).toEqual([
      { expr: '"a"', collation: 'nocase', desc: true },
      { expr: 'lower(b)', collation: null, desc: false },
      { expr: 'c', collation: null, desc: false },
    ]);
  });
});

describe('identifiers', () => {
  it('transforms names', () => {
    expect(transformName('CustomerID', 'snake')).toBe('customer_id');
    expect(transformName('HTTPServerLog', 'snake')).toBe('http_server_log');
    expect(transformName('Order Details', 'snake')).toBe('order_details');
    expect(transformName('Ünïcødé Name', 'snake')).toBe('ünïcødé_name');
    expect(transformName('???', 'snake')).toBe('???');
    expect(transformName('MixedCase', 'lower')).toBe('mixedcase');
    expect(transformName('MixedCase', 'keep')).toBe('MixedCase');
  });
  it('resolves collisions deterministically and reports them', () => {
    const a = assignIdentifiers(['UserId', 'user_id', 'userId'], 'column', 'snake');
    const b = assignIdentifiers(['UserId', 'user_id', 'userId'], 'column', 'snake');
    expect([...a.names]).toEqual([...b.names]);
    expect(a.names.get('UserId')).toBe('user_id');
    expect(new Set(a.names.values()).size).toBe(3);
    expect(a.notes.join('\n')).toMatch(/collides/);
  });
  it('applies the mode to tables, columns, indexes and constraints', () => {
    const plan = planFromFile(
      file(`CREATE TABLE "OrderItems" ("OrderID" INTEGER PRIMARY KEY, "UnitPrice" REAL CHECK ("UnitPrice" >= 0), "ProductName" TEXT);
            CREATE INDEX "IX_ProductName" ON "OrderItems" ("ProductName");`),
      { identifiers: 'snake' },
    );
    const t = plan.tables[0]!;
    expect(t.target).toBe('order_items');
    expect(t.columns.map((c) => c.target)).toEqual(['order_id', 'unit_price', 'product_name']);
    expect(t.indexes[0]!.targetName).toBe('ix_product_name');
    expect(t.checks[0]!.pgSql).toBe('"unit_price" >= 0');
    expect(t.pkName).toBe('order_items_pkey');
  });
  it('keeps relation names unique across the schema (a PK named like a table)', () => {
    const plan = planFromFile(file(`CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE a_pkey (x); CREATE INDEX b ON a_pkey (x);`));
    const a = plan.tables.find((t) => t.source === 'a')!;
    expect(a.pkName).toMatch(/^a_pkey_[0-9a-f]{8}$/);
    expect(plan.tables.find((t) => t.source === 'a_pkey')!.indexes[0]!.targetName).toBe('b');
  });
});

describe('FK orphans', () => {
  const sql = `CREATE TABLE p (id INTEGER PRIMARY KEY);
               CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id));
               CREATE TABLE w (a TEXT, b INTEGER, pid INTEGER REFERENCES p, PRIMARY KEY (a, b)) WITHOUT ROWID;`;
  const fill = (db: Database.Database) => {
    db.pragma('foreign_keys = OFF');
    db.exec(`INSERT INTO p VALUES (1); INSERT INTO c VALUES (1, 1), (2, 5), (3, NULL), (4, 6);
             INSERT INTO w VALUES ('x', 1, 9), ('y', 2, 1);`);
  };
  it('the plan checks them in a thread for a large file: the same findings as inline', async () => {
    const f = file(sql, fill);
    const db = openSource(f);
    try {
      const schema = introspect(db);
      const inline = findOrphans(db, schema);
      expect(inline.map((o) => [o.table, o.count, o.examples]).sort()).toEqual([
        ['c', 2, ['id=2 (pid=5)', 'id=4 (pid=6)']],
        ['w', 1, ["a='x', b=1 (pid=9)"]],
      ]);
      // minBytes 0: any file goes to the thread.
      expect(await findOrphansAsync(db, schema, 0)).toEqual(inline);
      expect(await findOrphansAsync(db, schema)).toEqual(inline);
    } finally {
      db.close();
    }
  });

  it('reject: marks the FK and gives the copy a predicate that selects exactly the orphans', () => {
    const f = file(sql, fill);
    const plan = planFromFile(f, { orphans: 'reject' });
    const c = plan.tables.find((t) => t.source === 'c')!;
    expect(c.foreignKeys[0]!.orphans).toMatchObject({ count: 2, policy: 'reject', examples: ['id=2 (pid=5)', 'id=4 (pid=6)'] });
    const db = new Database(f, { readonly: true });
    try {
      for (const t of plan.tables.filter((x) => x.rejectWhere)) {
        const ids = db.prepare(`SELECT * FROM "${t.source}" WHERE ${t.rejectWhere!.map((r) => r.sqliteWhere).join(' OR ')}`).all();
        expect(ids.length, t.source).toBe(t.source === 'c' ? 2 : 1);
      }
    } finally {
      db.close();
    }
    const w = plan.tables.find((t) => t.source === 'w')!;
    expect(w.foreignKeys[0]!.orphans!.examples).toEqual(["a='x', b=1 (pid=9)"]);
  });
  it('keep: marks the FK, no predicate; fail: a warning that names them', () => {
    const keep = planFromFile(file(sql, fill), { orphans: 'keep' });
    expect(keep.tables.find((t) => t.source === 'c')!.foreignKeys[0]!.orphans!.policy).toBe('keep');
    expect(keep.tables.some((t) => t.rejectWhere)).toBe(false);
    const fail = planFromFile(file(sql, fill));
    expect(fail.warnings.join('\n')).toMatch(/c: 2 row\(s\) violate foreign key c\(pid\) → p\(id\), e\.g\. id=2 \(pid=5\); id=4 \(pid=6\)/);
  });
});

describe('views and triggers', () => {
  const names = {
    relations: new Map([['customer', 'Customer'], ['invoice', 'Invoice']]),
    columns: new Map([
      ['customerid', new Set(['CustomerId'])],
      ['firstname', new Set(['FirstName'])],
      ['total', new Set(['Total'])],
      ['flag', new Set(['flag'])],
    ]),
    booleans: new Set(['flag']),
  };
  it('translates simple SELECTs', () => {
    const r = translateView(
      `CREATE VIEW v AS SELECT c.FirstName, sum(i.Total) AS Spent FROM [Customer] c JOIN Invoice i ON i.CustomerId == c.CustomerId WHERE i.flag = 1 AND c.FirstName LIKE 'a%' GROUP BY c.FirstName ORDER BY spent`,
      names,
    );
    expect(r).toEqual({
      ok: true,
      columns: null,
      select: `SELECT "c"."FirstName", sum("i"."Total") AS "Spent" FROM "Customer" "c" JOIN "Invoice" "i" ON "i"."CustomerId" = "c"."CustomerId" WHERE "i"."flag" = true AND "c"."FirstName" ILIKE 'a%' ESCAPE '' GROUP BY "c"."FirstName" ORDER BY "Spent"`,
    });
  });
  it.each([
    [`CREATE VIEW v AS SELECT strftime('%Y', x) FROM Customer`, /strftime/],
    [`CREATE VIEW v AS SELECT * FROM Customer WHERE FirstName GLOB 'a*'`, /GLOB/],
    [`CREATE VIEW v AS SELECT group_concat(FirstName) FROM Customer`, /group_concat/],
    [`CREATE VIEW v AS SELECT max(Total, 0) FROM Invoice`, /scalar max/],
    [`CREATE VIEW v AS SELECT * FROM Customer WHERE FirstName IS 'x'`, /IS between values/],
  ])('refuses %s', (sql, re) => {
    const r = translateView(sql, names);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.reason).toMatch(re);
  });
  it('parses CREATE VIEW with a column list', () => {
    expect(parseCreateView('CREATE VIEW IF NOT EXISTS "v" (a, "b") AS SELECT 1, 2;')).toEqual({ columns: ['a', 'b'], select: 'SELECT 1, 2' });
  });
  it('plans portable views, skips the others and every trigger with their SQL', () => {
    const plan = planFromFile(
      file(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT);
            CREATE VIEW ok_v AS SELECT id, upper(name) AS n FROM t;
            CREATE VIEW bad_v AS SELECT datetime('now') AS now FROM t;
            CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END;`),
    );
    expect(plan.views).toEqual([expect.objectContaining({ name: 'ok_v', pgSql: 'CREATE VIEW "ok_v" AS SELECT "id", upper("name") AS "n" FROM "t"' })]);
    expect(plan.skipped.map((s) => `${s.kind} ${s.name}`).sort()).toEqual(['trigger tr', 'view bad_v']);
    expect(plan.skipped.find((s) => s.name === 'tr')!.sql).toMatch(/CREATE TRIGGER/);
  });
});

describe('STRICT, generated, WITHOUT ROWID, AUTOINCREMENT, collations', () => {
  it('plans them', () => {
    const plan = planFromFile(
      file(`CREATE TABLE s (id INTEGER PRIMARY KEY AUTOINCREMENT, a ANY, i INTEGER, g INTEGER GENERATED ALWAYS AS (i * 2) STORED) STRICT;
            CREATE TABLE w (a TEXT, b INTEGER, PRIMARY KEY (a, b)) WITHOUT ROWID;
            CREATE TABLE c (x TEXT COLLATE RTRIM, y TEXT COLLATE NOCASE);
            INSERT INTO s (a, i) VALUES (1, 2), ('t', 3);`),
    );
    const s = plan.tables.find((t) => t.source === 's')!;
    expect(s.strict).toBe(true);
    expect(s.sqliteSequence).toBe('2');
    expect(s.columns.find((c) => c.source === 'g')!.warnings.join()).toMatch(/generated/);
    const w = plan.tables.find((t) => t.source === 'w')!;
    expect(w.key).toEqual({ kind: 'pk', columns: ['a', 'b'] });
    expect(w.columns.every((c) => c.notNull)).toBe(true);
    const c = plan.tables.find((t) => t.source === 'c')!;
    expect(c.columns[0]!.warnings.join()).toMatch(/RTRIM/);
    expect(c.columns[1]!.warnings.join()).toMatch(/NOCASE/);
  });

  const cli = ['/usr/bin/sqlite3', '/usr/local/bin/sqlite3'].find((p) => existsSync(p));
  it.skipIf(!cli)('reads tables with an application-defined collation; refuses a WITHOUT ROWID key that uses one, saying why', () => {
    const f = path.join(dir, 'coll.db');
    execFileSync(cli!, [
      f,
      `CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX r_v ON r (v); INSERT INTO r VALUES (1, 'b'), (2, 'a');
       PRAGMA writable_schema = ON;
       UPDATE sqlite_schema SET sql = 'CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT COLLATE app_coll)' WHERE name = 'r';
       UPDATE sqlite_schema SET sql = 'CREATE INDEX r_v ON r (v COLLATE app_coll)' WHERE name = 'r_v';`,
    ]);
    const plan = planFromFile(f);
    const r = plan.tables[0]!;
    expect(r.rowCount).toBe(2);
    expect(r.columns[1]!.warnings.join()).toMatch(/app_coll is application-defined/);
    expect(r.indexes[0]!.notes!.join()).toMatch(/app_coll/);
    const g = path.join(dir, 'coll2.db');
    execFileSync(cli!, [
      g,
      `CREATE TABLE w (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID; INSERT INTO w VALUES ('a', 'b');
       PRAGMA writable_schema = ON;
       UPDATE sqlite_schema SET sql = 'CREATE TABLE w (k TEXT COLLATE app_coll PRIMARY KEY, v TEXT) WITHOUT ROWID' WHERE name = 'w';`,
    ]);
    expect(() => planFromFile(g)).toThrow(/WITHOUT ROWID table whose primary key uses the application-defined collation "app_coll"/);
  });
});

describe('renderPlan', () => {
  it('shows every mapping with its reason, warnings, suggestions, skipped objects', () => {
    const plan = planFromFile(
      file(`CREATE TABLE users (id INTEGER PRIMARY KEY, is_admin INTEGER, email VARCHAR(20) UNIQUE, created INTEGER, price REAL CHECK (price >= 0), k CHECK (typeof(k) = 'text'));
            CREATE VIEW v AS SELECT date('now');
            INSERT INTO users VALUES (1, 0, 'a@b.c', 1700000000, 1.5, 'x'), (2, 1, 'd@e.f', 1700000500, 2, 'y');`),
    );
    const text = renderPlan(plan);
    expect(text).toMatch(/Table users — 2 row\(s\)/);
    expect(text).toMatch(/price\s+REAL\s+double precision\s+float/);
    expect(text).toMatch(/check users_check1: CHECK \("price" >= 0\)/);
    expect(text).toMatch(/check users_check2: NOT CREATED — function typeof\(\)/);
    expect(text).toMatch(/\? is_admin: .*boolean/);
    expect(text).toMatch(/view v: view not migrated/);
    expect(text).toMatch(/--infer/);
    expect(text).toMatch(/unique \(email\) as users_email_key/);
  });
});
