// Phase 5: one chunk per activity. Exactly once: see src/copy/copy-chunk.ts.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { copyChunk } from '../src/copy/copy-chunk';
import { FailureType, nonRetryable } from '../src/errors';
import { describePgError, isPermanent } from '../src/postgres/errors';
import { openSource } from '../src/sqlite/open';
import { formatKey } from '../src/sqlite/reader';
import type { ChunkPlan, ChunkResult, KeyTuple, TablePlan } from '../src/types';
import type { ActivityDeps } from './deps';
import { loadRunPlan, type RunRef } from './run-context';

/** "id 1..500000": the key range of a chunk, for messages and summaries. */
export function rangeText(t: TablePlan, chunk: ChunkPlan): string {
  const side = (k: KeyTuple | null, open: string) => (k ? formatKey(t.key, k).replace(/^.*?=/, '') : open);
  return `${t.key.columns.join(',')} ${side(chunk.lo, 'start')}..${side(chunk.hi, 'end')}`;
}


export function copyActivities(deps: ActivityDeps) {
  return {
    async copyChunk(args: RunRef & { chunk: ChunkPlan; batchSize: number; source: string }): Promise<ChunkResult> {
      const { pool, plan } = await loadRunPlan(deps, args);
      const table = plan.tables.find((t) => t.source === args.chunk.table);
      if (!table) throw nonRetryable(FailureType.PlanMissing, `table ${args.chunk.table} is not in run ${args.runId}'s plan`);
      const ctx = Context.current();
      const where = `table ${table.source}, chunk ${args.chunk.chunkNo} (${rangeText(table, args.chunk)})`;
      const db = openSource(args.source);
      try {
        return await copyChunk({
          pool,
          db,
          runId: args.runId,
          schema: plan.targetSchema,
          table,
          chunk: args.chunk,
          batchSize: args.batchSize,
          hooks: {
            heartbeat: (d) => ctx.heartbeat({ ...d, table: table.source, chunkNo: args.chunk.chunkNo }),
            throwIfCancelled: () => {
              if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
            },
          },
        });
      } catch (err) {
        if (err instanceof ApplicationFailure || ctx.cancellationSignal.aborted) throw err;
        const message = `copy of ${where} failed: ${describePgError(err)}`;
        // Unknown errors are retried (bounded by the retry policy): a restart or a network blip
        // must cost a batch, not the run. Only errors no retry can fix stop the run now.
        if (isPermanent(err)) throw ApplicationFailure.create({ type: 'CopyError', nonRetryable: true, message, cause: err as Error });
        throw ApplicationFailure.create({ type: 'TransientCopyError', message: `${message} — retrying from the last committed batch` });
      } finally {
        db.close();
      }
    },

  };
}
