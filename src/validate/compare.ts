// Content comparison of one key range (a chunk) or a whole table, source vs target.
//
// Two passes. The fast pass (fast.ts) hashes each side as a byte stream — the source in a worker
// thread, the target from a binary COPY — and decides "equal" when both hashes and row counts
// match. Otherwise (a difference, or a value the fast pass has no wire form for) the ordered
// comparison below runs and is the verdict: it names the first differing rows.
//
// The ordered comparison:
// Source: the chunk's key range read from the SQLite snapshot with the copy's keyset reader,
// rows the copy rejected skipped. Target: the same range read back from PostgreSQL with
// COPY (SELECT …) TO STDOUT, ordered by the key's target columns. Both sides are reduced to
// canonical rows (canonical.ts) and hashed in key order (hash.ts); while reading, the two
// key-ordered streams are walked side by side, so the first changed, missing or extra row is
// named (table, chunk, key, column, both values) in the same pass.
//
// A rowid table whose rowid is not a column (no INTEGER PRIMARY KEY) has no key in the target:
// it is compared as a whole (compareTable): a multiset hash (sum of row hashes), rows matched by content.
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { ChunkPlan, ColumnPlan, ConverterSpec, KeyTuple, KeyValue, TablePlan } from '../types';
import { formatKey, rangeText } from '../keys';
import { quoteSqliteIdent, type SqliteDb } from '../sqlite/open';
import { decodeKeyValue, encodeKeyValue, KeysetReader } from '../sqlite/reader';
import type { SqliteValue } from '../sqlite/types';
import { makeEncoder } from '../plan/convert';
import { qualified, quoteIdent, quoteLiteral } from '../postgres/sql';
import {
  CANONICAL_SESSION_SQL,
  canonicalFromLiteral,
  canonTypeOf,
  converterFits,
  converterForCanon,
  rowString,
  showValue,
  sourceCanonicalizer,
  targetExpr,
  type CanonType,
  type SourceCanonicalizer,
} from './canonical';
import { unescapeCopyText } from '../plan/copy-text';
import { MultisetHash, OrderedHash, rowDigest } from './hash';
import { combineSegments, fastTargetExpr, hashSource, hashTargetCopy, multisetOfSegments, segmentRows, type FastSide, type FastSourceSpec } from './fast';
import { digestSpecId } from './chunk-digests';
import { checksumThreads, hashSourceInThread } from './source-thread';
import type { TargetColumn } from './catalog';

/** One compared column: where it comes from, where it goes, how it is compared. */
export interface ColumnPair {
  source: string;
  target: string;
  /** The target column's actual type (format_type). */
  pgType: string;
  canon: CanonType;
  converter: ConverterSpec;
}

export interface CompareLayout {
  table: TablePlan;
  schema: string;
  columns: ColumnPair[];
  /** Positions in `columns` of the key's target columns, or null: compare the whole table by content. */
  keyIdx: number[] | null;
  /** Why keyIdx is null, or notes on the matching (missing/extra columns). */
  notes: string[];
  /** Columns the plan has that the target lacks (not compared: a problem). */
  missingColumns: string[];
  /** Columns the target has that the plan lacks. */
  extraColumns: string[];
}

/**
 * Matches the plan's columns to the target's actual columns (by target name, then
 * case-insensitively) and decides how each is compared: by the TARGET's type. With
 * `deriveConverters` (cutover verify: the target may be another tool's), a plan converter that
 * does not fit the target type is replaced by the one the target type implies.
 */
