// Copies one chunk (a key range of one table) from SQLite to PostgreSQL.
//
// Exactly once, by construction: every batch is COPYed and its checkpoint
// advanced in one PostgreSQL transaction, under a row lock on the checkpoint.
// A retried or concurrent attempt starts from the committed checkpoint, not
// from what it believes it did, so no batch is written twice and none is skipped.
import type pg from 'pg';
import { TextDecoder } from 'node:util';
import type { ChunkPlan, ChunkResult, ColumnPlan, KeyTuple, TablePlan } from '../types';
import { describeRawValue, makeEncoder, RejectedValue, type Encoder } from '../plan/convert';
import { copyFromSql } from '../postgres/ddl';
import { copyIn } from '../postgres/copy-writer';
import { describePgError, isDataError } from '../postgres/errors';
import { inTransaction, withClient } from '../postgres/connect';
import { quoteSqliteIdent, type SqliteDb } from '../sqlite/open';
import { formatKey, KeysetReader, decodeKeyValue } from '../sqlite/reader';
import type { SqliteValue } from '../sqlite/types';
import * as state from '../postgres/state';

export interface CopyHooks {
  heartbeat(details: { rowsDone: number; lastKey: KeyTuple | null }): void;
  /** Throws when the activity was cancelled; checked between batches. */
  throwIfCancelled(): void;
  /** Between batches: the chunk stops early when this returns true (pause). */
  shouldStop?(): boolean;
}

export interface CopyChunkArgs {
  pool: pg.Pool;
  db: SqliteDb;
  runId: string;
  schema: string;
  table: TablePlan;
  chunk: ChunkPlan;
  batchSize: number;
  hooks: CopyHooks;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });

