// The source changed after the snapshot (found at the cutover gate): which tables differ, and
// copying just those again from a new snapshot. Every step is recorded in cutover.objects with
// an idempotent undo before it takes effect, so a rollback at any point restores the target.
import { heartbeat } from '@temporalio/activity';
import type pg from 'pg';
import { FailureType, nonRetryable } from '../src/errors';
import { emptyTablesSql, readdForeignKeySql } from '../src/existing/load';
import type { ExistingPlan } from '../src/existing/plan';
import { inTransaction, withClient } from '../src/postgres/connect';
import { describePgError } from '../src/postgres/errors';
import { qualified, quoteIdent } from '../src/postgres/sql';
import * as state from '../src/postgres/state';
import { planChunks } from '../src/sqlite/chunk-bounds';
import { diffSources, type SourceDiff } from '../src/sqlite/diff';
import { openSource, quoteSqliteIdent } from '../src/sqlite/open';
import type { MigrationPlan } from '../src/types';
import type { TableChunks } from './copy';
import { poolFor, type ActivityDeps } from './deps';
import { loadRunPlan, type RunRef } from './run-context';

export interface PrepareRerunArgs extends RunRef {
  /** Rerun round, from 1: names this round's records. */
  round: number;
  /** Source names of the tables to copy again. */
  tables: string[];
  /** The new snapshot (or the live source with snapshots off). */
  source: string;
  chunkSize: number;
  /** The run's parallelism (chunk planning: chunkRowsFor); absent in runs recorded before. */
  parallelism?: number;
}

const fkPrefix = (round: number) => `rerun ${round}: `;

/** Every FK whose child or parent is one of `tables` (in any schema: the app's own tables too). */
async function foreignKeysTouching(client: pg.ClientBase, schema: string, tables: string[]) {
  const r = await client.query<{ schema: string; table: string; name: string; definition: string; validated: boolean }>(
    `SELECT n.nspname AS schema, c.relname AS table, k.conname AS name,
            regexp_replace(pg_get_constraintdef(k.oid), '\\s+NOT VALID$', '') AS definition, k.convalidated AS validated
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE k.contype = 'f'
        AND (k.conrelid = ANY($1::regclass[]) OR k.confrelid = ANY($1::regclass[]))
      ORDER BY n.nspname, c.relname, k.conname`,
    [tables.map((t) => qualified(schema, t))],
  );
  return r.rows;
}