export function compareLayout(table: TablePlan, schema: string, target: TargetColumn[], opts: { deriveConverters?: boolean } = {}): CompareLayout {
  const columns: ColumnPair[] = [];
  const missingColumns: string[] = [];
  const notes: string[] = [];
  const used = new Set<string>();
  const byPlan = new Map<ColumnPlan, ColumnPair>();
  for (const c of table.columns) {
    const t = target.find((x) => x.name === c.target) ?? target.find((x) => x.name.toLowerCase() === c.target.toLowerCase() && !used.has(x.name));
    if (!t) {
      missingColumns.push(c.target);
      continue;
    }
    used.add(t.name);
    const canon = canonTypeOf(t.pgType);
    let converter = c.converter;
    if (opts.deriveConverters && !converterFits(c.converter, canon)) {
      converter = converterForCanon(canon, t.pgType);
      notes.push(`${c.source}: planned as ${c.pgType}, the target column is ${t.pgType}: compared as ${t.pgType}`);
    }
    const pair: ColumnPair = { source: c.source, target: t.name, pgType: t.pgType, canon, converter };
    columns.push(pair);
    byPlan.set(c, pair);
  }
  const extraColumns = target.filter((t) => !used.has(t.name)).map((t) => t.name);
  let keyIdx: number[] | null = null;
  const key = table.key;
  const keySources = key.kind === 'rowid' ? (key.display ?? null) : key.columns;
  if (keySources === null) {
    notes.push(`no key column in the target (a rowid table without INTEGER PRIMARY KEY): compared as a whole table, rows matched by content`);
  } else {
    const idx = keySources.map((s) => {
      const plan = table.columns.find((c) => c.source === s);
      const pair = plan ? byPlan.get(plan) : undefined;
      return pair ? columns.indexOf(pair) : -1;
    });
    if (idx.some((i) => i < 0)) notes.push(`key column(s) ${keySources.join(', ')} missing in the target: compared as a whole table, rows matched by content`);
    else keyIdx = idx;
  }
  return { table, schema, columns, keyIdx, notes, missingColumns, extraColumns };
}

// ---------------------------------------------------------------------------------------------
// Results

export interface RowDifference {
  kind: 'changed' | 'missing' | 'extra';
  table: string;
  /** Chunk number; -1 for a whole-table comparison. */
  chunkNo: number;
  /** The row's key as in cutover.rejects (`id=42`), or how the row was found when there is no key. */
  key: string;
  /** changed: the first differing column (target name) and every differing column. */
  column?: string;
  columns?: string[];
  /** Canonical values, truncated (may be sensitive; never longer than ~64 characters). */
  source?: string;
  target?: string;
  /** missing/extra: a few of the row's values, truncated. */
  row?: Record<string, string>;
}

export interface RangeChecksum {
  table: string;
  chunkNo: number;
  mode: 'chunk' | 'table';
  range: string;
  /** Source rows compared (rejected rows excluded) and target rows read. */
  rows: number;
  targetRows: number;
  /** Source rows skipped because the copy rejected them (cutover.rejects). */
  rejectedSkipped: number;
  sourceHash: string;
  targetHash: string;
  ok: boolean;
  differences: { changed: number; missing: number; extra: number };
  firstDifference?: RowDifference;
  /** A few more differences after the first (at most 4). */
  moreDifferences?: RowDifference[];
  seconds: number;
  /**
   * Where the source side came from: the digests the copy recorded with its checkpoints (only the
   * target was read), or the snapshot, read again.
   */
  sourceSide?: 'recorded by the copy' | 'read from the snapshot';
}

export interface CompareHooks {
  /** Called every few thousand rows. */
  progress?(p: { sourceRows: number; targetRows: number }): void;
  /** Throws when the caller was cancelled. */
  throwIfCancelled?(): void;
}

export interface CompareArgs {
  db: SqliteDb;
  client: pg.ClientBase;
  layout: CompareLayout;
  /** Row keys (formatKey) the copy rejected: skipped on the source side. */
  rejectedKeys?: Set<string>;
  batchSize?: number;
  hooks?: CompareHooks;
  /** false: skip the fast pass (always the ordered comparison). */
  fast?: boolean;
}

const MAX_EXAMPLES = 5;

// ---------------------------------------------------------------------------------------------
// Source side

interface SourceRow {
  raw: SqliteValue[];
  fields: (string | null)[];
  str: string;
}

function* readSource(
  db: SqliteDb,
  layout: CompareLayout,
  lo: KeyTuple | null,
  hi: KeyTuple | null,
  batchSize: number,
  rejected: Set<string>,
  counters: { skipped: number },
  onBatch: () => void,
): Generator<SourceRow> {
  const t = layout.table;
  const reader = new KeysetReader(db, t.source, t.key, layout.columns.map((c) => c.source));
  const canon: SourceCanonicalizer[] = layout.columns.map((c) => sourceCanonicalizer(c.converter, c.canon));
  const width = t.key.columns.length;
  const n = layout.columns.length;
  let cursor = lo;
  for (;;) {
    const batch = reader.read(cursor, hi, batchSize);
    if (batch.rows.length === 0) return;
    cursor = batch.lastKey;
    for (const row of batch.rows) {
      if (rejected.size > 0 && rejected.has(formatKey(t.key, row.slice(0, width).map(encodeKeyValue)))) {
        counters.skipped++;
        continue;
      }
      const fields = new Array<string | null>(n);
      for (let i = 0; i < n; i++) fields[i] = canon[i]!(row[width + i]!);
      yield { raw: row, fields, str: rowString(fields) };
    }
    onBatch();
  }
}

