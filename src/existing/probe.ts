// The SQLite side of the existing-schema checks: queries the profile cannot answer.
import { quoteSqliteIdent, type SqliteDb } from '../sqlite/open';
import { rowidName } from '../sqlite/reader';
import type { SqliteSchema } from '../sqlite/introspect';
import type { SourceProbe } from './plan';

const MAX_EXAMPLES = 3;

function lit(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (Buffer.isBuffer(v)) return `x'${v.toString('hex')}'`;
  return `'${String(v).replace(/'/g, "''")}'`;
}

export function sqliteProbe(db: SqliteDb, schema: SqliteSchema): SourceProbe {
  const q = quoteSqliteIdent;
  const one = (sql: string): unknown => (db.prepare(sql).pluck(true).get() as unknown) ?? null;
  const num = (v: unknown) => (v === null ? 0 : Number(v));
  const keyOf = (table: string): string[] => {
    const t = schema.tables.find((x) => x.name === table);
    if (!t) return ['rowid'];
    if (t.withoutRowid) return t.primaryKey;
    return [t.rowidAlias ?? rowidName(t.columns.map((c) => c.name)) ?? 'rowid'];
  };
  return {
    maxAbs(table, column) {
      const v = one(`SELECT max(abs(${q(column)})) FROM ${q(table)} WHERE typeof(${q(column)}) IN ('integer', 'real')`);
      return v === null ? null : Number(v);
    },
    invalidJson(table, column) {
      return num(one(`SELECT count(*) FROM ${q(table)} WHERE typeof(${q(column)}) = 'text' AND NOT json_valid(${q(column)})`));
    },
    nonArrays(table, column) {
      return num(
        one(
          `SELECT count(*) FROM ${q(table)} WHERE ${q(column)} IS NOT NULL AND (typeof(${q(column)}) <> 'text' OR NOT json_valid(${q(column)}) OR json_type(${q(column)}) <> 'array')`,
        ),
      );
    },
    notInLabels(table, column, labels) {
      const set = labels.map(lit).join(', ') || 'NULL';
      const where = `${q(column)} IS NOT NULL AND CAST(${q(column)} AS TEXT) NOT IN (${set})`;
      const n = num(one(`SELECT count(*) FROM ${q(table)} WHERE ${where}`));
      const ex = n > 0 ? (db.prepare(`SELECT DISTINCT ${q(column)} FROM ${q(table)} WHERE ${where} LIMIT ${MAX_EXAMPLES}`).pluck(true).all() as unknown[]) : [];
      return { count: n, examples: ex.map(lit) };
    },
    float4Inexact(table, column) {
      let n = 0;
      for (const v of db.prepare(`SELECT ${q(column)} FROM ${q(table)} WHERE typeof(${q(column)}) = 'real'`).pluck(true).iterate() as Iterable<number>) {
        if (Number.isFinite(v) && Math.fround(v) !== v) n++;
      }
      return n;
    },
    orphans(table, where) {
      const n = num(one(`SELECT count(*) FROM ${q(table)} WHERE ${where}`));
      if (n === 0) return { count: 0, examples: [] };
      const key = keyOf(table);
      const rows = db.prepare(`SELECT ${key.map(q).join(', ')} FROM ${q(table)} WHERE ${where} LIMIT ${MAX_EXAMPLES}`).raw(true).all() as unknown[][];
      return { count: n, examples: rows.map((r) => key.map((k, i) => `${k}=${lit(r[i])}`).join(', ')) };
    },
  };
}