export function rerunActivities(deps: ActivityDeps) {
  return {
    /**
     * Tables whose rows differ between the snapshot the target was copied from (`before`) and a
     * new snapshot (`after`); with snapshots off there is nothing to compare with: every table.
     */
    async diffSource(args: RunRef & { before: string | null; after: string }): Promise<SourceDiff> {
      const { plan } = await loadRunPlan(deps, args);
      const tables = plan.tables.map((t) => ({ name: t.source, key: t.key }));
      if (args.before === null) {
        return { schemaChange: null, tables: tables.map((t) => ({ table: t.name, detail: 'read live (snapshot off): what changed cannot be told apart' })) };
      }
      return diffSources(args.before, args.after, tables, (table, rows) => heartbeat({ comparing: table, rows }));
    },

    /**
     * Drops the FKs touching the tables (recorded, restored by restoreRerunForeignKeys and by the
     * rollback), empties the tables, forgets their chunks, rejects and checksums, and registers
     * new chunks from the new snapshot. One transaction: a retry finds it all done or nothing.
     */
    async prepareRerun(args: PrepareRerunArgs): Promise<{ tables: TableChunks[]; droppedForeignKeys: string[] }> {
      const { pool, plan } = await loadRunPlan(deps, args);
      const schema = plan.targetSchema;
      const chosen = plan.tables.filter((t) => args.tables.includes(t.source));
      const missing = args.tables.filter((n) => !chosen.some((t) => t.source === n));
      if (missing.length) throw nonRetryable(FailureType.PlanMissing, `rerun: table(s) ${missing.join(', ')} are not in run ${args.runId}'s plan`);
      const marker = `round ${args.round}`;
      const db = openSource(args.source);
      let dropped: string[] = [];
      try {
        await withClient(pool, (client) =>
          inTransaction(client, async () => {
            if (await state.objectExists(client, args.runId, 'rerun', marker)) return;
            const targets = chosen.map((t) => t.target);
            await client.query(`LOCK TABLE ${targets.map((t) => qualified(schema, t)).join(', ')} IN ACCESS EXCLUSIVE MODE`);
            const fks = await foreignKeysTouching(client, schema, targets);
            for (const fk of fks) {
              // The undo re-adds it as it was (validated or not) and does nothing if it is there.
              await state.recordObject(client, args.runId, {
                kind: 'foreign key',
                name: `${fkPrefix(args.round)}${fk.schema}.${fk.table}.${fk.name}`,
                undoSql: readdForeignKeySql(fk.schema, { table: fk.table, name: fk.name, definition: fk.definition, validated: fk.validated, why: 'cycle', restore: 'validate' }),
              });
              await client.query(`ALTER TABLE ${qualified(fk.schema, fk.table)} DROP CONSTRAINT ${quoteIdent(fk.name)}`);
            }
            dropped = fks.map((f) => `${f.table}.${f.name}`);
            // Recorded after the FKs, so a rollback (newest first) empties every table the run loaded
            // before re-adding them: an FK from an unchanged, full table to an emptied one validates.
            await state.recordObject(client, args.runId, { kind: 'rerun', name: marker, undoSql: emptyAllSql(plan) });
            await client.query(`TRUNCATE TABLE ${targets.map((t) => qualified(schema, t)).join(', ')}`);
            await forgetTables(client, args.runId, chosen.map((t) => t.source));
            for (const t of chosen) {
              heartbeat({ chunking: t.source });
              recount(db, t);
              await state.insertChunks(client, args.runId, planChunks(db, t.source, t.key, t.rowCount, args.chunkSize, args.parallelism ?? 1));
            }
            await state.savePlan(client, args.runId, plan);
          }),
        );
      } catch (err) {
        deps.planCache.delete(args.runId);
        throw err;
      } finally {
        db.close();
      }
      const counts = await withClient(pool, (c) =>
        c.query<{ table_name: string; n: number }>(`SELECT table_name, count(*)::int AS n FROM cutover.chunks WHERE run_id = $1 AND table_name = ANY($2) GROUP BY table_name`, [
          args.runId,
          chosen.map((t) => t.source),
        ]),
      );
      // A retried activity reads the plan its first attempt saved.
      deps.planCache.delete(args.runId);
      const saved = (await loadRunPlan(deps, args)).plan;
      return {
        tables: saved.tables
          .filter((t) => args.tables.includes(t.source))
          .map((t) => ({ name: t.source, rows: t.rowCount, key: t.key, chunkCount: counts.rows.find((r) => r.table_name === t.source)?.n ?? 0 })),
        droppedForeignKeys: dropped,
      };
    },

    /** After the rerun's copy: its dropped FKs back as they were (validated ones validated). */
    async restoreRerunForeignKeys(args: RunRef & { round: number }): Promise<{ restored: string[] }> {
      const pool = poolFor(deps, args.target);
      const prefix = fkPrefix(args.round);
      return withClient(pool, async (client) => {
        const restored: string[] = [];
        for (const o of (await state.listObjectsNewestFirst(client, args.runId)).reverse()) {
          if (o.kind !== 'foreign key' || !o.name.startsWith(prefix)) continue;
          try {
            await client.query(o.undo_sql);
          } catch (err) {
            if ((err as { code?: string }).code === '23503') {
              throw nonRetryable(
                FailureType.ValidationFailed,
                `foreign key ${o.name.slice(prefix.length)} cannot be restored after copying the changed tables again: ${describePgError(err)}. The source's new rows reference missing parents; fix the source (or abort), then start a new run.`,
              );
            }
            throw err;
          }
          restored.push(o.name.slice(prefix.length));
        }
        return { restored };
      });
    },
  };
}

/** Empties every table the run loaded (the rollback drops or empties them all anyway). */
function emptyAllSql(plan: MigrationPlan): string {
  if (plan.mode === 'existing') {
    const ex = (plan as unknown as ExistingPlan).existing;
    return emptyTablesSql(plan.targetSchema, ex.loaded, ex.referencedFromOutside);
  }
  return `TRUNCATE TABLE ${plan.tables.map((t) => qualified(plan.targetSchema, t.target)).join(', ')}`;
}

/** The table's row count and AUTOINCREMENT high-water mark in the new snapshot. */
function recount(db: ReturnType<typeof openSource>, t: MigrationPlan['tables'][number]): void {
  t.rowCount = Number((db.prepare(`SELECT count(*) AS n FROM ${quoteSqliteIdent(t.source)}`).get() as { n: number | bigint }).n);
  const hasSeq = db.prepare(`SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_sequence'`).get();
  const row = hasSeq ? (db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = ?`).get(t.source) as { seq: number | bigint } | undefined) : undefined;
  if (row) t.sqliteSequence = String(row.seq);
}

/** A rerun table's chunk checkpoints, rejects, checksums and results belong to the old copy. */
async function forgetTables(client: pg.ClientBase, runId: string, tables: string[]): Promise<void> {
  for (const st of ['chunks', 'rejects', 'table_results']) {
    await client.query(`DELETE FROM cutover.${st} WHERE run_id = $1 AND table_name = ANY($2)`, [runId, tables]);
  }
  const hasChecksums = await client.query<{ e: boolean }>(`SELECT to_regclass('cutover.checksums') IS NOT NULL AS e`);
  if (hasChecksums.rows[0]?.e) await client.query(`DELETE FROM cutover.checksums WHERE run_id = $1 AND table_name = ANY($2)`, [runId, tables]);
}
