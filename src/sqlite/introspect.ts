// Reads everything a SQLite file declares: tables, columns, keys, indexes,
// FKs, CHECKs, views and triggers. Read-only; pragmas plus the stored SQL.
import type { SkippedObject } from '../types';
import { quoteSqliteIdent, type SqliteDb } from './open';
import { parseCreateTable, partialIndexWhere } from './sql-text';
import type { SqliteColumn } from './types';

export interface SqliteIndex {
  name: string;
  unique: boolean;
  /** 'c' CREATE INDEX, 'u' UNIQUE constraint, 'pk' PRIMARY KEY. */
  origin: 'c' | 'u' | 'pk';
  partial: boolean;
  /** Column names; null entries are expressions. */
  columns: (string | null)[];
  /** Per-column DESC flag. */
  desc: boolean[];
  /** Per-column collation (BINARY, NOCASE, RTRIM or an application-defined name). */
  collations: string[];
  where: string | null;
  sql: string | null;
}

export interface SqliteForeignKey {
  id: number;
  columns: string[];
  refTable: string;
  /** Empty entries mean "the referenced table's primary key". */
  refColumns: (string | null)[];
  onDelete: string;
  onUpdate: string;
  deferrable: boolean;
  name: string | null;
}

export interface SqliteCheck {
  name: string | null;
  column: string | null;
  expr: string;
}

export interface SqliteTable {
  name: string;
  sql: string;
  withoutRowid: boolean;
  strict: boolean;
  autoincrement: boolean;
  columns: SqliteColumn[];
  /** Primary key column names in key order, or empty. */
  primaryKey: string[];
  /** The INTEGER PRIMARY KEY column aliasing rowid, if any. */
  rowidAlias: string | null;
  indexes: SqliteIndex[];
  foreignKeys: SqliteForeignKey[];
  checks: SqliteCheck[];
  rowCount: number;
  sqliteSequence: bigint | null;
}

export interface SqliteSchema {
  tables: SqliteTable[];
  views: { name: string; sql: string }[];
  triggers: { name: string; table: string; sql: string }[];
  skipped: SkippedObject[];
  journalMode: string;
  sqliteVersion: string;
}

interface TableListRow {
  schema: string;
  name: string;
  type: 'table' | 'view' | 'shadow' | 'virtual';
  ncol: number;
  wr: number | bigint;
  strict: number | bigint;
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v ?? 0));

