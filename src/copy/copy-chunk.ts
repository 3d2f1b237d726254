// Copies one chunk (a key range of one table) from SQLite to PostgreSQL.
//
// Exactly once, by construction: every batch is COPYed and its checkpoint
// advanced in one PostgreSQL transaction, under a row lock on the checkpoint.
// A retried or concurrent attempt starts from the committed checkpoint, not
// from what it believes it did, so no batch is written twice and none is skipped.
//
// Speed: batches are read and encoded by a worker thread (batch-source.ts), one batch ahead:
// batch N+1 is read while batch N's transaction is in flight. Commits stay one at a time, in
// key order, each checking under the lock that the checkpoint is where this attempt expects.
import type pg from 'pg';
import type { ChunkPlan, ChunkResult, KeyTuple, TablePlan } from '../types';
import { copyFromSql } from '../postgres/ddl';
import { copyIn } from '../postgres/copy-writer';
import { describePgError, isDataError } from '../postgres/errors';
import { inTransaction, withClient } from '../postgres/connect';
import type { SqliteDb } from '../sqlite/open';
import * as state from '../postgres/state';
import { openBatchSource, type BatchSource } from './batch-source';
import { ChunkEncoder, type EncodedBatch } from './encode-batch';
import { digestColumns, digestSpecId } from '../validate/chunk-digests';
import { addToPart, type ProfilePart } from '../sqlite/profile-parts';

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
  /**
   * Record each batch's content digest with its checkpoint (chunk-digests.ts), so that the
   * checksum stage need not read the source again. On when the run validates checksums.
   */
  sourceDigests?: boolean;
  /**
   * Record the value facts of every row read with its checkpoint (profile-parts.ts): the table's
   * plan is speculative and is confirmed from these once the table is copied (plan/speculation.ts).
   */
  sourceProfile?: boolean;
  /**
   * The source is read live (snapshot off): read it through SQLite, which holds a read lock per
   * statement, never from its pages directly (page-reader.ts is for files nobody writes).
   */
  liveSource?: boolean;
}

/**
 * Benchmark only (issue 6): `CUTOVER_BENCH_NO_CHECKPOINT=1` COPYs each batch on its own, with no
 * checkpoint lock or advance, and records the chunk's totals once at the end. NOT exactly-once:
 * a retried chunk would copy rows twice. It measures what checkpointing costs.
 */
export function benchNoCheckpoint(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CUTOVER_BENCH_NO_CHECKPOINT === '1';
}

/**
 * The chunk's value facts with this batch's added, read under the checkpoint's lock (so an attempt
 * that took over from another adds to what was committed, not to what it saw). Null (unchanged)
 * when the batch has none, or when the chunk committed rows without facts: they stay incomplete.
 */
function partAfter(locked: state.ChunkRow, enc: EncodedBatch): ProfilePart | null {
  if (!enc.profile) return null;
  const stored = locked.source_profile ?? null;
  if (stored === null && locked.batches > 0) return null;
  return addToPart(stored, enc.rows, enc.profile);
}

/**
 * A chunk reset since this attempt began (its table was re-created with the types of every value:
 * plan/speculation.ts) is not this attempt's any more: its rows were encoded for the old types.
 * Only an attempt left over from before the reset (one Temporal already retried) can see this.
 */
function checkGeneration(locked: state.ChunkRow | null, generation: number): void {
  if (locked && (locked.generation ?? 0) !== generation) {
    throw new Error(`the chunk was reset (generation ${generation} → ${locked.generation}): its table was re-created with other types after this attempt began; this attempt stops, the current one copies it`);
  }
}

