// Phase 5: one chunk per activity. Exactly once: see src/copy/copy-chunk.ts.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { copyChunk } from '../src/copy/copy-chunk';
import { FailureType, nonRetryable } from '../src/errors';
import { describePgError, isPermanent } from '../src/postgres/errors';
import { openSource } from '../src/sqlite/open';
import { fingerprint, sameFingerprint, type SourceFingerprint } from '../src/sqlite/snapshot';
import { rangeText } from '../src/keys';
import type { ChunkPlan, ChunkResult, KeyPlan } from '../src/types';
import { withClient } from '../src/postgres/connect';
import * as state from '../src/postgres/state';
import { planChunks } from '../src/sqlite/chunk-bounds';
import { poolFor, type ActivityDeps } from './deps';
import { loadRunPlan, type RunRef } from './run-context';

export interface TableChunks {
  name: string;
  rows: number;
  key: KeyPlan;
  chunkCount: number;
  /** Planned from a sample: the table's workflow confirms the plan after the copy (plan/speculation.ts). */
  speculative?: boolean;
}

export function copyActivities(deps: ActivityDeps) {
  return {
    /**
     * Splits every table into key ranges and stores them in cutover.chunks, so
     * the workflow pages through them instead of carrying them in its history.
     */
    async registerChunks(args: RunRef & { source: string; chunkSize: number; parallelism?: number }): Promise<{ tables: TableChunks[] }> {
      const { pool, plan } = await loadRunPlan(deps, args);
      const db = openSource(args.source);
      const tables: TableChunks[] = [];
      try {
        await withClient(pool, async (client) => {
          for (const t of plan.tables) {
            Context.current().heartbeat({ chunking: t.source });
            // Runs recorded before the workflow passed its parallelism: one lane, chunks of chunkSize as then.
            const chunks = planChunks(db, t.source, t.key, t.rowCount, args.chunkSize, args.parallelism ?? 1);
            await state.insertChunks(client, args.runId, chunks);
            const speculative = plan.speculation?.tables[t.source] === 'sample';
            tables.push({ name: t.source, rows: t.rowCount, key: t.key, chunkCount: chunks.length, ...(speculative ? { speculative } : {}) });
          }
        });
      } finally {
        db.close();
      }
      return { tables };
    },

    async listChunks(args: RunRef & { table: string; fromChunkNo: number; limit: number }): Promise<ChunkPlan[]> {
      const pool = poolFor(deps, args.target);
      const rows = await withClient(pool, (c) => state.listChunks(c, args.runId, args.table, args.fromChunkNo, args.limit));
      return rows.map((r) => ({ table: args.table, chunkNo: r.chunkNo, lo: r.lo, hi: r.hi, estimatedRows: r.estimatedRows }));
    },

    async copyChunk(
      args: RunRef & { chunk: ChunkPlan; batchSize: number; source: string; fingerprint?: SourceFingerprint | null; sourceDigests?: boolean },
    ): Promise<ChunkResult> {
      const unchanged = () => {
        if (args.fingerprint && !sameFingerprint(args.fingerprint, fingerprint(args.source))) {
          throw nonRetryable(
            FailureType.SourceChanged,
            `source ${args.source} changed during the run (it was read live: snapshot off), so the target could mix old and new rows. Stop the application writing to it, or run with a snapshot (the default), then start a new run.`,
          );
        }
      };
      unchanged();
      let loaded: Awaited<ReturnType<typeof loadRunPlan>>;
      try {
        loaded = await loadRunPlan(deps, args);
      } catch (err) {
        // The target is away (a speculative run checks its plan's revision first): retried like a failed batch.
        if (err instanceof ApplicationFailure) throw err;
        const cached = deps.planCache.get(args.runId)?.tables.find((t) => t.source === args.chunk.table);
        const where = `table ${args.chunk.table}, chunk ${args.chunk.chunkNo}${cached ? ` (${rangeText(cached.key, args.chunk)})` : ''}`;
        throw ApplicationFailure.create({ type: 'TransientCopyError', message: `copy of ${where} failed: ${describePgError(err)} — retrying from the last committed batch` });
      }
      const { pool, plan } = loaded;
      const table = plan.tables.find((t) => t.source === args.chunk.table);
      if (!table) throw nonRetryable(FailureType.PlanMissing, `table ${args.chunk.table} is not in run ${args.runId}'s plan`);
      const ctx = Context.current();
      const where = `table ${table.source}, chunk ${args.chunk.chunkNo} (${rangeText(table.key, args.chunk)})`;
      const db = openSource(args.source);
      // Liveness apart from progress: a slow batch must not look like a dead worker.
      let last: Record<string, unknown> = { table: table.source, chunkNo: args.chunk.chunkNo, rowsDone: 0 };
      const alive = setInterval(() => ctx.heartbeat(last), 5000);
      try {
        const result = await copyChunk({
          pool,
          db,
          runId: args.runId,
          schema: plan.targetSchema,
          table,
          chunk: args.chunk,
          batchSize: args.batchSize,
          sourceDigests: args.sourceDigests === true,
          sourceProfile: plan.speculation?.tables[table.source] === 'sample',
          liveSource: args.fingerprint != null,
          hooks: {
            heartbeat: (d) => {
              last = { ...d, table: table.source, chunkNo: args.chunk.chunkNo };
              ctx.heartbeat(last);
            },
            throwIfCancelled: () => {
              if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
            },
          },
        });
        unchanged();
        return result;
      } catch (err) {
        if (err instanceof ApplicationFailure || ctx.cancellationSignal.aborted) throw err;
        const message = `copy of ${where} failed: ${describePgError(err)}`;
        // Unknown errors are retried (bounded by the retry policy): a restart or a network blip
        // must cost a batch, not the run. Only errors no retry can fix stop the run now.
        if (isPermanent(err)) throw ApplicationFailure.create({ type: 'CopyError', nonRetryable: true, message, cause: err as Error });
        throw ApplicationFailure.create({ type: 'TransientCopyError', message: `${message} — retrying from the last committed batch` });
      } finally {
        clearInterval(alive);
        db.close();
      }
    },

  };
}
