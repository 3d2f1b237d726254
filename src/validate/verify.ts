// `cutover verify`: the validation as a standalone check of any SQLite source against any
// PostgreSQL target — also one loaded by another tool (pgloader, a script). No Temporal, no
// cutover state. Per table: existence, columns, row counts, content checksums by key range
// (compared by the TARGET column's actual type), sequences past max(id), FKs validated,
// planned keys, indexes and CHECKs present.
import pg from 'pg';
import type { IdentifierMode, MigrationPlan, TablePlan } from '../types';
import { planFromFile } from '../plan/plan-file';
import { openSource, type SqliteDb } from '../sqlite/open';
import { planChunks } from '../sqlite/chunk-bounds';
import { redactUrl } from '../postgres/connect';
import { qualified } from '../postgres/sql';
import { constraintStates, indexStates, sequenceStates, targetSchemaColumns, type ConstraintState, type IndexState, type SequenceState } from './catalog';
import { checksumProblems, compareChunk, compareLayout, compareTable, type RangeChecksum, type RowDifference } from './compare';

export interface VerifyOptions {
  source: string;
  targetUrl: string;
  targetSchema?: string;
  map?: Record<string, string>;
  infer?: boolean;
  identifiers?: IdentifierMode;
  /** Rows per compared key range (default 250000). */
  chunkSize?: number;
  batchSize?: number;
  /** Skip the content comparison (counts and structure only). */
  countsOnly?: boolean;
  /** Only these source tables. */
  tables?: string[];
  log?: (m: string) => void;
}

export interface VerifyTableReport {
  table: string;
  target: string;
  sourceRows: number;
  targetRows: number | null;
  ok: boolean;
  problems: string[];
  notes: string[];
  checksum: { mode: 'chunk' | 'table' | 'skipped'; ranges: number; mismatched: number; seconds: number } | null;
  /** The first few differing rows (values truncated). */
  differences: RowDifference[];
}

export interface VerifyReport {
  source: string;
  target: string;
  targetSchema: string;
  ok: boolean;
  tables: VerifyTableReport[];
  /** Problems not tied to one source table (e.g. the schema is missing). */
  problems: string[];
  seconds: number;
}

function sameSet(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const x = a.map((s) => s.toLowerCase()).sort();
  const y = b.map((s) => s.toLowerCase()).sort();
  return x.every((v, i) => v === y[i]);
}

function targetCols(t: TablePlan, sourceCols: string[]): string[] {
  return sourceCols.map((s) => t.columns.find((c) => c.source === s || c.source.toLowerCase() === s.toLowerCase())?.target ?? s);
}

export async function verify(opts: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const schema = opts.targetSchema ?? 'public';
  const log = opts.log ?? (() => undefined);
  const plan: MigrationPlan = planFromFile(opts.source, { targetSchema: schema, map: opts.map ?? {}, infer: opts.infer ?? false, identifiers: opts.identifiers ?? 'keep', orphans: 'keep' });
  const report: VerifyReport = { source: opts.source, target: redactUrl(opts.targetUrl), targetSchema: schema, ok: true, tables: [], problems: [], seconds: 0 };
  const client = new pg.Client({ connectionString: opts.targetUrl, application_name: 'cutover verify' });
  client.on('error', () => undefined);
  await client.connect();
  const db: SqliteDb = openSource(opts.source);
  try {
    const ns = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
    if (!ns.rowCount) {
      report.problems.push(`schema "${schema}" does not exist in the target`);
    }
    const columns = await targetSchemaColumns(client, schema);
    const constraints = await constraintStates(client, schema);
    const indexes = await indexStates(client, schema);
    const targetNames = new Map<string, string>(); // plan target → actual table name
    for (const t of plan.tables) {
      const actual = columns.has(t.target) ? t.target : [...columns.keys()].find((n) => n.toLowerCase() === t.target.toLowerCase());
      if (actual) targetNames.set(t.target, actual);
    }
    const sequences = await sequenceStates(client, schema, new Set(targetNames.values()));
    const tables = opts.tables?.length ? plan.tables.filter((t) => opts.tables!.includes(t.source)) : plan.tables;
    for (const t of tables) {
      log(`verifying ${t.source}`);
      report.tables.push(await verifyTable(db, client, plan, t, targetNames, columns, constraints, indexes, sequences, opts));
    }
    const planned = new Set(plan.tables.map((t) => targetNames.get(t.target) ?? t.target));
    const extra = [...columns.keys()].filter((n) => !planned.has(n));
    if (extra.length && !opts.tables?.length) log(`target tables not in the source (not checked): ${extra.join(', ')}`);
  } finally {
    db.close();
    await client.end().catch(() => undefined);
  }
  report.ok = report.problems.length === 0 && report.tables.every((t) => t.ok);
  report.seconds = (Date.now() - started) / 1000;
  return report;
}