// ---------------------------------------------------------------------------------------------
// Target side

interface TargetRow {
  fields: (string | null)[];
  str: string;
  /** Extra trailing columns (ctid in whole-table mode). */
  extra: string[];
}

/** Splits COPY text output into rows of fields (unescaped), across arbitrary chunk boundaries. */
async function* copyRows(stream: AsyncIterable<Buffer>): AsyncGenerator<(string | null)[]> {
  let rest: Buffer | null = null;
  for await (const chunk of stream) {
    const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) break;
      const line = buf.toString('utf8', start, nl);
      start = nl + 1;
      yield line.split('\t').map((f) => (f === '\\N' ? null : unescapeCopyText(f)));
    }
    rest = start < buf.length ? buf.subarray(start) : null;
  }
  if (rest && rest.length > 0) throw new Error('COPY output ended in the middle of a row');
}

async function* readTarget(client: pg.ClientBase, layout: CompareLayout, sql: string, extraCols: number): AsyncGenerator<TargetRow> {
  const n = layout.columns.length;
  const canons = layout.columns.map((c) => c.canon);
  const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT`));
  for await (const f of copyRows(stream as unknown as AsyncIterable<Buffer>)) {
    const fields = new Array<string | null>(n);
    for (let i = 0; i < n; i++) {
      const v = f[i] ?? null;
      fields[i] = v === null ? null : canonicalFromLiteral(canons[i]!, v);
    }
    yield { fields, str: rowString(fields), extra: f.slice(n).map((x) => x ?? '') };
  }
}

function isTextLike(c: CanonType): boolean {
  return c === 'text' || c === 'bpchar' || c === 'other';
}

/** PostgreSQL literal of a source key value in the key column's target form. */
function keyLiteral(col: ColumnPair, v: KeyValue): string {
  const raw = decodeKeyValue(v);
  if (raw === null) return 'NULL';
  const field = makeEncoder(col.converter)(raw);
  return quoteLiteral(unescapeCopyText(field));
}

/** Pure: the SELECT that reads a key range back from the target, in key order. */
export function targetRangeSql(
  layout: CompareLayout,
  lo: KeyTuple | null,
  hi: KeyTuple | null,
  expr: (column: string, canon: CanonType) => string = targetExpr,
): string {
  const cols = layout.columns.map((c) => expr(c.target, c.canon));
  // The alias keeps ORDER BY on the typed column, not on the ::text output column of the same name.
  let sql = `SELECT ${cols.join(', ') || 'NULL'} FROM ${qualified(layout.schema, layout.table.target)} AS cutover_t`;
  if (layout.keyIdx) {
    const keyCols = layout.keyIdx.map((i) => layout.columns[i]!);
    const keyExpr = keyCols.map((c) => `cutover_t.${quoteIdent(c.target)}${isTextLike(c.canon) ? ' COLLATE "C"' : ''}`);
    const tuple = keyExpr.length === 1 ? keyExpr[0]! : `(${keyExpr.join(', ')})`;
    const lit = (k: KeyTuple) => {
      const l = k.map((v, i) => keyLiteral(keyCols[i]!, v));
      return l.length === 1 ? l[0]! : `(${l.join(', ')})`;
    };
    const where: string[] = [];
    if (lo) where.push(`${tuple} > ${lit(lo)}`);
    if (hi) where.push(`${tuple} <= ${lit(hi)}`);
    if (where.length) sql += ` WHERE ${where.join(' AND ')}`;
    sql += ` ORDER BY ${keyExpr.map((k) => `${k} NULLS FIRST`).join(', ')}`;
  }
  return sql;
}

// ---------------------------------------------------------------------------------------------
// Key order

function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 order differs from code point (= UTF-8 byte) order only above U+D7FF.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

function compareKeyPart(canon: CanonType, a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  switch (canon) {
    case 'int': {
      const x = BigInt(a);
      const y = BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'float8':
    case 'float4':
    case 'numeric': {
      const x = Number(a);
      const y = Number(b);
      return x < y ? -1 : x > y ? 1 : compareCodePoints(a, b);
    }
    default:
      return compareCodePoints(a, b);
  }
}

function compareKeys(layout: CompareLayout, a: (string | null)[], b: (string | null)[]): number {
  for (const i of layout.keyIdx!) {
    const c = compareKeyPart(layout.columns[i]!.canon, a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return 0;
}

function targetKeyText(layout: CompareLayout, fields: (string | null)[]): string {
  const tuple: KeyTuple = layout.keyIdx!.map((i) => {
    const v = fields[i]!;
    const c = layout.columns[i]!.canon;
    if (v === null) return { t: 'n' };
    if (c === 'int') return { t: 'i', v };
    if (c === 'bytea') return { t: 'b', v: v.replace(/^\\x/, '') };
    return { t: 's', v };
  });
  return formatKey(layout.table.key, tuple);
}

function sourceKeyText(layout: CompareLayout, raw: SqliteValue[]): string {
  return formatKey(layout.table.key, raw.slice(0, layout.table.key.columns.length).map(encodeKeyValue));
}

function rowValues(layout: CompareLayout, fields: (string | null)[], max = 8): Record<string, string> {
  const out: Record<string, string> = {};
  layout.columns.slice(0, max).forEach((c, i) => (out[c.target] = showValue(fields[i], 40)));
  return out;
}

function changed(layout: CompareLayout, chunkNo: number, key: string, s: (string | null)[], t: (string | null)[]): RowDifference {
  const cols: number[] = [];
  for (let i = 0; i < s.length; i++) if (s[i] !== t[i]) cols.push(i);
  const first = cols[0] ?? 0;
  return {
    kind: 'changed',
    table: layout.table.source,
    chunkNo,
    key,
    column: layout.columns[first]?.target,
    columns: cols.map((i) => layout.columns[i]!.target),
    source: showValue(s[first]),
    target: showValue(t[first]),
  };
}

async function inReadOnlySnapshot<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    for (const s of CANONICAL_SESSION_SQL) await client.query(s);
    const r = await fn();
    await client.query('COMMIT');
    return r;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// One chunk (the layout has a key in the target)

export async function compareChunk(args: CompareArgs & { chunk: Pick<ChunkPlan, 'chunkNo' | 'lo' | 'hi'> }): Promise<RangeChecksum> {
  const { layout, chunk } = args;
  if (!layout.keyIdx) throw new Error(`table ${layout.table.source} has no key in the target: use compareTable`);
  const started = Date.now();
  if (args.fast !== false && layout.columns.length > 0) {
    const f = await fastPassOrNull(args, chunk, false);
    if (f?.equal) return fastEqual(layout, f, { chunkNo: chunk.chunkNo, mode: 'chunk', range: rangeText(layout.table.key, chunk) }, started);
  }
  // Different (or the fast pass could not decide): the ordered comparison names the differences.
  const r = await orderedCompareChunk(args);
  r.seconds = (Date.now() - started) / 1000;
  return r;
}

/** The source side of a chunk (or of a key-less table's chunks) as the copy recorded it (cutover.chunks, see chunk-digests.ts). */
export interface RecordedSource {
  /** The batches' records in commit order. */
  digests: Buffer;
  /** The column spec they were computed with (digestSpecId). */
  specId: string | null;
  /** Rows the copy rejected (not in the records). */
  rejectedRows: number;
}

/**
 * Whether recorded digests were computed from the columns this layout compares, in its mode
 * (ordered by key, or a multiset when the target has no key).
 */
export function recordedSourceFits(layout: CompareLayout, recorded: RecordedSource): boolean {
  return (
    layout.columns.length > 0 &&
    recorded.specId === digestSpecId(layout.table.key, layout.columns, layout.keyIdx === null) &&
    segmentRows(recorded.digests) !== null
  );
}

/**
 * compareTable for a key-less table whose copy recorded the multiset sums of its batches: only the
 * target is read. Different → compareTable reads both sides and names the rows. No records, or
 * records that do not fit the layout → compareTable as usual.
 */
export async function compareRecordedTable(args: CompareArgs & { recorded: RecordedSource | null }): Promise<RangeChecksum> {
  const { layout, recorded } = args;
  if (!recorded || layout.keyIdx !== null || !recordedSourceFits(layout, recorded)) return compareTable(args);
  const started = Date.now();
  const sums = multisetOfSegments(recorded.digests);
  const source: FastSide = { rows: sums.rows, hash: sums.hash, skipped: recorded.rejectedRows, unconvertible: 0 };
  const target = await orNullUnlessCancelled(args, () => hashTargetRange(args, { lo: null, hi: null }, true, progressOf(args, source.rows)));
  if (target && target.rows === source.rows && target.hash === source.hash) {
    return { ...fastEqual(layout, { equal: true, source, target }, { chunkNo: -1, mode: 'table', range: 'whole table' }, started), sourceSide: 'recorded by the copy' };
  }
  const r = await compareTable({ ...args, fast: false });
  r.seconds = (Date.now() - started) / 1000;
  return r;
}

/** Target-only progress: heartbeats at most once a second, cancellation checked on every call. */
function progressOf(args: CompareArgs, sourceRows: number): (rows: number) => void {
  const hooks = args.hooks ?? {};
  let lastBeat = 0;
  return (rows) => {
    hooks.throwIfCancelled?.();
    const now = Date.now();
    if (now - lastBeat < 1000) return;
    lastBeat = now;
    hooks.progress?.({ sourceRows, targetRows: rows });
  };
}

/**
 * A chunk whose copy recorded its source side: only the target is read, cut at the copy's batch
 * boundaries. Equal → done without touching the source. Different (or the target pass failed on
 * its own) → the ordered comparison, reading both sides, decides and names the differences.
 * No records, or records that do not fit the layout → compareChunk as usual (fast pass first).
 */
export async function compareRecordedChunk(
  args: CompareArgs & { chunk: Pick<ChunkPlan, 'chunkNo' | 'lo' | 'hi'>; recorded: RecordedSource | null },
): Promise<RangeChecksum> {
  const { layout, chunk, recorded } = args;
  if (!layout.keyIdx) throw new Error(`table ${layout.table.source} has no key in the target: use compareTable`);
  if (!recorded || !recordedSourceFits(layout, recorded)) return compareChunk(args);
  const started = Date.now();
  // recordedSourceFits checked that the records are whole.
  const segments = segmentRows(recorded.digests)!;
  const source: FastSide = { rows: segments.reduce((a, b) => a + b, 0), hash: combineSegments(recorded.digests), skipped: recorded.rejectedRows, unconvertible: 0 };
  const target = await orNullUnlessCancelled(args, () => hashTargetRange(args, chunk, false, progressOf(args, source.rows), segments));
  if (target && target.rows === source.rows && target.hash === source.hash) {
    return { ...fastEqual(layout, { equal: true, source, target }, { chunkNo: chunk.chunkNo, mode: 'chunk', range: rangeText(layout.table.key, chunk) }, started), sourceSide: 'recorded by the copy' };
  }
  const r = await orderedCompareChunk(args);
  r.seconds = (Date.now() - started) / 1000;
  return r;
}

/**
 * The fast pass, or null when it failed for a reason of its own (its worker thread died, an
 * unexpected COPY layout): the ordered comparison then decides, and fails itself if the cause
 * is shared (the target went away). A cancellation is not swallowed.
 */
/** The result when the fast pass found both sides equal: no per-row comparison was needed. */
function fastEqual(
  layout: CompareLayout,
  f: Awaited<ReturnType<typeof fastPass>>,
  where: Pick<RangeChecksum, 'chunkNo' | 'mode' | 'range'>,
  started: number,
): RangeChecksum {
  return {
    table: layout.table.source,
    ...where,
    rows: f.source.rows,
    targetRows: f.target.rows,
    rejectedSkipped: f.source.skipped,
    sourceHash: f.source.hash,
    targetHash: f.target.hash,
    ok: true,
    differences: { changed: 0, missing: 0, extra: 0 },
    seconds: (Date.now() - started) / 1000,
  };
}

async function fastPassOrNull(args: CompareArgs, chunk: Pick<ChunkPlan, 'lo' | 'hi'>, multiset: boolean): Promise<Awaited<ReturnType<typeof fastPass>> | null> {
  return orNullUnlessCancelled(args, () => fastPass(args, chunk, multiset));
}

async function orNullUnlessCancelled<T>(args: CompareArgs, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    args.hooks?.throwIfCancelled?.();
    if ((err as Error)?.name === 'CancelledError') throw err;
    return null;
  }
}

/** The target side of the fast pass: a binary COPY of the range, hashed as it streams (segmented: see fast.ts). */
function hashTargetRange(
  args: CompareArgs,
  chunk: Pick<ChunkPlan, 'lo' | 'hi'>,
  multiset: boolean,
  onRows: (rows: number) => void,
  segments?: readonly number[],
): Promise<FastSide> {
  const { client, layout } = args;
  return inReadOnlySnapshot(client, async () => {
    const sql = targetRangeSql(layout, chunk.lo, chunk.hi, fastTargetExpr);
    const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT (FORMAT binary)`));
    return hashTargetCopy(
      stream as unknown as AsyncIterable<Buffer>,
      layout.columns.map((c) => c.canon),
      onRows,
      multiset,
      segments,
    );
  });
}