function sameKey(a: KeyTuple | null, b: KeyTuple | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

interface EncodedBatch {
  payload: string;
  /** Encoded lines, kept only to isolate a bad row when PostgreSQL refuses the batch. */
  lines: string[];
  lineKeys: string[];
  copied: number;
  rejectedRows: number;
  rejects: state.RejectRecord[];
}

export async function copyChunk(args: CopyChunkArgs): Promise<ChunkResult> {
  const started = Date.now();
  const { pool, db, runId, schema, table, chunk, batchSize, hooks } = args;
  const columns = table.columns;
  const encoders: Encoder[] = columns.map((c) => makeEncoder(c.converter));
  const reader = new KeysetReader(
    db,
    table.source,
    table.key,
    columns.map((c) => c.source),
  );
  const keyWidth = table.key.columns.length;
  const copySql = copyFromSql(schema, table, columns);
  const rawText = new RawTextReader(db, table);
  const orphans = new OrphanFinder(db, table);

  return withClient(pool, async (client) => {
    await state.ensureChunk(client, { runId, table: table.source, chunkNo: chunk.chunkNo, lo: chunk.lo, hi: chunk.hi });
    const start = await state.getChunk(client, runId, table.source, chunk.chunkNo);
    if (!start) throw new Error(`checkpoint row for ${table.source} chunk ${chunk.chunkNo} vanished`);
    const resumedRows = Number(start.rows_copied) + Number(start.rows_rejected);
    let cursor: KeyTuple | null = start.last_key;
    let copied = Number(start.rows_copied);
    let rejected = Number(start.rows_rejected);
    let batches = 0;
    if (start.done) return result();

    for (;;) {
      hooks.throwIfCancelled();
      if (hooks.shouldStop?.()) break;
      const batch = reader.read(cursor, chunk.hi, batchSize);
      if (batch.rows.length === 0) {
        await state.finishChunk(client, runId, table.source, chunk.chunkNo);
        break;
      }
      const encoded = encodeBatch(batch.rows, keyWidth, table, columns, encoders, rawText, orphans.find(cursor, batch.lastKey!));
      const outcome = await commitBatch(client, encoded, cursor, batch.lastKey!);
      if (outcome.kind === 'moved') {
        // Another attempt committed past our cursor: continue from its checkpoint.
        cursor = outcome.lastKey;
        if (outcome.done) break;
        continue;
      }
      cursor = batch.lastKey;
      copied += outcome.copied;
      rejected += outcome.rejectedRows;
      batches++;
      hooks.heartbeat({ rowsDone: copied + rejected, lastKey: cursor });
      // Reading SQLite is synchronous: let timers, heartbeats and pollers run.
      await new Promise<void>((r) => setImmediate(r));
    }
    const end = await state.getChunk(client, runId, table.source, chunk.chunkNo);
    copied = Number(end?.rows_copied ?? copied);
    rejected = Number(end?.rows_rejected ?? rejected);
    return result();

    function result(): ChunkResult {
      return {
        table: table.source,
        chunkNo: chunk.chunkNo,
        rows: copied,
        rejects: rejected,
        batches,
        resumedRows,
        seconds: (Date.now() - started) / 1000,
      };
    }

    async function commitBatch(
      c: pg.PoolClient,
      enc: EncodedBatch,
      expected: KeyTuple | null,
      lastKey: KeyTuple,
    ): Promise<{ kind: 'moved'; lastKey: KeyTuple | null; done: boolean } | { kind: 'committed'; copied: number; rejectedRows: number }> {
      try {
        return await inTransaction(c, async () => {
          const locked = await state.lockChunk(c, runId, table.source, chunk.chunkNo);
          if (!locked || locked.done || !sameKey(locked.last_key, expected)) {
            return { kind: 'moved' as const, lastKey: locked?.last_key ?? null, done: locked?.done ?? true };
          }
          if (enc.copied > 0) await copyIn(c, copySql, enc.payload);
          await state.insertRejects(c, runId, table.source, chunk.chunkNo, enc.rejects);
          await state.advanceChunk(c, { runId, table: table.source, chunkNo: chunk.chunkNo, lastKey, copied: enc.copied, rejected: enc.rejectedRows });
          return { kind: 'committed' as const, copied: enc.copied, rejectedRows: enc.rejectedRows };
        });
      } catch (err) {
        if (!isDataError(err)) throw err;
        // PostgreSQL refused a value our converters accepted: find the row(s), reject them, keep the rest.
        return inTransaction(c, async () => {
          const locked = await state.lockChunk(c, runId, table.source, chunk.chunkNo);
          if (!locked || locked.done || !sameKey(locked.last_key, expected)) {
            return { kind: 'moved' as const, lastKey: locked?.last_key ?? null, done: locked?.done ?? true };
          }
          let ok = 0;
          const rejects = [...enc.rejects];
          let rejectedRows = enc.rejectedRows;
          for (let i = 0; i < enc.lines.length; i++) {
            await c.query('SAVEPOINT cutover_row');
            try {
              await copyIn(c, copySql, enc.lines[i]!);
              await c.query('RELEASE SAVEPOINT cutover_row');
              ok++;
            } catch (rowErr) {
              if (!isDataError(rowErr)) throw rowErr;
              await c.query('ROLLBACK TO SAVEPOINT cutover_row');
              rejects.push({ rowKey: enc.lineKeys[i]!, column: null, reason: `PostgreSQL refused the row: ${describePgError(rowErr)}`, value: null });
              rejectedRows++;
            }
          }
          await state.insertRejects(c, runId, table.source, chunk.chunkNo, rejects);
          await state.advanceChunk(c, { runId, table: table.source, chunkNo: chunk.chunkNo, lastKey, copied: ok, rejected: rejectedRows });
          return { kind: 'committed' as const, copied: ok, rejectedRows };
        });
      }
    }
  });
}

function encodeBatch(
  rows: SqliteValue[][],
  keyWidth: number,
  table: TablePlan,
  columns: ColumnPlan[],
  encoders: Encoder[],
  rawText: RawTextReader,
  orphanKeys: Map<string, string>,
): EncodedBatch {
  const lines: string[] = [];
  const lineKeys: string[] = [];
  const rejects: state.RejectRecord[] = [];
  let rejectedRows = 0;
  const fields: string[] = new Array(columns.length);
  for (const row of rows) {
    if (orphanKeys.size > 0) {
      const rowKey = formatKey(table.key, row.slice(0, keyWidth).map(toKeyValue));
      const orphan = orphanKeys.get(rowKey);
      if (orphan !== undefined) {
        rejects.push({ rowKey, column: null, reason: `${table.source}: ${orphan}`, value: null });
        rejectedRows++;
        continue;
      }
    }
    let bad: state.RejectRecord[] | null = null;
    for (let i = 0; i < columns.length; i++) {
      const v = row[keyWidth + i]!;
      try {
        if (typeof v === 'string' && v.includes('\uFFFD') && !rawText.isValidUtf8(row, keyWidth, columns[i]!.source)) {
          throw new RejectedValue('text is not valid UTF-8 (SQLite accepted bytes that are not characters)', 'text');
        }
        fields[i] = encoders[i]!(v);
      } catch (err) {
        if (!(err instanceof RejectedValue)) throw err;
        (bad ??= []).push({
          rowKey: formatKey(table.key, row.slice(0, keyWidth).map(toKeyValue)),
          column: columns[i]!.source,
          reason: `${table.source}.${columns[i]!.source}: ${err.reason}`,
          value: describeRawValue(v),
        });
      }
    }
    if (bad) {
      rejects.push(...bad);
      rejectedRows++;
      continue;
    }
    lines.push(fields.join('\t') + '\n');
    lineKeys.push(formatKey(table.key, row.slice(0, keyWidth).map(toKeyValue)));
  }
  return { payload: lines.join(''), lines, lineKeys, copied: lines.length, rejectedRows, rejects };
}

function toKeyValue(v: SqliteValue) {
  if (v === null) return { t: 'n' as const };
  if (typeof v === 'bigint') return { t: 'i' as const, v: v.toString() };
  if (typeof v === 'number') return { t: 'r' as const, v };
  if (typeof v === 'string') return { t: 's' as const, v };
  return { t: 'b' as const, v: v.toString('hex') };
}

/**
 * better-sqlite3 decodes text as UTF-8 and replaces invalid bytes with U+FFFD.
 * Only for the rare value holding U+FFFD do we re-read the raw bytes to tell
 * a genuine U+FFFD from bytes that were never UTF-8.
 */
class RawTextReader {
  private readonly stmts = new Map<string, ReturnType<SqliteDb['prepare']>>();
  constructor(
    private readonly db: SqliteDb,
    private readonly table: TablePlan,
  ) {}

  isValidUtf8(row: SqliteValue[], keyWidth: number, column: string): boolean {
    let stmt = this.stmts.get(column);
    if (!stmt) {
      const where = this.table.key.columns.map((k) => `${quoteSqliteIdent(k)} = ?`).join(' AND ');
      stmt = this.db
        .prepare(`SELECT CAST(${quoteSqliteIdent(column)} AS BLOB) FROM ${quoteSqliteIdent(this.table.source)} WHERE ${where}`)
        .pluck(true);
      this.stmts.set(column, stmt);
    }
    const raw = (stmt.get as (...args: unknown[]) => unknown).apply(stmt, row.slice(0, keyWidth).map((k) => decodeKeyValue(toKeyValue(k)))) as Buffer | null;
    if (!raw) return true;
    try {
      fatalUtf8.decode(raw);
      return true;
    } catch {
      return false;
    }
  }
}


/**
 * Rows of this batch that break a foreign key whose orphans policy is
 * "reject": found in SQLite with the plan's predicates, by key range.
 */
class OrphanFinder {
  private readonly stmts = new Map<boolean, ReturnType<SqliteDb['prepare']>>();
  constructor(
    private readonly db: SqliteDb,
    private readonly table: TablePlan,
  ) {}

  find(after: KeyTuple | null, last: KeyTuple): Map<string, string> {
    const preds = this.table.rejectWhere ?? [];
    const out = new Map<string, string>();
    if (preds.length === 0) return out;
    const hasLo = after !== null;
    let stmt = this.stmts.get(hasLo);
    if (!stmt) {
      const k = this.table.key.columns.map(quoteSqliteIdent);
      const tuple = k.length === 1 ? k[0]! : `(${k.join(', ')})`;
      const p = k.length === 1 ? '?' : `(${k.map(() => '?').join(', ')})`;
      stmt = this.db
        .prepare(
          `SELECT ${k.join(', ')}, ${preds.map((x, i) => `(${x.sqliteWhere}) AS f${i}`).join(', ')} FROM ${quoteSqliteIdent(this.table.source)} ` +
            `WHERE ${hasLo ? `${tuple} > ${p} AND ` : ''}${tuple} <= ${p} AND (${preds.map((x) => `(${x.sqliteWhere})`).join(' OR ')})`,
        )
        .raw(true);
      this.stmts.set(hasLo, stmt);
    }
    const args = [...(after ?? []).map(decodeKeyValue), ...last.map(decodeKeyValue)];
    const width = this.table.key.columns.length;
    const rows = (stmt.all as (...a: unknown[]) => unknown[]).apply(stmt, args) as SqliteValue[][];
    for (const r of rows) {
      const reasons = preds.filter((_, i) => Number(r[width + i]) === 1).map((x) => x.reason);
      out.set(formatKey(this.table.key, r.slice(0, width).map(toKeyValue)), reasons.join('; '));
    }
    return out;
  }
}
