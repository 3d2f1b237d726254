// FK orphans: rows whose foreign key points at no parent row. Read-only on
// the source (PRAGMA foreign_key_check, which ignores PRAGMA foreign_keys).
import { quoteSqliteIdent, type SqliteDb } from '../sqlite/open';
import type { SqliteForeignKey, SqliteSchema, SqliteTable } from '../sqlite/introspect';
import { rowidName } from '../sqlite/reader';

export interface OrphanFinding {
  table: string;
  /** PRAGMA foreign_key_list id. */
  fkId: number;
  fk: string;
  parent: string;
  count: number;
  examples: string[];
  /** SQLite predicate true for exactly the orphan rows of this FK. */
  sqliteWhere: string;
}

const MAX_EXAMPLES = 3;

function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (Buffer.isBuffer(v)) return `x'${v.toString('hex')}'`;
  return `'${String(v).replace(/'/g, "''")}'`;
}

/** The parent's key columns a FK refers to (its primary key when the FK names none). */
function parentColumns(fk: SqliteForeignKey, parent: SqliteTable | undefined): string[] | null {
  if (fk.refColumns.every((c) => c !== null && c !== '')) return fk.refColumns as string[];
  if (!parent) return null;
  if (parent.primaryKey.length === fk.columns.length) return parent.primaryKey;
  if (fk.columns.length === 1) return [rowidName(parent.columns.map((c) => c.name)) ?? 'rowid'];
  return null;
}

/** The predicate (over the child table, unqualified) true for an orphan row. */
export function orphanPredicate(child: SqliteTable, fk: SqliteForeignKey, parent: SqliteTable | undefined): string | null {
  const pcols = parentColumns(fk, parent);
  if (!pcols || pcols.length !== fk.columns.length) return null;
  const c = quoteSqliteIdent(child.name);
  const notNull = fk.columns.map((col) => `${c}.${quoteSqliteIdent(col)} IS NOT NULL`).join(' AND ');
  const match = fk.columns.map((col, i) => `cutover_parent.${quoteSqliteIdent(pcols[i]!)} = ${c}.${quoteSqliteIdent(col)}`).join(' AND ');
  return `(${notNull} AND NOT EXISTS (SELECT 1 FROM ${quoteSqliteIdent(fk.refTable)} AS cutover_parent WHERE ${match}))`;
}

export function fkLabel(table: string, fk: SqliteForeignKey): string {
  return `${fk.name ? `${fk.name} ` : ''}${table}(${fk.columns.join(', ')}) → ${fk.refTable}(${fk.refColumns.map((c) => c ?? '').join(', ')})`;
}

/**
 * Every FK with orphans, by PRAGMA foreign_key_check. FKs whose parent table is absent
 * from the source are not checked (the plan skips them); a table whose FK check cannot run
 * (e.g. "foreign key mismatch": the parent columns are not unique) is skipped too.
 */
export function findOrphans(db: SqliteDb, schema: SqliteSchema, onTable?: (table: string) => void): OrphanFinding[] {
  const out: OrphanFinding[] = [];
  const byName = new Map(schema.tables.map((t) => [t.name.toLowerCase(), t]));
  for (const t of schema.tables) {
    if (t.foreignKeys.length === 0) continue;
    onTable?.(t.name);
    let rows: { table: string; rowid: bigint | number | null; parent: string; fkid: bigint | number }[];
    try {
      rows = db.prepare(`PRAGMA main.foreign_key_check(${quoteSqliteIdent(t.name)})`).all() as typeof rows;
    } catch {
      continue;
    }
    if (rows.length === 0) continue;
    const perFk = new Map<number, { count: number; rowids: (bigint | number | null)[] }>();
    for (const r of rows) {
      const id = Number(r.fkid);
      let e = perFk.get(id);
      if (!e) perFk.set(id, (e = { count: 0, rowids: [] }));
      e.count++;
      if (e.rowids.length < MAX_EXAMPLES) e.rowids.push(r.rowid);
    }
    for (const [id, e] of perFk) {
      const fk = t.foreignKeys.find((f) => f.id === id);
      if (!fk) continue;
      const parent = byName.get(fk.refTable.toLowerCase());
      if (!parent) continue;
      const where = orphanPredicate(t, fk, parent);
      if (!where) continue;
      out.push({ table: t.name, fkId: id, fk: fkLabel(t.name, fk), parent: fk.refTable, count: e.count, examples: examples(db, t, fk, e.rowids, where), sqliteWhere: where });
    }
  }
  return out;
}

function examples(db: SqliteDb, t: SqliteTable, fk: SqliteForeignKey, rowids: (bigint | number | null)[], where: string): string[] {
  const q = quoteSqliteIdent(t.name);
  const fkCols = fk.columns.map(quoteSqliteIdent).join(', ');
  const keyCols = t.withoutRowid ? t.primaryKey : [t.rowidAlias ?? rowidName(t.columns.map((c) => c.name)) ?? 'rowid'];
  const keySel = keyCols.map(quoteSqliteIdent).join(', ');
  let rows: Record<string, unknown>[];
  try {
    if (!t.withoutRowid && rowids.every((r) => r !== null)) {
      const rid = rowidName(t.columns.map((c) => c.name)) ?? 'rowid';
      const stmt = db.prepare(`SELECT ${keySel}, ${fkCols} FROM ${q} WHERE ${quoteSqliteIdent(rid)} = ?`).raw(true);
      rows = rowids.map((r) => stmt.get(r) as unknown[]).filter(Boolean).map((r) => ({ r }));
    } else {
      rows = (db.prepare(`SELECT ${keySel}, ${fkCols} FROM ${q} WHERE ${where} LIMIT ${MAX_EXAMPLES}`).raw(true).all() as unknown[][]).map((r) => ({ r }));
    }
  } catch {
    return [];
  }
  return rows.map(({ r }) => {
    const vals = r as unknown[];
    const key = keyCols.map((k, i) => `${k}=${sqlLiteral(vals[i])}`).join(', ');
    const ref = fk.columns.map((c, i) => `${c}=${sqlLiteral(vals[keyCols.length + i])}`).join(', ');
    return `${key} (${ref})`;
  });
}

/** The message for policy "fail": table, FK, count and example keys of each. */
export function orphanFailureMessage(findings: OrphanFinding[]): string {
  const total = findings.reduce((s, f) => s + f.count, 0);
  const parts = findings
    .slice(0, 10)
    .map((f) => `${f.table}: ${f.count} row(s) violate foreign key ${f.fk}, e.g. ${f.examples.join('; ') || '(no example readable)'}`);
  return (
    `the source has ${total} row(s) whose foreign key points at no parent row (PRAGMA foreign_key_check): ${parts.join(' | ')}${findings.length > 10 ? ` | and ${findings.length - 10} more foreign key(s)` : ''}. ` +
    'Nothing was copied. Fix them in the source, or start a new run with orphans "reject" (move them to cutover.rejects) or "keep" (load them and leave the foreign key NOT VALID).'
  );
}