/**
 * The fast pass (fast.ts): the source side in a worker thread (or inline), the target side from a
 * binary COPY in this thread, at the same time. `equal` only when both hashes and row counts match
 * and every source value had a wire form.
 */
export async function fastPass(
  args: CompareArgs,
  chunk: Pick<ChunkPlan, 'lo' | 'hi'>,
  multiset = false,
): Promise<{ equal: boolean; source: FastSide; target: FastSide }> {
  const { db, layout } = args;
  const hooks = args.hooks ?? {};
  const spec: FastSourceSpec = {
    table: layout.table.source,
    key: layout.table.key,
    columns: layout.columns.map((c) => ({ source: c.source, target: c.target, canon: c.canon, converter: c.converter })),
    lo: chunk.lo,
    hi: chunk.hi,
    rejected: [...(args.rejectedKeys ?? [])],
    batchSize: args.batchSize ?? 10_000,
    multiset,
  };
  const counts = { sourceRows: 0, targetRows: 0 };
  let lastBeat = 0;
  const beat = () => {
    hooks.throwIfCancelled?.();
    const now = Date.now();
    if (now - lastBeat < 1000) return;
    lastBeat = now;
    hooks.progress?.({ ...counts });
  };
  const dbPath = db.name;
  // A thread pays off from a few ten thousand rows (a message round trip, a connection; the first
  // use starts the thread). Small tables hash inline.
  const threaded = checksumThreads() > 0 && layout.table.rowCount >= 20_000 && !(db as { memory?: boolean }).memory && !!dbPath && dbPath !== ':memory:';
  let source: FastSide;
  let target: FastSide;
  const readTarget = () =>
    hashTargetRange(args, chunk, multiset, (rows) => {
      counts.targetRows = rows;
      beat();
    });
  if (threaded) {
    const task = hashSourceInThread(dbPath, spec, (rows) => {
      counts.sourceRows = rows;
      // Heartbeats also while only the source is left; a cancellation stops the thread's task.
      try {
        beat();
      } catch {
        task.cancel();
      }
    });
    const [s, t] = await Promise.allSettled([task.promise, readTarget()]);
    if (t.status === 'rejected') {
      task.cancel();
      await task.promise.catch(() => undefined);
      throw t.reason;
    }
    if (s.status === 'rejected') throw s.reason;
    source = s.value;
    target = t.value;
  } else {
    source = hashSource(db, spec, (rows) => {
      counts.sourceRows = rows;
      beat();
    });
    target = await readTarget();
  }
  const equal = source.unconvertible === 0 && source.rows === target.rows && source.hash === target.hash;
  return { equal, source, target };
}

