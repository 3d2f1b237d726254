// Existing-schema mode (issue 5): the app's migrations, a plan against the target's own tables,
// the load around its foreign keys, schema-only plans and read grants.
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, nonRetryable } from '../src/errors';
import { inTransaction, withClient } from '../src/postgres/connect';
import * as state from '../src/postgres/state';
import { planChunks } from '../src/sqlite/chunk-bounds';
import { introspect, SourceUnreadableError } from '../src/sqlite/introspect';
import { openSource } from '../src/sqlite/open';
import { profileTableAsync, releaseProfileThreads } from '../src/sqlite/profile';
import type { ColumnProfile } from '../src/sqlite/types';
import type { PlanSummary, ResolvedInput } from '../src/types';
import { introspectTarget } from '../src/existing/introspect';
import { LoadError, grantSelect, nonEmptyTables, prepareLoad, restoreForeignKeys } from '../src/existing/load';
import { MigrationsError, applyMigrations } from '../src/existing/migrations';
import { buildExistingPlan, mismatchMessage, type ExistingPlan } from '../src/existing/plan';
import { sqliteProbe } from '../src/existing/probe';
import { ensureExistingState } from '../src/existing/state';
import { poolFor, type ActivityDeps } from './deps';
import { preflightActivities } from './preflight';
import { loadRunPlan, type RunRef } from './run-context';

/** The failure type of a refused existing-schema match (one message listing every problem). */
export const SchemaMismatch = 'SchemaMismatch';

export interface ExistingInputs {
  /** Empty the target tables first (rows kept in cutover.backup_* and restored on rollback). */
  truncate: boolean;
  /** "table.column" or "table.*", source names. */
  ignoreColumns: string[];
}

export interface ApplyMigrationsArgs extends RunRef {
  targetSchema: string;
  drizzleMigrations?: string | null;
  sqlMigrations?: string | null;
}

export interface ExistingPlanSummary extends PlanSummary {
  /** Load order (source table names): a wave's tables may be copied in parallel, waves in order. */
  waves: string[][];
  /** Foreign keys dropped around the load (restored by restoreForeignKeys, and by the rollback). */
  droppedForeignKeys: string[];
}

function isExisting(plan: unknown): plan is ExistingPlan {
  return (plan as { mode?: string })?.mode === 'existing';
}

