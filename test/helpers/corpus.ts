// The hostile corpus: SQLite files built by the tests, each quirk in a small table.
import Database from 'better-sqlite3';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

/** The sqlite3 shell, if installed (needed to write an application-defined collation into a schema). */
export const SQLITE3_CLI = ['/usr/bin/sqlite3', '/usr/local/bin/sqlite3', '/opt/homebrew/bin/sqlite3'].find((p) => existsSync(p)) ?? null;

export const SHARED_CORPUS = '/work/shared/corpus';

/** Copies the read-only shared corpus files into `dir` (never touching the originals). */
export function copySharedCorpus(dir: string): string[] {
  if (!existsSync(SHARED_CORPUS)) return [];
  return readdirSync(SHARED_CORPUS)
    .filter((f) => /\.(sqlite|db)$/i.test(f))
    .sort()
    .map((f) => {
      const to = path.join(dir, f);
      copyFileSync(path.join(SHARED_CORPUS, f), to);
      return to;
    });
}

const QUIRKS_SQL = `
-- values PostgreSQL cannot hold as they are: each row is rejected with a reason
CREATE TABLE nul_text (id INTEGER PRIMARY KEY, t TEXT);
CREATE TABLE bad_utf8 (id INTEGER PRIMARY KEY, t TEXT);
CREATE TABLE bad_dates (id INTEGER PRIMARY KEY, d DATE, ts DATETIME, tz TIMESTAMP);
CREATE TABLE bad_json (id INTEGER PRIMARY KEY, j JSON);
-- values whose declared type lies: kept exactly with a wider type
CREATE TABLE text_in_int (id INTEGER PRIMARY KEY, n INTEGER);
CREATE TABLE long_varchar (id INTEGER PRIMARY KEY, v VARCHAR(5), w VARCHAR(3));
CREATE TABLE mixed (id INTEGER PRIMARY KEY, m, n NUMERIC, u "unsigned big int", e ENUM, y YEAR, weird INTEGER_OR_TEXT);
-- numeric extremes
CREATE TABLE extremes (id INTEGER PRIMARY KEY, i INTEGER, r REAL, d DOUBLE, f FLOAT, dec DECIMAL(10,2), small SMALLINT, tiny tinyint);
-- bytes
CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB, notype);
-- names
CREATE TABLE "select" ("from" TEXT, "Ünïcødé 名前" TEXT, "with space" INTEGER, "quote""d" TEXT, "UPPER" TEXT, "group" INTEGER);
CREATE TABLE "a_table_name_that_is_far_longer_than_sixty_three_bytes_in_postgres_1" (
  "a_column_name_that_is_far_longer_than_sixty_three_bytes_in_postgres_x" TEXT,
  "a_column_name_that_is_far_longer_than_sixty_three_bytes_in_postgres_y" TEXT);
CREATE TABLE "a_table_name_that_is_far_longer_than_sixty_three_bytes_in_postgres_2" (v TEXT);
CREATE TABLE "日本語の表" ("列" TEXT PRIMARY KEY, "値" INTEGER);
-- keys
CREATE TABLE composite (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE autoinc (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
CREATE TABLE strict_t (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, a ANY) STRICT;
CREATE TABLE gen (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) STORED, c TEXT GENERATED ALWAYS AS (upper(v)) VIRTUAL, v TEXT);
-- constraints
CREATE TABLE parent (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE COLLATE NOCASE, name TEXT);
CREATE TABLE items (
  id INTEGER PRIMARY KEY,
  parent_id INTEGER REFERENCES parent(id) ON DELETE CASCADE ON UPDATE SET NULL DEFERRABLE INITIALLY DEFERRED,
  price REAL NOT NULL CHECK (price >= 0),
  qty INTEGER DEFAULT 1 CHECK (qty BETWEEN 0 AND 1000),
  status TEXT DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped')),
  sku TEXT CHECK (sku LIKE 'SKU-%' AND sku GLOB 'SKU-[0-9]*'),
  name TEXT COLLATE NOCASE CHECK (length(name) <= 20),
  is_active BOOLEAN NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  kind TEXT CHECK (kind IS NULL OR typeof(kind) = 'text'),
  note TEXT,
  CONSTRAINT "price and qty" CHECK (price * qty < 1000000 OR qty IS NULL)
);
CREATE INDEX items_by_parent ON items (parent_id);
CREATE INDEX items_recent ON items (id DESC, price);
CREATE UNIQUE INDEX items_sku_active ON items (sku) WHERE is_active = 1 AND sku IS NOT NULL;
CREATE INDEX items_lower_note ON items (lower(note));
CREATE INDEX items_json ON items (json_extract(note, '$.a'));
CREATE UNIQUE INDEX items_name_nocase ON items (name);
CREATE TABLE defaults_t (
  id INTEGER PRIMARY KEY,
  n INTEGER DEFAULT 42, r REAL DEFAULT -1.5, s TEXT DEFAULT 'it''s', q TEXT DEFAULT "dq",
  created TEXT DEFAULT CURRENT_TIMESTAMP, d DATETIME DEFAULT (datetime('now')), b BOOLEAN DEFAULT TRUE,
  neg INTEGER DEFAULT -7, hexd INTEGER DEFAULT 0x10, quoted_num INTEGER DEFAULT '5'
);
CREATE VIEW active_items AS SELECT i.id, i.name AS item_name, p.code FROM items i JOIN parent p ON p.id = i.parent_id WHERE i.is_active = 1;
CREATE VIEW items_by_month AS SELECT strftime('%Y-%m', note) AS month, count(*) AS n FROM items GROUP BY 1;
CREATE TRIGGER items_touch AFTER UPDATE ON items BEGIN UPDATE items SET note = 'touched' WHERE id = NEW.id; END;
`;