/** The ordered comparison: both sides walked side by side in key order, differences named. */
export async function orderedCompareChunk(args: CompareArgs & { chunk: Pick<ChunkPlan, 'chunkNo' | 'lo' | 'hi'> }): Promise<RangeChecksum> {
  const { db, client, layout, chunk } = args;
  if (!layout.keyIdx) throw new Error(`table ${layout.table.source} has no key in the target: use compareTable`);
  const started = Date.now();
  // Key-ordered: both streams are walked in key order, so a sequence hash suffices (and is cheaper).
  const src = new OrderedHash();
  const tgt = new OrderedHash();
  const diffs = { changed: 0, missing: 0, extra: 0 };
  const examples: RowDifference[] = [];
  const note = (d: RowDifference) => {
    diffs[d.kind]++;
    if (examples.length < MAX_EXAMPLES) examples.push(d);
  };
  const counters = { skipped: 0 };
  const hooks = args.hooks ?? {};
  const source = readSource(db, layout, chunk.lo, chunk.hi, args.batchSize ?? 10_000, args.rejectedKeys ?? new Set(), counters, () => {
    hooks.throwIfCancelled?.();
    hooks.progress?.({ sourceRows: src.rows, targetRows: tgt.rows });
  });
  await inReadOnlySnapshot(client, async () => {
    const target = readTarget(client, layout, targetRangeSql(layout, chunk.lo, chunk.hi), 0);
    let s = source.next();
    let t = await target.next();
    while (!s.done || !t.done) {
      const c = s.done ? 1 : t.done ? -1 : compareKeys(layout, s.value.fields, t.value.fields);
      if (c < 0) {
        const row = s.value as SourceRow;
        src.add(row.str);
        note({ kind: 'missing', table: layout.table.source, chunkNo: chunk.chunkNo, key: sourceKeyText(layout, row.raw), row: rowValues(layout, row.fields) });
        s = source.next();
      } else if (c > 0) {
        const row = t.value as TargetRow;
        tgt.add(row.str);
        note({ kind: 'extra', table: layout.table.source, chunkNo: chunk.chunkNo, key: targetKeyText(layout, row.fields), row: rowValues(layout, row.fields) });
        t = await target.next();
      } else {
        const a = s.value as SourceRow;
        const b = t.value as TargetRow;
        src.add(a.str);
        tgt.add(b.str);
        if (a.str !== b.str) note(changed(layout, chunk.chunkNo, sourceKeyText(layout, a.raw), a.fields, b.fields));
        s = source.next();
        t = await target.next();
      }
    }
  });
  const ok = src.rows === tgt.rows && src.hex() === tgt.hex() && examples.length === 0;
  return {
    table: layout.table.source,
    chunkNo: chunk.chunkNo,
    mode: 'chunk',
    range: rangeText(layout.table.key, chunk),
    rows: src.rows,
    targetRows: tgt.rows,
    rejectedSkipped: counters.skipped,
    sourceHash: src.hex(),
    targetHash: tgt.hex(),
    ok,
    differences: diffs,
    ...(examples.length ? { firstDifference: examples[0], moreDifferences: examples.slice(1) } : {}),
    seconds: (Date.now() - started) / 1000,
  };
}

