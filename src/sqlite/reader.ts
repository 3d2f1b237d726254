// Keyset reader: batches in key order, bounded by a chunk's key range. Never
// OFFSET: a resumed read starts exactly after the last committed key.
import type { KeyPlan, KeyTuple, KeyValue } from '../types';
import { quoteSqliteIdent, type SqliteDb } from './open';
import type { SqliteValue } from './types';

/** The name under which a rowid table exposes its rowid, avoiding a column of the same name. */
export function rowidName(columnNames: string[]): string | null {
  const lower = new Set(columnNames.map((c) => c.toLowerCase()));
  for (const candidate of ['rowid', '_rowid_', 'oid']) if (!lower.has(candidate)) return candidate;
  return null;
}

/**
 * True when some table would be read through an index: a rowid table keyed by its primary key
 * because every name of its rowid is taken by a column (build-plan.ts picks the key the same way).
 * Only then does an index's content decide what is copied, and preflight runs the full
 * integrity_check instead of quick_check.
 */
export function needsFullIntegrityCheck(tables: readonly { withoutRowid: boolean; primaryKey: readonly string[] | null; columns: readonly { name: string }[] }[]): boolean {
  return tables.some((t) => !t.withoutRowid && (t.primaryKey?.length ?? 0) > 0 && rowidName(t.columns.map((c) => c.name)) === null);
}

export function encodeKeyValue(v: SqliteValue): KeyValue {
  if (v === null) return { t: 'n' };
  if (typeof v === 'bigint') return { t: 'i', v: v.toString() };
  if (typeof v === 'number') return { t: 'r', v: Number.isFinite(v) ? v : String(v) };
  if (typeof v === 'string') return { t: 's', v };
  return { t: 'b', v: v.toString('hex') };
}

export function decodeKeyValue(k: KeyValue): SqliteValue {
  switch (k.t) {
    case 'n':
      return null;
    case 'i':
      return BigInt(k.v);
    case 'r':
      return typeof k.v === 'number' ? k.v : Number(k.v);
    case 's':
      return k.v;
    case 'b':
      return Buffer.from(k.v, 'hex');
  }
}

export { formatKey } from '../keys';

/**
 * True when a one-column SELECT compiles to the Rowid opcode and no Column opcode: SQLite reads
 * the column as the rowid itself. Pure: takes the EXPLAIN listing's opcodes.
 */
export function compilesToRowid(opcodes: readonly string[]): boolean {
  return opcodes.includes('Rowid') && !opcodes.includes('Column');
}

/**
 * Which of `candidates` SQLite reads as the table's rowid (an INTEGER PRIMARY KEY), as SQLite
 * compiles `SELECT column FROM table NOT INDEXED` — not as the schema text suggests, so a quirk
 * (e.g. `INTEGER PRIMARY KEY DESC`, which is not an alias) cannot make us substitute one value
 * for another. Readers that also select the rowid then read that column once instead of twice.
 */
export function rowidAliasOf(db: SqliteDb, table: string, candidates: readonly string[]): string | null {
  for (const c of candidates) {
    try {
      const ops = (db.prepare(`EXPLAIN SELECT ${quoteSqliteIdent(c)} FROM ${quoteSqliteIdent(table)} NOT INDEXED`).all() as { opcode: string }[]).map((r) => r.opcode);
      if (compilesToRowid(ops)) return c;
    } catch {
      // Not answerable (e.g. a view): no alias.
    }
  }
  return null;
}

export interface KeysetQuery {
  /** Selects key columns first, then the copied columns. */
  sql: string;
  keyWidth: number;
}

/**
 * Pure: the SQL of one keyset batch. Parameters: [lo..., hi..., limit] as present. With
 * `rowidAlias` (an index into `columns`, for a rowid key) that column is selected as NULL: it is
 * the rowid, already selected as the key, and the reader copies the key into its place.
 */
export function compileKeysetQuery(
  table: string,
  key: KeyPlan,
  columns: string[],
  opts: { hasLo: boolean; hasHi: boolean; rowidAlias?: number | null },
): KeysetQuery {
  const keyCols = key.columns.map(quoteSqliteIdent);
  const tuple = keyCols.length === 1 ? keyCols[0]! : `(${keyCols.join(', ')})`;
  const params = keyCols.length === 1 ? '?' : `(${keyCols.map(() => '?').join(', ')})`;
  const where: string[] = [];
  if (opts.hasLo) where.push(`${tuple} > ${params}`);
  if (opts.hasHi) where.push(`${tuple} <= ${params}`);
  const sql =
    `SELECT ${[...keyCols, ...columns.map((c, i) => (i === opts.rowidAlias ? 'NULL' : quoteSqliteIdent(c)))].join(', ')} FROM ${quoteSqliteIdent(table)}` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ` ORDER BY ${keyCols.join(', ')} LIMIT ?`;
  return { sql, keyWidth: keyCols.length };
}

