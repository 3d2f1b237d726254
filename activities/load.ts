// Phases 4–7: schema, copy, constraints, sequences. Each step is idempotent:
// a retried activity skips what its earlier attempt already committed.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import { copyChunk } from '../src/copy/copy-chunk';
import { FailureType, nonRetryable } from '../src/errors';
import { derivedName } from '../src/plan/identifiers';
import { inTransaction, withClient } from '../src/postgres/connect';
import * as ddl from '../src/postgres/ddl';
import { describePgError, isPermanent } from '../src/postgres/errors';
import * as state from '../src/postgres/state';
import { openSource } from '../src/sqlite/open';
import { formatKey } from '../src/sqlite/reader';
import type { ChunkPlan, ChunkResult, KeyTuple, TablePlan } from '../src/types';
import type { ActivityDeps } from './deps';
import { loadRunPlan, type RunRef } from './run-context';

async function relationExists(client: pg.ClientBase, schema: string, name: string): Promise<boolean> {
  const r = await client.query(
    `SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
    [schema, name],
  );
  return (r.rowCount ?? 0) > 0;
}

async function constraintExists(client: pg.ClientBase, schema: string, table: string, name: string): Promise<boolean> {
  const r = await client.query(
    `SELECT 1 FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND k.conname = $3`,
    [schema, table, name],
  );
  return (r.rowCount ?? 0) > 0;
}

function rangeText(t: TablePlan, chunk: ChunkPlan): string {
  const side = (k: KeyTuple | null, open: string) => (k ? formatKey(t.key, k).replace(/^.*?=/, '') : open);
  return `${t.key.columns.join(',')} ${side(chunk.lo, 'start')}..${side(chunk.hi, 'end')}`;
}

export function loadActivities(deps: ActivityDeps) {
  return {
    async createSchema(run: RunRef): Promise<{ created: string[] }> {
      const { pool, plan } = await loadRunPlan(deps, run);
      const schema = plan.targetSchema;
      const created: string[] = [];
      await withClient(pool, async (client) => {
        if (!(await state.objectExists(client, run.runId, 'schema', schema))) {
          const exists = await client.query(`SELECT 1 FROM pg_namespace WHERE nspname = $1`, [schema]);
          if (exists.rowCount === 0) {
            await inTransaction(client, async () => {
              await client.query(ddl.createSchemaSql(schema));
              await state.recordObject(client, run.runId, { kind: 'schema', name: schema, undoSql: ddl.dropSchemaSql(schema) });
            });
            created.push(`schema ${schema}`);
          }
        }
        for (const t of plan.tables) {
          if (await state.objectExists(client, run.runId, 'table', t.target)) continue;
          try {
            await inTransaction(client, async () => {
              await client.query(ddl.createTableSql(schema, t));
              await state.recordObject(client, run.runId, { kind: 'table', name: t.target, undoSql: ddl.dropTableSql(schema, t.target) });
            });
          } catch (err) {
            if ((err as { code?: string }).code === '42P07') {
              throw nonRetryable(
                FailureType.TargetNotEmpty,
                `table "${schema}"."${t.target}" appeared in the target after preflight (another process created it). Nothing of it is ours; find out who is writing into schema "${schema}", then start a new run.`,
              );
            }
            if ((err as { code?: string }).code === '42501') {
              throw nonRetryable(FailureType.TargetUnreachable, `no permission to create tables in schema "${schema}": ${describePgError(err)}. Grant CREATE on the schema to the target's user, then start a new run.`);
            }
            throw err;
          }
          created.push(t.target);
        }
      });
      return { created };
    },

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

    async buildConstraints(run: RunRef): Promise<{ created: string[]; warnings: string[] }> {
      const { pool, plan } = await loadRunPlan(deps, run);
      const schema = plan.targetSchema;
      const created: string[] = [];
      const warnings: string[] = [];
      await withClient(pool, async (client) => {
        for (const t of plan.tables) {
          Context.current().heartbeat({ table: t.source });
          const pkName = derivedName(t.target, 'pkey');
          const pkSql = ddl.primaryKeySql(schema, t, pkName);
          if (pkSql && !(await constraintExists(client, schema, t.target, pkName))) {
            await client.query(pkSql);
            created.push(pkName);
          }
          for (const [i, cols] of t.uniques.entries()) {
            const name = derivedName(t.target, `${cols.join('_')}_key${i ? i + 1 : ''}`);
            if (await constraintExists(client, schema, t.target, name)) continue;
            await client.query(ddl.uniqueSql(schema, t, cols, name));
            created.push(name);
          }
          for (const ix of t.indexes) {
            if (await relationExists(client, schema, ix.targetName)) continue;
            await client.query(ddl.createIndexSql(schema, t, ix));
            created.push(ix.targetName);
          }
        }
        for (const t of plan.tables) {
          for (const fk of t.foreignKeys) {
            const ref = plan.tables.find((x) => x.source === fk.refTable) ?? plan.tables.find((x) => x.source.toLowerCase() === fk.refTable.toLowerCase());
            if (!ref) continue;
            const refCols = fk.refColumns.every((c) => c === '') ? ref.primaryKey ?? [] : fk.refColumns;
            const refTargets = refCols.map((c) => ref.columns.find((x) => x.source.toLowerCase() === c.toLowerCase())?.target ?? c);
            const unique =
              (ref.primaryKey && sameCols(ref.primaryKey, refCols)) || ref.uniques.some((u) => sameCols(u, refCols)) || ref.indexes.some((ix) => ix.unique && !ix.whereSql && sameCols(ix.columns, refCols));
            if (!unique || refTargets.length !== fk.columns.length) {
              warnings.push(`${t.source}: foreign key ${fk.name} → ${fk.refTable}(${refCols.join(', ')}) skipped: the referenced columns are not a primary key or unique in the source, which PostgreSQL requires`);
              continue;
            }
            if (!(await constraintExists(client, schema, t.target, fk.name))) {
              await client.query(ddl.addForeignKeySql(schema, t, fk, ref.target, refTargets));
              created.push(fk.name);
            }
            try {
              await client.query(ddl.validateConstraintSql(schema, t.target, fk.name));
            } catch (err) {
              if ((err as { code?: string }).code !== '23503') throw err;
              warnings.push(`${t.source}: foreign key ${fk.name} left NOT VALID: ${describePgError(err)}`);
            }
          }
        }
      });
      return { created, warnings };
    },

    async setSequences(run: RunRef): Promise<{ sequences: { table: string; column: string; next: string }[] }> {
      const { pool, plan } = await loadRunPlan(deps, run);
      const out: { table: string; column: string; next: string }[] = [];
      await withClient(pool, async (client) => {
        for (const t of plan.tables) {
          for (const c of t.columns) {
            if (!c.identity) continue;
            await client.query(ddl.setIdentitySql(plan.targetSchema, t.target, c.target, t.sqliteSequence));
            const seqName = (
              await client.query<{ seq: string | null }>(`SELECT pg_get_serial_sequence($1, $2) AS seq`, [
                `${quote(plan.targetSchema)}.${quote(t.target)}`,
                c.target,
              ])
            ).rows[0]?.seq;
            // seqName comes back from PostgreSQL already quoted and qualified.
            const seq = seqName
              ? await client.query<{ next: string }>(`SELECT (CASE WHEN is_called THEN last_value + 1 ELSE last_value END)::text AS next FROM ${seqName}`)
              : { rows: [] as { next: string }[] };
            out.push({ table: t.source, column: c.source, next: seq.rows[0]?.next ?? '?' });
          }
        }
      });
      return { sequences: out };
    },
  };
}

function quote(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

function sameCols(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x.toLowerCase() === b[i]!.toLowerCase());
}