// ---------------------------------------------------------------------------------------------
// A whole table without a target key: multiset comparison, then a content match to name rows.

/** Above this many source rows a mismatching key-less table is reported without naming rows. */
const MAX_ROWS_TO_LOCATE = 5_000_000;

export async function compareTable(args: CompareArgs): Promise<RangeChecksum> {
  const { db, client, layout } = args;
  const started = Date.now();
  if (args.fast !== false && layout.columns.length > 0) {
    const f = await fastPassOrNull({ ...args, layout: { ...layout, keyIdx: null } }, { lo: null, hi: null }, true);
    if (f?.equal) return fastEqual(layout, f, { chunkNo: -1, mode: 'table', range: 'whole table' }, started);
  }
  const hooks = args.hooks ?? {};
  const rejected = args.rejectedKeys ?? new Set<string>();
  const counters = { skipped: 0 };
  const src = new MultisetHash();
  const tgt = new MultisetHash();
  const progress = () => {
    hooks.throwIfCancelled?.();
    hooks.progress?.({ sourceRows: src.rows, targetRows: tgt.rows });
  };
  for (const row of readSource(db, layout, null, null, args.batchSize ?? 10_000, rejected, counters, progress)) src.add(row.str);
  const sql = targetRangeSql(layout, null, null);
  await inReadOnlySnapshot(client, async () => {
    for await (const row of readTarget(client, layout, sql, 0)) {
      tgt.add(row.str);
      if (tgt.rows % 50_000 === 0) progress();
    }
  });
  const result: RangeChecksum = {
    table: layout.table.source,
    chunkNo: -1,
    mode: 'table',
    range: 'whole table',
    rows: src.rows,
    targetRows: tgt.rows,
    rejectedSkipped: counters.skipped,
    sourceHash: src.hex(),
    targetHash: tgt.hex(),
    ok: src.rows === tgt.rows && src.hex() === tgt.hex(),
    differences: { changed: 0, missing: 0, extra: 0 },
    seconds: 0,
  };
  if (!result.ok && src.rows <= MAX_ROWS_TO_LOCATE) await locateByContent(args, result, rejected);
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

/** Second pass for a key-less table: which source rows have no identical target row, and vice versa. */
async function locateByContent(args: CompareArgs, result: RangeChecksum, rejected: Set<string>): Promise<void> {
  const { db, client, layout } = args;
  const pending = new Map<string, { n: number; key: string }>();
  for (const row of readSource(db, layout, null, null, args.batchSize ?? 10_000, rejected, { skipped: 0 }, () => args.hooks?.throwIfCancelled?.())) {
    const d = rowDigest(row.str).toString('base64');
    const e = pending.get(d);
    if (e) e.n++;
    else pending.set(d, { n: 1, key: sourceKeyText(layout, row.raw) });
  }
  const extras: TargetRow[] = [];
  let extraCount = 0;
  const sql = targetRangeSql(layout, null, null).replace(/ FROM /, ', cutover_t.ctid::text FROM ');
  await inReadOnlySnapshot(client, async () => {
    for await (const row of readTarget(client, layout, sql, 1)) {
      const d = rowDigest(row.str).toString('base64');
      const e = pending.get(d);
      if (e && e.n > 0) {
        e.n--;
        if (e.n === 0) pending.delete(d);
      } else {
        extraCount++;
        if (extras.length < MAX_EXAMPLES) extras.push(row);
      }
    }
  });
  const missing = [...pending.values()].reduce((s, e) => s + e.n, 0);
  const missingKeys = [...pending.values()].map((e) => e.key);
  const table = layout.table.source;
  const readRow = (key: string): (string | null)[] | null => {
    const m = /=(-?\d+)$/.exec(key);
    if (!m) return null;
    const canon = layout.columns.map((c) => sourceCanonicalizer(c.converter, c.canon));
    const raw = db
      .prepare(`SELECT ${layout.columns.map((c) => quoteSqliteIdent(c.source)).join(', ')} FROM ${quoteSqliteIdent(table)} WHERE ${quoteSqliteIdent(layout.table.key.columns[0]!)} = ?`)
      .raw(true)
      .get(BigInt(m[1]!)) as SqliteValue[] | undefined;
    return raw ? raw.map((v, i) => canon[i]!(v)) : null;
  };
  const examples: RowDifference[] = [];
  if (missing === 1 && extraCount === 1) {
    const s = readRow(missingKeys[0]!);
    if (s) {
      const d = changed(layout, -1, missingKeys[0]!, s, extras[0]!.fields);
      d.key = `${missingKeys[0]} (target row ctid ${extras[0]!.extra[0]}; no key in the target: matched by content)`;
      examples.push(d);
      result.differences.changed = 1;
    }
  }
  if (examples.length === 0) {
    for (const k of missingKeys.slice(0, MAX_EXAMPLES)) {
      const s = readRow(k);
      examples.push({ kind: 'missing', table, chunkNo: -1, key: `${k} (no identical row in the target)`, ...(s ? { row: rowValues(layout, s) } : {}) });
    }
    for (const e of extras.slice(0, Math.max(1, MAX_EXAMPLES - examples.length))) {
      examples.push({ kind: 'extra', table, chunkNo: -1, key: `target row ctid ${e.extra[0]} (no identical row in the source)`, row: rowValues(layout, e.fields) });
    }
    result.differences.missing = missing;
    result.differences.extra = extraCount;
  }
  if (examples.length) {
    result.firstDifference = examples[0];
    result.moreDifferences = examples.slice(1, MAX_EXAMPLES);
  }
}

/** One sentence for reports and the workflow history. */
export function describeDifference(d: RowDifference): string {
  const where = `${d.table}${d.chunkNo >= 0 ? ` chunk ${d.chunkNo}` : ''}, ${d.key}`;
  switch (d.kind) {
    case 'changed':
      return `${where}: column ${d.column} differs (source ${d.source}, target ${d.target})${d.columns && d.columns.length > 1 ? `; also ${d.columns.slice(1).join(', ')}` : ''}`;
    case 'missing':
      return `${where}: row missing in the target`;
    case 'extra':
      return `${where}: extra row in the target, not in the source`;
  }
}

/** Problems of one comparison, as report sentences. */
export function checksumProblems(r: RangeChecksum): string[] {
  if (r.ok) return [];
  const d = r.differences;
  const counts = [d.changed && `${d.changed} changed`, d.missing && `${d.missing} missing`, d.extra && `${d.extra} extra`].filter(Boolean).join(', ');
  const head = `content mismatch in ${r.mode === 'table' ? 'the whole table' : `chunk ${r.chunkNo} (${r.range})`}: source ${r.rows} rows, target ${r.targetRows}${counts ? ` (${counts} row(s))` : ''}`;
  return [r.firstDifference ? `${head}; first: ${describeDifference(r.firstDifference)}` : head];
}