async function verifyTable(
  db: SqliteDb,
  client: pg.Client,
  plan: MigrationPlan,
  t: TablePlan,
  targetNames: Map<string, string>,
  columns: Map<string, import('./catalog').TargetColumn[]>,
  constraints: ConstraintState[],
  indexes: IndexState[],
  sequences: SequenceState[],
  opts: VerifyOptions,
): Promise<VerifyTableReport> {
  const schema = plan.targetSchema;
  const out: VerifyTableReport = { table: t.source, target: t.target, sourceRows: t.rowCount, targetRows: null, ok: false, problems: [], notes: [], checksum: null, differences: [] };
  const actual = targetNames.get(t.target);
  if (!actual) {
    out.problems.push(`table ${schema}.${t.target} is missing in the target`);
    return out;
  }
  if (actual !== t.target) out.notes.push(`matched target table "${actual}" case-insensitively`);
  out.target = actual;
  const tt: TablePlan = { ...t, target: actual };
  const count = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(schema, actual)}`);
  out.targetRows = Number(count.rows[0]!.n);
  if (out.targetRows !== t.rowCount) out.problems.push(`row count mismatch: source ${t.rowCount}, target ${out.targetRows} (${t.rowCount - out.targetRows > 0 ? `${t.rowCount - out.targetRows} missing` : `${out.targetRows - t.rowCount} extra`})`);

  const layout = compareLayout(tt, schema, columns.get(actual) ?? [], { deriveConverters: true });
  for (const c of layout.missingColumns) out.problems.push(`column ${c} is missing in the target`);
  const tcols = columns.get(actual) ?? [];
  for (const c of layout.extraColumns) {
    const tc = tcols.find((x) => x.name === c);
    if (tc?.notNull && !tc.hasDefault && !tc.identity) out.problems.push(`target column ${c} is NOT NULL without a default and has no source column`);
    else out.notes.push(`target column ${c} has no source column (not compared)`);
  }
  out.notes.push(...layout.notes);

  // Content.
  if (!opts.countsOnly && layout.columns.length > 0) {
    const results: RangeChecksum[] = [];
    const cs = Date.now();
    if (layout.keyIdx) {
      const chunks = planChunks(db, t.source, t.key, t.rowCount, opts.chunkSize ?? 250_000);
      for (const ch of chunks) results.push(await compareChunk({ db, client, layout, chunk: ch, batchSize: opts.batchSize }));
    } else {
      results.push(await compareTable({ db, client, layout, batchSize: opts.batchSize }));
    }
    const bad = results.filter((r) => !r.ok);
    out.checksum = { mode: layout.keyIdx ? 'chunk' : 'table', ranges: results.length, mismatched: bad.length, seconds: (Date.now() - cs) / 1000 };
    for (const r of bad) {
      out.problems.push(...checksumProblems(r));
      if (r.firstDifference && out.differences.length < 10) out.differences.push(r.firstDifference, ...(r.moreDifferences ?? []).slice(0, 10 - out.differences.length - 1));
    }
  } else if (!opts.countsOnly) out.checksum = { mode: 'skipped', ranges: 0, mismatched: 0, seconds: 0 };

  // Sequences: next value past max(id) and past sqlite_sequence; read without consuming a value.
  for (const s of sequences.filter((x) => x.table === actual)) {
    if (s.next === null) continue;
    const next = BigInt(s.next);
    if (s.max !== null && next <= BigInt(s.max)) out.problems.push(`sequence ${s.sequence} of ${s.column} would hand out ${s.next}, but max(${s.column}) is ${s.max}: the next insert collides (setval past max)`);
    const col = t.columns.find((c) => c.target.toLowerCase() === s.column.toLowerCase());
    if (col?.identity && t.sqliteSequence !== null && next <= BigInt(t.sqliteSequence)) {
      out.problems.push(`sequence ${s.sequence} of ${s.column} would hand out ${s.next}, but SQLite's AUTOINCREMENT had reached ${t.sqliteSequence}: ids of deleted rows would be reused`);
    }
  }
  for (const c of t.columns.filter((c) => c.identity)) {
    if (!sequences.some((s) => s.table === actual && s.column.toLowerCase() === c.target.toLowerCase())) {
      out.notes.push(`${c.target} is an INTEGER PRIMARY KEY in the source but has no identity/serial sequence in the target: inserts must supply ids`);
    }
  }

  // Constraints and indexes.
  const mine = constraints.filter((k) => k.table === actual);
  const myIdx = indexes.filter((i) => i.table === actual);
  for (const k of mine.filter((k) => k.type === 'f' && !k.validated)) out.problems.push(`foreign key ${k.name} is NOT VALID`);
  for (const k of mine.filter((k) => k.type === 'c' && !k.validated)) out.notes.push(`CHECK ${k.name} is NOT VALID`);
  for (const i of myIdx.filter((i) => !i.valid)) out.problems.push(`index ${i.name} is INVALID (a failed CREATE INDEX CONCURRENTLY?)`);
  if (t.primaryKey?.length) {
    const cols = targetCols(t, t.primaryKey);
    if (!mine.some((k) => k.type === 'p' && sameSet(k.columns, cols))) out.problems.push(`primary key (${cols.join(', ')}) is missing`);
  }
  for (const u of t.uniques) {
    const cols = targetCols(t, u);
    const found = mine.some((k) => (k.type === 'u' || k.type === 'p') && sameSet(k.columns, cols)) || myIdx.some((i) => i.unique && sameSet(i.columns, cols));
    if (!found) out.problems.push(`UNIQUE (${cols.join(', ')}) is missing`);
  }
  for (const ix of t.indexes) {
    const cols = targetCols(t, ix.columns);
    const found = myIdx.some((i) => i.name === ix.targetName) || (!ix.keys && !ix.whereSql && myIdx.some((i) => sameSet(i.columns, cols) && (i.unique || !ix.unique)));
    if (!found) out.problems.push(`${ix.unique ? 'unique ' : ''}index ${ix.targetName} (${cols.join(', ')}) is missing`);
  }
  for (const fk of t.foreignKeys) {
    const ref = plan.tables.find((x) => x.source === fk.refTable) ?? plan.tables.find((x) => x.source.toLowerCase() === fk.refTable.toLowerCase());
    if (!ref) continue;
    const cols = targetCols(t, fk.columns);
    if (!mine.some((k) => k.type === 'f' && (k.name === fk.name || sameSet(k.columns, cols)))) out.problems.push(`foreign key ${fk.name} (${cols.join(', ')}) → ${ref.target} is missing`);
  }
  for (const ck of t.checks) {
    if (ck.pgSql === null) continue;
    if (!mine.some((k) => k.type === 'c' && k.name === ck.name)) out.notes.push(`CHECK ${ck.name} (${ck.pgSql}) not found by name (another tool may have named it differently or not created it)`);
  }
  out.ok = out.problems.length === 0;
  return out;
}