export interface Batch {
  /** Each row: key values, then column values. */
  rows: SqliteValue[][];
  lastKey: KeyTuple | null;
}

/** Rows per native call in KeysetReader.scan, at most. */
export const SCAN_STEP = 1000;

/** Reads batches of one chunk, starting after `after` (exclusive), up to `hi` (inclusive). */
export class KeysetReader {
  private readonly stmts = new Map<string, ReturnType<SqliteDb['prepare']>>();
  /** Index in `columns` of the rowid's alias column (read once, as the key), or -1. */
  private readonly aliasIdx: number;

  constructor(
    private readonly db: SqliteDb,
    private readonly table: string,
    private readonly key: KeyPlan,
    private readonly columns: string[],
  ) {
    const shown = key.kind === 'rowid' && key.columns.length === 1 ? key.display?.[0] : undefined;
    const alias = shown !== undefined && columns.includes(shown) ? rowidAliasOf(db, table, [shown]) : null;
    this.aliasIdx = alias === null ? -1 : columns.indexOf(alias);
  }

  private stmt(hasLo: boolean, hasHi: boolean) {
    const id = `${hasLo}:${hasHi}`;
    let s = this.stmts.get(id);
    if (!s) {
      const rowidAlias = this.aliasIdx >= 0 ? this.aliasIdx : null;
      s = this.db.prepare(compileKeysetQuery(this.table, this.key, this.columns, { hasLo, hasHi, rowidAlias }).sql).raw(true);
      this.stmts.set(id, s);
    }
    return s;
  }

  private params(after: KeyTuple | null, hi: KeyTuple | null, limit: number): SqliteValue[] {
    const params: SqliteValue[] = [];
    if (after) params.push(...after.map(decodeKeyValue));
    if (hi) params.push(...hi.map(decodeKeyValue));
    params.push(BigInt(limit));
    return params;
  }

  /**
   * The same rows as `read`, streamed: `each` sees every row as it is stepped (rows are not
   * kept, so they die young). Returns the number of rows and the key of the last one.
   */
  scan(
    after: KeyTuple | null,
    hi: KeyTuple | null,
    limit: number,
    each: (row: SqliteValue[]) => void,
    /** Rows for the next `.all()` page, given the rows read so far (wide rows want small pages); 0 ends the scan early. */
    pageRows: (rowsSoFar: number) => number = () => SCAN_STEP,
  ): { rows: number; lastKey: KeyTuple | null } {
    // Stepped in sub-batches of SCAN_STEP rows with `.all()`, each continuing after the previous
    // one's last key: the same rows in the same order as one query with LIMIT `limit` (the key is
    // unique and ordered), but ≈30% less CPU than `iterate()` (one native call per sub-batch instead
    // of one per row), and a sub-batch of rows is still short-lived.
    const width = this.key.columns.length;
    const hiParams = hi ? hi.map(decodeKeyValue) : [];
    let lo: SqliteValue[] | null = after ? after.map(decodeKeyValue) : null;
    let rows = 0;
    let last: SqliteValue[] | null = null;
    while (rows < limit) {
      const asked = Math.floor(pageRows(rows));
      if (asked <= 0 && rows > 0) break;
      const want = Math.max(1, Math.min(asked, SCAN_STEP, limit - rows));
      const stmt = this.stmt(lo !== null, hi !== null);
      const params: unknown[] = lo ? [...lo, ...hiParams, BigInt(want)] : [...hiParams, BigInt(want)];
      const batch = (stmt.all as (...args: unknown[]) => SqliteValue[][]).apply(stmt, params);
      const alias = this.aliasIdx >= 0 ? width + this.aliasIdx : -1;
      for (let i = 0; i < batch.length; i++) {
        const row = batch[i]!;
        if (alias >= 0) row[alias] = row[0]!;
        each(row);
      }
      rows += batch.length;
      if (batch.length === 0) break;
      last = batch[batch.length - 1]!;
      if (batch.length < want) break;
      // SQLite key values pass back as parameters unchanged (what decodeKeyValue(encodeKeyValue(v)) gives).
      lo = last.slice(0, width);
    }
    return { rows, lastKey: last ? last.slice(0, width).map(encodeKeyValue) : null };
  }

  read(after: KeyTuple | null, hi: KeyTuple | null, limit: number): Batch {
    const params = this.params(after, hi, limit);
    const stmt = this.stmt(after !== null, hi !== null);
    const rows = (stmt.all as (...args: unknown[]) => unknown[]).apply(stmt, params) as SqliteValue[][];
    const width = this.key.columns.length;
    if (this.aliasIdx >= 0) for (const row of rows) row[width + this.aliasIdx] = row[0]!;
    const last = rows.length ? rows[rows.length - 1]!.slice(0, width).map(encodeKeyValue) : null;
    return { rows, lastKey: last };
  }
}