function sameKey(a: KeyTuple | null, b: KeyTuple | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function payloadBuffer(p: Uint8Array): Buffer {
  return Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}

/** Ignore a prefetched batch nobody will await (its source was closed). */
function settle(p: Promise<unknown> | null): void {
  p?.catch(() => undefined);
}

export async function copyChunk(args: CopyChunkArgs): Promise<ChunkResult> {
  const started = Date.now();
  const { pool, db, runId, schema, table, chunk, batchSize, hooks } = args;
  const digests = args.sourceDigests === true && !benchNoCheckpoint();
  const profile = args.sourceProfile === true;
  const pageReader = args.liveSource !== true;
  const open = (after: KeyTuple | null): BatchSource => openBatchSource(db, table, after, chunk.hi, batchSize, { digests, profile, pageReader });
  const columns = table.columns;
  // Batches come as binary COPY when every column has a binary writer (binary-fields.ts); the
  // row-by-row path after a refused batch always sends COPY text.
  const copySql = copyFromSql(schema, table, columns);
  const copyBinarySql = copyFromSql(schema, table, columns, 'binary');
  const sqlFor = (b: EncodedBatch): string => (b.format === 'binary' ? copyBinarySql : copySql);
  const noCheckpoint = benchNoCheckpoint();

  return withClient(pool, async (client) => {
    await state.ensureChunk(client, { runId, table: table.source, chunkNo: chunk.chunkNo, lo: chunk.lo, hi: chunk.hi });
    const start = await state.getChunk(client, runId, table.source, chunk.chunkNo);
    if (!start) throw new Error(`checkpoint row for ${table.source} chunk ${chunk.chunkNo} vanished`);
    const resumedRows = Number(start.rows_copied) + Number(start.rows_rejected);
    let cursor: KeyTuple | null = start.last_key;
    // This attempt's plan holds for this generation of the chunk only (see state.resetTableCopy).
    const generation = start.generation ?? 0;
    let copied = Number(start.rows_copied);
    let rejected = Number(start.rows_rejected);
    let batches = 0;
    if (start.done) return result();

    if (noCheckpoint) {
      await copyWithoutCheckpoints(client, cursor);
      return result();
    }

    if (digests) await state.startDigests(client, runId, table.source, chunk.chunkNo, digestSpecId(table.key, digestColumns(table)));
    let source: BatchSource = open(cursor);
    let pending: Promise<EncodedBatch | null> | null = source.next();
    try {
      for (;;) {
        hooks.throwIfCancelled();
        if (hooks.shouldStop?.()) break;
        const batch: EncodedBatch | null = await pending!;
        pending = null;
        if (batch === null) {
          await state.finishChunk(client, runId, table.source, chunk.chunkNo);
          break;
        }
        // Read and encode the next batch while this one's transaction runs.
        pending = source.next();
        settle(pending);
        const outcome = await commitBatch(client, batch, cursor);
        // Committed (or refused under the lock): the server has read the whole payload, nothing
        // references its buffer any more; the reader reuses it for a later batch.
        source.recycle(batch);
        if (outcome.kind === 'moved') {
          // Another attempt committed past our cursor: continue from its checkpoint.
          source.close();
          pending = null;
          cursor = outcome.lastKey;
          if (outcome.done) break;
          source = open(cursor);
          pending = source.next();
          continue;
        }
        cursor = batch.lastKey;
        copied += outcome.copied;
        rejected += outcome.rejectedRows;
        batches++;
        hooks.heartbeat({ rowsDone: copied + rejected, lastKey: cursor });
      }
    } finally {
      settle(pending);
      source.close();
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

    async function copyWithoutCheckpoints(c: pg.PoolClient, from: KeyTuple | null): Promise<void> {
      const src = openBatchSource(db, table, from, chunk.hi, batchSize, { profile, pageReader });
      // Rows of a fresh chunk only: facts of a chunk resumed half-way would be partial.
      let part: ProfilePart | null = null;
      const fresh = batches === 0 && copied === 0 && rejected === 0;
      let next: Promise<EncodedBatch | null> | null = src.next();
      let lastKey = from;
      let addCopied = 0;
      let addRejected = 0;
      const rejects: state.RejectRecord[] = [];
      let lastBeat = Date.now();
      try {
        for (;;) {
          hooks.throwIfCancelled();
          const b: EncodedBatch | null = await next!;
          next = null;
          if (b === null) break;
          next = src.next();
          settle(next);
          if (b.copied > 0) await copyIn(c, sqlFor(b), payloadBuffer(b.payload));
          src.recycle(b);
          rejects.push(...b.rejects);
          if (b.profile && fresh) part = addToPart(part, b.rows, b.profile);
          addCopied += b.copied;
          addRejected += b.rejectedRows;
          lastKey = b.lastKey;
          batches++;
          if (Date.now() - lastBeat > 5000) {
            lastBeat = Date.now();
            hooks.heartbeat({ rowsDone: copied + addCopied + rejected + addRejected, lastKey });
          }
        }
      } finally {
        settle(next);
        src.close();
      }
      await inTransaction(c, async () => {
        await state.insertRejects(c, runId, table.source, chunk.chunkNo, rejects);
        if (lastKey !== null && (addCopied > 0 || addRejected > 0)) {
          await state.advanceChunk(c, { runId, table: table.source, chunkNo: chunk.chunkNo, lastKey, copied: addCopied, rejected: addRejected, profile: part });
        }
        await state.finishChunk(c, runId, table.source, chunk.chunkNo);
      });
      copied += addCopied;
      rejected += addRejected;
    }

    async function commitBatch(
      c: pg.PoolClient,
      enc: EncodedBatch,
      expected: KeyTuple | null,
    ): Promise<{ kind: 'moved'; lastKey: KeyTuple | null; done: boolean } | { kind: 'committed'; copied: number; rejectedRows: number }> {
      const lastKey = enc.lastKey;
      try {
        return await inTransaction(c, async () => {
          const locked = await state.lockChunk(c, runId, table.source, chunk.chunkNo);
          checkGeneration(locked, generation);
          if (!locked || locked.done || !sameKey(locked.last_key, expected)) {
            return { kind: 'moved' as const, lastKey: locked?.last_key ?? null, done: locked?.done ?? true };
          }
          if (enc.copied > 0) await copyIn(c, sqlFor(enc), payloadBuffer(enc.payload));
          await state.insertRejects(c, runId, table.source, chunk.chunkNo, enc.rejects);
          await state.advanceChunk(c, { runId, table: table.source, chunkNo: chunk.chunkNo, lastKey, copied: enc.copied, rejected: enc.rejectedRows, digest: enc.digest ?? null, profile: partAfter(locked, enc) });
          return { kind: 'committed' as const, copied: enc.copied, rejectedRows: enc.rejectedRows };
        });
      } catch (err) {
        if (!isDataError(err)) throw err;
        // PostgreSQL refused a value our converters accepted: re-read this batch line by line
        // (same rows: the key range (expected, lastKey]), reject the row(s), keep the rest.
        const lines = new ChunkEncoder(db, table).lines(expected, lastKey, enc.rows);
        return inTransaction(c, async () => {
          const locked = await state.lockChunk(c, runId, table.source, chunk.chunkNo);
          checkGeneration(locked, generation);
          if (!locked || locked.done || !sameKey(locked.last_key, expected)) {
            return { kind: 'moved' as const, lastKey: locked?.last_key ?? null, done: locked?.done ?? true };
          }
          let ok = 0;
          const rejects = [...lines.rejects];
          let rejectedRows = lines.rejectedRows;
          for (let i = 0; i < lines.lines.length; i++) {
            await c.query('SAVEPOINT cutover_row');
            try {
              await copyIn(c, copySql, lines.lines[i]!);
              await c.query('RELEASE SAVEPOINT cutover_row');
              ok++;
            } catch (rowErr) {
              if (!isDataError(rowErr)) throw rowErr;
              await c.query('ROLLBACK TO SAVEPOINT cutover_row');
              rejects.push({ rowKey: lines.lineKeys[i]!, column: null, reason: `PostgreSQL refused the row: ${describePgError(rowErr)}`, value: null });
              rejectedRows++;
            }
          }
          await state.insertRejects(c, runId, table.source, chunk.chunkNo, rejects);
          // The batch's record counted rows PostgreSQL has now refused: none (the checksum reads this chunk's source).
          await state.advanceChunk(c, { runId, table: table.source, chunkNo: chunk.chunkNo, lastKey, copied: ok, rejected: rejectedRows, digest: null, profile: partAfter(locked, enc) });
          return { kind: 'committed' as const, copied: ok, rejectedRows };
        });
      }
    }
  });
}