export function introspect(db: SqliteDb, opts: { countRows?: boolean } = {}): SqliteSchema {
  const countRows = opts.countRows ?? true;
  const master = db
    .prepare(`SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid`)
    .all() as { type: string; name: string; tbl_name: string; sql: string | null }[];
  const sqlOf = new Map(master.filter((m) => m.type === 'table').map((m) => [m.name, m.sql ?? '']));

  const list = db.prepare(`PRAGMA main.table_list`).all() as TableListRow[];
  const skipped: SkippedObject[] = [];
  const tables: SqliteTable[] = [];
  let hasSequence = false;

  for (const entry of list) {
    if (entry.schema !== 'main') continue;
    if (entry.type === 'view') continue;
    if (entry.name === 'sqlite_sequence') {
      hasSequence = true;
      continue;
    }
    if (entry.name.startsWith('sqlite_')) {
      if (entry.name !== 'sqlite_schema' && entry.name !== 'sqlite_master' && entry.name !== 'sqlite_temp_master')
        skipped.push({ kind: 'table', name: entry.name, reason: 'SQLite internal table', sql: null });
      continue;
    }
    if (entry.type === 'virtual') {
      skipped.push({
        kind: 'table',
        name: entry.name,
        reason: 'virtual table (e.g. FTS/R*Tree): its module does not exist in PostgreSQL; recreate it with a PostgreSQL equivalent (tsvector, GiST)',
        sql: sqlOf.get(entry.name) ?? null,
      });
      continue;
    }
    if (entry.type === 'shadow') {
      skipped.push({ kind: 'table', name: entry.name, reason: 'shadow table of a virtual table', sql: null });
      continue;
    }
    tables.push(readTable(db, entry, sqlOf.get(entry.name) ?? ''));
  }

  if (hasSequence) {
    const seqs = db.prepare(`SELECT name, seq FROM sqlite_sequence`).all() as { name: string; seq: bigint | number }[];
    for (const s of seqs) {
      const t = tables.find((x) => x.name === s.name);
      if (t) t.sqliteSequence = BigInt(s.seq);
    }
  }
  if (countRows) {
    for (const t of tables) t.rowCount = countTableRows(db, t);
  }

  const views = master.filter((m) => m.type === 'view').map((m) => ({ name: m.name, sql: m.sql ?? '' }));
  const triggers = master
    .filter((m) => m.type === 'trigger')
    .map((m) => ({ name: m.name, table: m.tbl_name, sql: m.sql ?? '' }));
  const journalMode = String((db.pragma('journal_mode') as { journal_mode: string }[])[0]?.journal_mode ?? '');
  const sqliteVersion = String((db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v);
  return { tables, views, triggers, skipped, journalMode, sqliteVersion };
}

/** Built into SQLite; any other collation name is application-defined and unknown to us. */
export const BUILTIN_COLLATIONS = new Set(['BINARY', 'NOCASE', 'RTRIM']);

/** A source table SQLite cannot read without the application that wrote it. */
export class SourceUnreadableError extends Error {}

/**
 * count(*) may pick a covering index, and an index with an application-defined collation cannot
 * be opened (better-sqlite3 cannot register collations): count the table itself (NOT INDEXED).
 */
function countTableRows(db: SqliteDb, t: SqliteTable): number {
  const q = quoteSqliteIdent(t.name);
  try {
    return num((db.prepare(`SELECT count(*) AS n FROM ${q} NOT INDEXED`).get() as { n: bigint }).n);
  } catch (err) {
    const msg = (err as Error).message;
    if (/no such collation sequence|no query solution/i.test(msg)) {
      const unknown = unknownCollations(t);
      throw new SourceUnreadableError(
        `table "${t.name}" cannot be read: ${t.withoutRowid ? 'it is a WITHOUT ROWID table whose primary key uses' : 'it uses'} the application-defined collation ${unknown.map((c) => `"${c}"`).join(', ') || '(unknown)'} (SQLite says "${msg}"), which only the application that wrote the file can provide. ` +
          'Make a copy with that collation replaced (e.g. in the application: VACUUM INTO after ALTER/recreating the table with COLLATE BINARY) and migrate the copy.',
      );
    }
    throw err;
  }
}

/** Application-defined collations a table's columns or indexes declare. */
export function unknownCollations(t: SqliteTable): string[] {
  const out = new Set<string>();
  for (const c of t.columns) if (c.collation && !BUILTIN_COLLATIONS.has(c.collation.toUpperCase())) out.add(c.collation);
  for (const ix of t.indexes) for (const c of ix.collations) if (!BUILTIN_COLLATIONS.has(c.toUpperCase())) out.add(c);
  return [...out];
}

function readTable(db: SqliteDb, entry: TableListRow, sql: string): SqliteTable {
  const q = quoteSqliteIdent(entry.name);
  const parsed = parseCreateTable(sql);
  const xinfo = db.prepare(`PRAGMA main.table_xinfo(${q})`).all() as {
    name: string;
    type: string;
    notnull: number | bigint;
    dflt_value: string | null;
    pk: number | bigint;
    hidden: number | bigint;
  }[];
  const columns: SqliteColumn[] = xinfo.map((c) => ({
    name: c.name,
    declaredType: c.type ?? '',
    notNull: num(c.notnull) === 1,
    defaultSql: c.dflt_value,
    pkIndex: num(c.pk),
    hidden: num(c.hidden),
    collation: parsed.columns.find((p) => p.name.toLowerCase() === c.name.toLowerCase())?.collation ?? null,
  }));
  const primaryKey = columns
    .filter((c) => c.pkIndex > 0)
    .sort((a, b) => a.pkIndex - b.pkIndex)
    .map((c) => c.name);
  const withoutRowid = num(entry.wr) === 1;
  let rowidAlias: string | null = null;
  if (!withoutRowid && primaryKey.length === 1) {
    const col = columns.find((c) => c.name === primaryKey[0])!;
    // Only the exact type name INTEGER makes the column an alias of rowid
    // (https://www.sqlite.org/lang_createtable.html#rowid); "PRIMARY KEY DESC" is a known exception.
    if (col.declaredType.trim().toUpperCase() === 'INTEGER' && !/PRIMARY\s+KEY\s+DESC/i.test(sql)) rowidAlias = col.name;
  }

  const indexList = db.prepare(`PRAGMA main.index_list(${q})`).all() as {
    name: string;
    unique: number | bigint;
    origin: 'c' | 'u' | 'pk';
    partial: number | bigint;
  }[];
  const indexSql = db.prepare(`SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = ?`);
  const indexes: SqliteIndex[] = indexList.map((ix) => {
    const cols = (
      db.prepare(`PRAGMA main.index_xinfo(${quoteSqliteIdent(ix.name)})`).all() as {
        seqno: number | bigint;
        cid: number | bigint;
        name: string | null;
        desc: number | bigint;
        coll: string | null;
        key: number | bigint;
      }[]
    )
      .filter((c) => num(c.key) === 1)
      .sort((a, b) => num(a.seqno) - num(b.seqno));
    const ixSql = (indexSql.get(ix.name) as { sql: string | null } | undefined)?.sql ?? null;
    return {
      name: ix.name,
      unique: num(ix.unique) === 1,
      origin: ix.origin,
      partial: num(ix.partial) === 1,
      columns: cols.map((c) => (num(c.cid) === -2 ? null : num(c.cid) === -1 ? 'rowid' : c.name)),
      desc: cols.map((c) => num(c.desc) === 1),
      collations: cols.map((c) => c.coll ?? 'BINARY'),
      where: num(ix.partial) === 1 ? partialIndexWhere(ixSql) : null,
      sql: ixSql,
    };
  });

  const fkRows = db.prepare(`PRAGMA main.foreign_key_list(${q})`).all() as {
    id: number | bigint;
    seq: number | bigint;
    table: string;
    from: string;
    to: string | null;
    on_update: string;
    on_delete: string;
  }[];
  const byId = new Map<number, SqliteForeignKey>();
  for (const r of fkRows) {
    const id = num(r.id);
    let fk = byId.get(id);
    if (!fk) {
      fk = { id, columns: [], refTable: r.table, refColumns: [], onDelete: r.on_delete, onUpdate: r.on_update, deferrable: false, name: null };
      byId.set(id, fk);
    }
    fk.columns[num(r.seq)] = r.from;
    fk.refColumns[num(r.seq)] = r.to;
  }
  // PRAGMA foreign_key_list numbers FKs in reverse declaration order.
  const foreignKeys = [...byId.values()].sort((a, b) => b.id - a.id);
  const parsedFks = parsed.foreignKeys;
  if (parsedFks.length === foreignKeys.length) {
    foreignKeys.forEach((fk, i) => {
      if (parsedFks[i]!.refTable.toLowerCase() === fk.refTable.toLowerCase()) {
        fk.deferrable = parsedFks[i]!.deferrable;
        fk.name = parsedFks[i]!.name;
      }
    });
  }

  return {
    name: entry.name,
    sql,
    withoutRowid,
    strict: num(entry.strict) === 1,
    autoincrement: /\bAUTOINCREMENT\b/i.test(sql),
    columns,
    primaryKey,
    rowidAlias,
    indexes,
    foreignKeys,
    checks: parsed.checks,
    rowCount: 0,
    sqliteSequence: null,
  };
}