/** The report as text: one line per table, then its problems. */
export function formatVerifyReport(r: VerifyReport): string {
  const lines: string[] = [];
  lines.push(`verify ${r.source} → ${r.target} (schema ${r.targetSchema}): ${r.ok ? 'OK' : 'MISMATCHES'} in ${r.seconds.toFixed(1)}s`);
  for (const p of r.problems) lines.push(`  ! ${p}`);
  const w = Math.max(5, ...r.tables.map((t) => t.table.length));
  lines.push(`  ${'table'.padEnd(w)}  ${'source'.padStart(10)}  ${'target'.padStart(10)}  content     status`);
  for (const t of r.tables) {
    const content = t.checksum ? (t.checksum.mode === 'skipped' ? 'skipped' : `${t.checksum.ranges - t.checksum.mismatched}/${t.checksum.ranges} ${t.checksum.mode === 'table' ? 'table' : 'ranges'}`) : '-';
    lines.push(`  ${t.table.padEnd(w)}  ${String(t.sourceRows).padStart(10)}  ${String(t.targetRows ?? '-').padStart(10)}  ${content.padEnd(10)}  ${t.ok ? 'ok' : 'MISMATCH'}`);
    for (const p of t.problems) lines.push(`      ! ${p}`);
    for (const n of t.notes) lines.push(`      - ${n}`);
  }
  return lines.join('\n') + '\n';
}
