// Phase 8 (validate, content): per-chunk checksums of source and target, compared.
// Rows never leave the worker: the result carries counts, hashes and at most a few
// truncated values naming the first difference.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, nonRetryable } from '../src/errors';
import { withClient } from '../src/postgres/connect';
import { describePgError, isPermanent } from '../src/postgres/errors';
import * as state from '../src/postgres/state';
import { openSource } from '../src/sqlite/open';
import type { TablePlan } from '../src/types';
import { targetColumns } from '../src/validate/catalog';
import {
  compareLayout,
  compareRecordedChunk,
  compareRecordedTable,
  type RangeChecksum,
  type RecordedSource,
  type RowDifference,
} from '../src/validate/compare';
import { ensureChecksumTable, rejectedKeys, saveChecksum } from '../src/validate/state';
import type { ActivityDeps } from './deps';
import { loadRunPlan, type RunRef } from './run-context';

export interface ChecksumChunkArgs extends RunRef {
  table: string;
  chunkNo: number;
  /** The SQLite file the copy read (the snapshot), as the worker sees it. */
  source: string;
}

export interface ChecksumResult {
  table: string;
  chunkNo: number;
  /** Source rows compared (rejected rows excluded). */
  rows: number;
  targetRows: number;
  sourceHash: string;
  targetHash: string;
  ok: boolean;
  differences: RangeChecksum['differences'];
  firstDifference?: RowDifference;
  seconds: number;
  sourceSide: NonNullable<RangeChecksum['sourceSide']>;
}

function slim(r: RangeChecksum): ChecksumResult {
  return {
    table: r.table,
    chunkNo: r.chunkNo,
    rows: r.rows,
    targetRows: r.targetRows,
    sourceHash: r.sourceHash,
    targetHash: r.targetHash,
    ok: r.ok,
    differences: r.differences,
    ...(r.firstDifference ? { firstDifference: r.firstDifference } : {}),
    seconds: r.seconds,
    sourceSide: r.sourceSide ?? 'read from the snapshot',
  };
}

export function createChecksumActivities(deps: ActivityDeps) {
  async function run(args: RunRef & { table: string; source: string }, chunkNo: number | null): Promise<ChecksumResult> {
    const { pool, plan } = await loadRunPlan(deps, args);
    const table: TablePlan | undefined = plan.tables.find((t) => t.source === args.table);
    if (!table) throw nonRetryable(FailureType.PlanMissing, `table ${args.table} is not in run ${args.runId}'s plan`);
    const ctx = Context.current();
    const where = chunkNo === null ? `table ${table.source}` : `table ${table.source}, chunk ${chunkNo}`;
    const db = openSource(args.source);
    try {
      return await withClient(pool, async (client) => {
        await ensureChecksumTable(client);
        const cols = await targetColumns(client, plan.targetSchema, table.target);
        if (!cols) throw nonRetryable(FailureType.ValidationFailed, `checksum of ${where}: table ${plan.targetSchema}.${table.target} does not exist in the target`);
        const layout = compareLayout(table, plan.targetSchema, cols);
        const hooks = {
          progress: (p: { sourceRows: number; targetRows: number }) => ctx.heartbeat({ table: table.source, chunkNo, ...p }),
          throwIfCancelled: () => {
            if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
          },
        };
        let result: RangeChecksum;
        if (chunkNo === null || !layout.keyIdx) {
          const rejected = await rejectedKeys(client, args.runId, table.source);
          // A key-less table's chunks recorded multiset sums: only the target is read.
          const recorded = layout.keyIdx ? null : await state.getTableDigests(client, args.runId, table.source);
          result = await compareRecordedTable({ db, client, layout, recorded, rejectedKeys: rejected, hooks });
        } else {
          const chunk = (await state.listChunks(client, args.runId, table.source, chunkNo, 1))[0];
          if (!chunk || chunk.chunkNo !== chunkNo) {
            throw nonRetryable(FailureType.PlanMissing, `checksum of ${where}: no such chunk in cutover.chunks for run ${args.runId}`);
          }
          const range = { chunkNo, lo: chunk.lo, hi: chunk.hi };
          const rejected = await rejectedKeys(client, args.runId, table.source, chunkNo);
          // The copy recorded the source side with its checkpoints: only the target is read.
          const r = await state.getChunkDigests(client, args.runId, table.source, chunkNo);
          const recorded: RecordedSource | null = r?.done && r.digests ? { digests: r.digests, specId: r.specId, rejectedRows: r.rowsRejected } : null;
          result = await compareRecordedChunk({ db, client, layout, chunk: range, recorded, rejectedKeys: rejected, hooks });
        }
        await saveChecksum(client, args.runId, result);
        return slim(result);
      });
    } catch (err) {
      if (err instanceof ApplicationFailure || ctx.cancellationSignal.aborted) throw err;
      const message = `checksum of ${where} failed: ${describePgError(err)}`;
      if (isPermanent(err)) throw ApplicationFailure.create({ type: 'ChecksumError', nonRetryable: true, message, cause: err as Error });
      throw ApplicationFailure.create({ type: 'TransientChecksumError', message: `${message} — retrying` });
    } finally {
      db.close();
    }
  }

  return {
    /** Compares one chunk's key range, source vs target; stores the result in cutover.checksums. */
    async checksumChunk(args: ChecksumChunkArgs): Promise<ChecksumResult> {
      return run(args, args.chunkNo);
    },
    /** Compares a whole table by content (tables with no key in the target: see checksumMode). Stored as chunk_no -1. */
    async checksumTable(args: RunRef & { table: string; source: string }): Promise<ChecksumResult> {
      return run(args, null);
    },
  };
}
