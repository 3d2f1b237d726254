// What changed between two SQLite files with the same tables: the snapshot a run copied from and a
// new snapshot of the source taken at the cutover gate. Exact, row by row in key order, so that only
// the tables whose rows really differ are copied again. Read-only on both files.
import type { KeyPlan, SourceChange } from '../types';
import { openSource, quoteSqliteIdent, type SqliteDb } from './open';
import { sameSqliteValue } from './row-compare';

export interface TableToCompare {
  name: string;
  key: KeyPlan;
}

export type SourceDiff = Pick<SourceChange, 'tables' | 'schemaChange'>;

interface SchemaObject {
  type: string;
  name: string;
  sql: string | null;
}

function schemaObjects(db: SqliteDb): Map<string, SchemaObject> {
  const rows = db
    .prepare(`SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY type, name`)
    .all() as SchemaObject[];
  return new Map(rows.map((r) => [`${r.type} ${r.name}`, r]));
}

/** Tables, indexes, views or triggers added, dropped or altered: null when the schemas are the same. */
export function schemaDifference(before: SqliteDb, after: SqliteDb): string | null {
  const a = schemaObjects(before);
  const b = schemaObjects(after);
  const out: string[] = [];
  for (const [k, o] of a) {
    const n = b.get(k);
    if (!n) out.push(`${k} dropped`);
    else if ((n.sql ?? '') !== (o.sql ?? '')) out.push(`${k} altered`);
  }
  for (const k of b.keys()) if (!a.has(k)) out.push(`${k} added`);
  return out.length ? out.join(', ') : null;
}

function showKey(key: KeyPlan, row: unknown[]): string {
  const names = key.display ?? key.columns;
  return names.map((n, i) => `${n}=${row[i] === null ? 'NULL' : Buffer.isBuffer(row[i]) ? `x'${(row[i] as Buffer).toString('hex')}'` : String(row[i])}`).join(', ');
}

/** Null when the table's rows are identical in both files, else what differs first. */
export function tableDifference(before: SqliteDb, after: SqliteDb, t: TableToCompare, onRows?: (n: number) => void): string | null {
  const q = quoteSqliteIdent(t.name);
  const count = (db: SqliteDb) => Number((db.prepare(`SELECT count(*) AS n FROM ${q}`).get() as { n: number | bigint }).n);
  const n0 = count(before);
  const n1 = count(after);
  if (n0 !== n1) return `${n1 - n0 > 0 ? n1 - n0 + ' row(s) more' : n0 - n1 + ' row(s) fewer'} (${n0} at the snapshot, ${n1} now)`;
  const keys = t.key.columns.map(quoteSqliteIdent).join(', ');
  const sql = `SELECT ${keys}, * FROM ${q} ORDER BY ${keys}`;
  const rowsOf = (db: SqliteDb) => db.prepare(sql).raw(true).safeIntegers(true).iterate() as IterableIterator<unknown[]>;
  const ia = rowsOf(before);
  const ib = rowsOf(after);
  let seen = 0;
  try {
    for (;;) {
      const ra = ia.next();
      const rb = ib.next();
      if (ra.done || rb.done) return ra.done && rb.done ? null : 'row counts differ';
      const x = ra.value;
      const y = rb.value;
      for (let i = 0; i < x.length; i++) {
        if (!sameSqliteValue(x[i], y[i])) {
          const keyChanged = t.key.columns.some((_, k) => !sameSqliteValue(x[k], y[k]));
          return keyChanged ? `rows differ from ${showKey(t.key, x)} on (a row was added, deleted or re-keyed)` : `row ${showKey(t.key, x)} changed`;
        }
      }
      if (++seen % 50_000 === 0) onRows?.(seen);
    }
  } finally {
    ia.return?.();
    ib.return?.();
  }
}

/** Compares every table of the run between the two files: schema first, then rows. */
export function diffSources(beforePath: string, afterPath: string, tables: TableToCompare[], onProgress?: (table: string, rows: number) => void): SourceDiff {
  const before = openSource(beforePath);
  const after = openSource(afterPath);
  try {
    const schemaChange = schemaDifference(before, after);
    if (schemaChange) return { tables: [], schemaChange };
    const changed: SourceDiff['tables'] = [];
    for (const t of tables) {
      onProgress?.(t.name, 0);
      const detail = tableDifference(before, after, t, (n) => onProgress?.(t.name, n));
      if (detail) changed.push({ table: t.name, detail });
    }
    return { tables: changed, schemaChange: null };
  } finally {
    before.close();
    after.close();
  }
}