/** Builds the hostile corpus file: returns its path. */
export function buildQuirksDb(dir: string): string {
  const file = path.join(dir, 'quirks.db');
  const db = new Database(file);
  db.defaultSafeIntegers(true);
  db.exec(QUIRKS_SQL);
  const ins = (sql: string, ...rows: unknown[][]) => {
    const st = db.prepare(sql);
    for (const r of rows) st.run(...r);
  };
  db.exec(`INSERT INTO nul_text VALUES (1, 'fine'), (2, CAST(x'61006200' AS TEXT)), (3, 'also fine')`);
  db.exec(`INSERT INTO bad_utf8 VALUES (1, 'ok'), (2, CAST(x'fffe41' AS TEXT)), (3, CAST(x'c328' AS TEXT)), (4, '\uFFFD a real replacement character')`);
  db.exec(`INSERT INTO bad_dates VALUES (1, '2024-02-29', '2024-02-29 13:14:15.123456', '2024-02-29T13:14:15Z'),
    (2, '2023-02-30', '2023-01-01 00:00:00', '2023-01-01 00:00:00+02:00'),
    (3, '2023-01-01', '2023-13-01 25:61:00', '2023-01-01 00:00:00Z'),
    (4, '1999-12-31', '1999-12-31 23:59:59', '1999-12-31 23:59:59.5-05:30')`);
  db.exec(`INSERT INTO bad_json VALUES (1, '{"a": 1, "b": [true, null]}'), (2, '{not json'), (3, '[]'), (4, NULL)`);
  db.exec(`INSERT INTO text_in_int VALUES (1, 1), (2, 'abc'), (3, 3), (4, '42'), (5, 2.5)`);
  db.exec(`INSERT INTO long_varchar VALUES (1, 'abc', 'xy'), (2, 'abcdefghij', 'zzz'), (3, 'ünï', 'é')`);
  ins(`INSERT INTO mixed VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [1n, 1n, '1.50', 9223372036854775807n, 'red', 2024n, 'x'],
    [2n, 2.5, 3n, 1n, 'green', '2025', 7n],
    [3n, 'text', 1e-7, null, null, null, 2.5],
    [4n, Buffer.from([1, 2, 3]), null, 0n, 'blue', 1999n, null],
    [5n, null, '12345678901234567890.123456789', -1n, '', 0n, Buffer.from('b')]);
  ins(`INSERT INTO extremes VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [1n, 9223372036854775807n, -0.0, 1.7976931348623157e308, 5e-324, '12345678.99', 32767n, 127n],
    [2n, -9223372036854775808n, Infinity, -Infinity, 0.1, '-0.01', -32768n, -128n],
    [3n, 0n, 1e-310, 2 ** 53 + 2, -1e-7, 99999999.99, 0n, 1000n],
    [4n, 9007199254740993n, 0.30000000000000004, 123456789.123456789, 1e21, null, null, null]);
  ins(`INSERT INTO blobs VALUES (?, ?, ?)`,
    [1n, Buffer.alloc(0), Buffer.from([0, 255])],
    [2n, Buffer.alloc(1_000_000, 0xab), 'text in a no-type column'],
    [3n, 'text declared BLOB', 42n],
    [4n, Buffer.from('\\x00\t\n\\'), 1.5],
    [5n, null, null]);
  ins(`INSERT INTO "select" VALUES (?, ?, ?, ?, ?, ?)`, ['a\tb\nc\\d', '名前', 1n, 'q"', 'UP', 1n], [null, 'Ünïcødé 🚀', null, "it's", '', 2n]);
  ins(`INSERT INTO "a_table_name_that_is_far_longer_than_sixty_three_bytes_in_postgres_1" VALUES (?, ?)`, ['x', 'y']);
  ins(`INSERT INTO "a_table_name_that_is_far_longer_than_sixty_three_bytes_in_postgres_2" VALUES (?)`, ['v']);
  ins(`INSERT INTO "日本語の表" VALUES (?, ?)`, ['一', 1n], ['二', 2n]);
  for (let i = 0n; i < 50n; i++) ins(`INSERT INTO composite VALUES (?, ?, ?)`, [`k${i % 3n}`, i, i % 4n === 0n ? null : `v${i}`]);
  ins(`INSERT INTO autoinc (id, v) VALUES (?, ?)`, [1n, 'a'], [2n, 'b']);
  db.exec(`UPDATE sqlite_sequence SET seq = 100 WHERE name = 'autoinc'`);
  ins(`INSERT INTO strict_t VALUES (?, ?, ?, ?, ?, ?)`, [1n, 5n, 1.5, 't', Buffer.from([1]), 'any text'], [2n, -1n, 2n, '', null, 3n], [3n, null, null, null, null, 2.5]);
  ins(`INSERT INTO gen (id, a, v) VALUES (?, ?, ?)`, [1n, 2n, 'x'], [2n, null, null]);
  ins(`INSERT INTO parent VALUES (?, ?, ?)`, [1n, 'ABC', 'first'], [2n, 'def', 'second'], [3n, 'Ghi', null]);
  ins(`INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [1n, 1n, 9.99, 3n, 'new', 'SKU-1', 'Widget', 1n, 'tool', '{"a": 1}'],
    [2n, 2n, 0, 0n, 'paid', 'SKU-22', 'gadget', 0n, 'toy', null],
    [3n, null, 1e5, null, 'shipped', null, 'Thing', 1n, null, '"plain"'],
    [4n, 1n, 0.5, 1000n, 'new', 'SKU-3', null, 0n, 'x', '"Plain"']);
  ins(`INSERT INTO defaults_t (id) VALUES (?)`, [1n]);
  db.close();
  return file;
}

/** A WAL-mode file (its -wal file left behind as an application would). */
export function buildWalDb(dir: string): string {
  const file = path.join(dir, 'wal.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec(`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL, at DATETIME DEFAULT CURRENT_TIMESTAMP)`);
  const st = db.prepare(`INSERT INTO notes (id, body, at) VALUES (?, ?, ?)`);
  for (let i = 1; i <= 200; i++) st.run(i, `note ${i}`, `2024-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:00`);
  db.close();
  return file;
}

/**
 * A table and an index declaring an application-defined collation (as an app with
 * sqlite3_create_collation writes them): made with PRAGMA writable_schema, since neither
 * better-sqlite3 nor the sqlite3 shell can register collations.
 */
export function buildCollationDb(dir: string): string {
  const file = path.join(dir, 'collation.db');
  const db = new Database(file);
  db.exec(`CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, tag TEXT COLLATE NOCASE, padded TEXT COLLATE RTRIM);
           CREATE INDEX people_name ON people (name);
           CREATE UNIQUE INDEX people_tag ON people (tag);`);
  const st = db.prepare(`INSERT INTO people VALUES (?, ?, ?, ?)`);
  st.run(1, 'Ångström', 'a', 'x  ');
  st.run(2, 'zed', 'B', 'y');
  st.run(3, 'Émile', 'c', null);
  db.close();
  // better-sqlite3 runs SQLite in defensive mode (no writable_schema): the sqlite3 shell does it.
  execFileSync(SQLITE3_CLI!, [
    file,
    `PRAGMA writable_schema = ON;
     UPDATE sqlite_schema SET sql = replace(sql, 'name TEXT,', 'name TEXT COLLATE app_specific,') WHERE name = 'people';
     UPDATE sqlite_schema SET sql = 'CREATE INDEX people_name ON people (name COLLATE app_specific)' WHERE name = 'people_name';`,
  ]);
  return file;
}

/** FK orphans: default policy must stop before copying. */
export function buildOrphansDb(dir: string): string {
  const file = path.join(dir, 'orphans.db');
  const db = new Database(file);
  db.pragma('foreign_keys = OFF');
  db.exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);
           CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL);
           INSERT INTO customers VALUES (1, 'a'), (2, 'b');
           INSERT INTO orders VALUES (10, 1, 1.0), (11, 99, 2.0), (12, NULL, 3.0), (13, 77, 4.0), (14, 2, 5.0);`);
  db.close();
  return file;
}