export function existingActivities(deps: ActivityDeps) {
  return {
    /** Before the plan: the app's own migrations (Drizzle folder, then SQL folder). Recorded for rollback. */
    async applyAppMigrations(args: ApplyMigrationsArgs): Promise<{ applied: string[]; skipped: string[]; created: string[]; warnings: string[] }> {
      const pool = poolFor(deps, args.target);
      return withClient(pool, async (client) => {
        await ensureExistingState(client);
        let r;
        try {
          r = await applyMigrations(client, { runId: args.runId, targetSchema: args.targetSchema, drizzleMigrations: args.drizzleMigrations, sqlMigrations: args.sqlMigrations });
        } catch (err) {
          if (err instanceof MigrationsError) throw nonRetryable(FailureType.BadInput, `${err.message}. Nothing else was written.`);
          const e = err as { message?: string; code?: string };
          // A failing migration statement (syntax, duplicate object…) will fail again: stop.
          if (typeof e.code === 'string' && /^(42|22|23|0A)/.test(e.code)) {
            throw nonRetryable(FailureType.BadInput, `drizzleMigrations: a migration failed and was rolled back: ${e.message}. Fix the migration, then start a new run.`);
          }
          throw err;
        }
        // Replaced (not appended) on a retry: the diff is always against the run's first snapshot.
        await inTransaction(client, async () => {
          await client.query(`DELETE FROM cutover.objects WHERE run_id = $1 AND kind = 'migrations'`, [args.runId]);
          if (r.undoSql) await state.recordObject(client, args.runId, { kind: 'migrations', name: args.targetSchema, undoSql: r.undoSql });
        });
        return { applied: r.applied, skipped: r.skipped, created: r.created, warnings: r.warnings };
      });
    },

    /** Replaces `plan` in existing-schema mode. Refuses (SchemaMismatch) with every problem at once. */
    async planExisting({ runId, input, existing }: { runId: string; input: ResolvedInput; existing: ExistingInputs }): Promise<ExistingPlanSummary> {
      const db = openSource(input.source);
      try {
        let schema;
        try {
          schema = introspect(db);
        } catch (err) {
          if (err instanceof SourceUnreadableError) throw nonRetryable(FailureType.BadInput, err.message);
          throw err;
        }
        const profiles: Record<string, Record<string, ColumnProfile>> = {};
        for (const t of schema.tables) {
          heartbeat({ profiling: t.name });
          profiles[t.name] = await profileTableAsync(db, t.name, t.columns);
        }
        await releaseProfileThreads();
        const pool = poolFor(deps, input.target);
        const { target, nonEmpty } = await withClient(pool, async (c) => {
          const target = await introspectTarget(c, input.targetSchema);
          return { target, nonEmpty: await nonEmptyTables(c, input.targetSchema, target.tables.map((t) => t.name)) };
        });
        const { plan, problems, orphanProblems } = buildExistingPlan(input.source, schema, profiles, target, nonEmpty, sqliteProbe(db, schema), {
          targetSchema: input.targetSchema,
          identifiers: input.identifiers ?? 'keep',
          orphans: input.orphans ?? 'fail',
          ignoreColumns: existing.ignoreColumns,
          truncate: existing.truncate,
          map: input.map,
        });
        if (problems.length > 0 || orphanProblems.length > 0) {
          throw ApplicationFailure.create({
            type: problems.length > 0 ? SchemaMismatch : FailureType.BadInput,
            nonRetryable: true,
            message: mismatchMessage(problems, orphanProblems, input.targetSchema),
            details: [{ problems, orphans: orphanProblems }],
          });
        }
        const summary: ExistingPlanSummary = {
          tables: [],
          skipped: plan.skipped,
          warnings: [...plan.warnings],
          waves: plan.existing.waves,
          droppedForeignKeys: plan.existing.droppedForeignKeys.map((f) => `${f.table}.${f.name}`),
        };
        for (const t of plan.tables) {
          heartbeat({ chunking: t.source });
          summary.tables.push({ name: t.source, rows: t.rowCount, chunks: planChunks(db, t.source, t.key, t.rowCount, input.chunkSize, input.parallelism) });
          for (const c of t.columns) for (const w of c.warnings) summary.warnings.push(`${t.source}.${c.source}: ${w}`);
          for (const w of t.warnings) summary.warnings.push(`${t.source}: ${w}`);
        }
        await withClient(pool, (c) => state.savePlan(c, runId, plan));
        deps.planCache.set(runId, plan);
        return summary;
      } finally {
        db.close();
      }
    },

    /** Schema phase of existing mode: emptiness or truncate (with backup), FKs dropped for the load, the undo of the load. */
    async prepareExistingLoad(run: RunRef): Promise<{ truncated: string[]; droppedForeignKeys: string[]; backups: string[] }> {
      const { pool, plan } = await loadRunPlan(deps, run);
      if (!isExisting(plan)) throw nonRetryable(FailureType.PlanMissing, `run ${run.runId}'s plan is not an existing-schema plan`);
      return withClient(pool, async (client) => {
        try {
          return await prepareLoad(client, run.runId, plan);
        } catch (err) {
          if (err instanceof LoadError) throw nonRetryable(FailureType.TargetNotEmpty, err.message);
          throw err;
        }
      });
    },

    /** After the copy (instead of buildConstraints): the dropped FKs back, NOT VALID, then validated. */
    async restoreForeignKeys(run: RunRef): Promise<{ restored: string[]; warnings: string[] }> {
      const { pool, plan } = await loadRunPlan(deps, run);
      if (!isExisting(plan)) return { restored: [], warnings: [] };
      return withClient(pool, (client) => restoreForeignKeys(client, plan));
    },

    /** GRANT USAGE + SELECT on the run's tables to a role (create and existing mode). */
    async grantSelect(run: RunRef & { role: string }): Promise<{ granted: string[] }> {
      const { pool, plan } = await loadRunPlan(deps, run);
      return withClient(pool, async (client) => {
        try {
          return await grantSelect(client, run.runId, plan.targetSchema, plan.tables.map((t) => t.target), run.role);
        } catch (err) {
          if (err instanceof LoadError) throw nonRetryable(FailureType.BadInput, err.message);
          throw err;
        }
      });
    },

    /**
     * Schema only: the create-mode plan, with every table planned as empty (no chunks, sequences
     * from 1), so createSchema → buildConstraints → setSequences → validate run unchanged.
     */
    async planSchemaOnly({ runId, input }: { runId: string; input: ResolvedInput }): Promise<PlanSummary> {
      // No rows are copied: orphans do not matter (every FK is created and validated on empty tables).
      const summary = await preflightActivities(deps).plan({ runId, input: { ...input, orphans: 'keep' } });
      const { pool, plan } = await loadRunPlan(deps, { runId, target: input.target });
      const rows = plan.tables.reduce((s, t) => s + t.rowCount, 0);
      for (const t of plan.tables) {
        t.rowCount = 0;
        t.sqliteSequence = null;
        delete t.rejectWhere;
        for (const fk of t.foreignKeys) delete fk.orphans;
      }
      plan.orphans = input.orphans ?? 'fail';
      plan.warnings = plan.warnings.filter((w) => !/orphan/.test(w));
      const note = `schema only: ${rows} source row(s) not copied; sequences start at 1`;
      plan.warnings.push(note);
      (plan as unknown as { schemaOnly: boolean }).schemaOnly = true;
      await withClient(pool, (c) => state.savePlan(c, runId, plan));
      deps.planCache.set(runId, plan);
      return { tables: summary.tables.map((t) => ({ name: t.name, rows: 0, chunks: [] })), skipped: summary.skipped, warnings: [...summary.warnings, note] };
    },
  };
}
