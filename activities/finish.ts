// Phase 8 (validate) and the rollback compensation.
import { log } from '@temporalio/activity';
import { withClient } from '../src/postgres/connect';
import { checksumProblemsByTable, deleteRunChecksums } from '../src/validate/state';
import { describePgError } from '../src/postgres/errors';
import { qualified } from '../src/postgres/sql';
import * as state from '../src/postgres/state';
import type { MigrationReport, Phase, TableReport } from '../src/types';
import { poolFor, type ActivityDeps } from './deps';
import { loadRunPlan, type RunRef } from './run-context';

export interface ValidateArgs extends RunRef {
  /** Rejected rows tolerated without allowRejects (the whole run). */
  maxRejects?: number;
  source: string;
  snapshot: MigrationReport['snapshot'];
  allowRejects: boolean;
  phases: { phase: Phase; seconds: number }[];
  tableSeconds: Record<string, number>;
  warnings: string[];
}

export interface RollbackResult {
  undone: string[];
  failures: string[];
  stateRemoved: boolean;
}

export function finishActivities(deps: ActivityDeps) {
  return {
    async validate(args: ValidateArgs): Promise<MigrationReport> {
      const { pool, plan } = await loadRunPlan(deps, args);
      const tables: TableReport[] = [];
      let result: MigrationReport | undefined;
      await withClient(pool, async (client) => {
        const invalidFks = await client.query<{ table: string; conname: string }>(
          `SELECT c.relname AS table, k.conname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
             JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND k.contype = 'f' AND NOT k.convalidated`,
          [plan.targetSchema],
        );
        const checksums = await checksumProblemsByTable(client, args.runId);
        let unexpectedRejects = 0;
        for (const t of plan.tables) {
          const counted = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${qualified(plan.targetSchema, t.target)}`);
          const targetRows = Number(counted.rows[0]?.n ?? 0);
          const { rejected } = await state.tableCounts(client, args.runId, t.source);
          // Orphans moved to rejects by the operator's own "reject" policy are not a surprise.
          const chosen = t.rejectWhere?.length ? await state.countRejectsLike(client, args.runId, t.source, `${t.source}: orphan: %`) : 0;
          const problems: string[] = [];
          if (t.rowCount !== targetRows + rejected) {
            problems.push(`row count mismatch: source ${t.rowCount}, target ${targetRows}, rejected ${rejected} (${t.rowCount - targetRows - rejected} unaccounted)`);
          }
          unexpectedRejects += Math.max(0, rejected - chosen);
          if (rejected - chosen > 0 && !args.allowRejects) {
            problems.push(`${REJECTS_PROBLEM}${rejected - chosen} row(s) rejected: see SELECT * FROM cutover.rejects WHERE run_id = '${args.runId}' AND table_name = '${t.source.replace(/'/g, "''")}'`);
          }
          for (const fk of invalidFks.rows.filter((r) => r.table === t.target)) {
            // Left NOT VALID on purpose (orphans "keep"): reported as a warning by buildConstraints.
            if (t.foreignKeys.find((f) => f.name === fk.conname)?.orphans?.policy === 'keep') continue;
            problems.push(`foreign key ${fk.conname} is NOT VALID (rows reference missing parents)`);
          }
          problems.push(...(checksums.get(t.source) ?? []));
          const report: TableReport = {
            table: t.source,
            sourceRows: t.rowCount,
            targetRows,
            rejectedRows: rejected,
            seconds: args.tableSeconds[t.source] ?? 0,
            ok: problems.length === 0,
            problems,
          };
          await state.saveTableResult(client, args.runId, report);
          tables.push(report);
        }
        // Within the run's reject limit (maxRejects), rejects alone do not fail it.
        const tolerated = unexpectedRejects <= (args.maxRejects ?? 0);
        for (const t of tables) {
          t.problems = t.problems.filter((p) => !(tolerated && p.startsWith(REJECTS_PROBLEM))).map((p) => p.replace(REJECTS_PROBLEM, ''));
          t.ok = t.problems.length === 0;
        }
        for (const t of tables) await state.saveTableResult(client, args.runId, t);
        const rows = tables.reduce((s, t) => s + t.targetRows, 0);
        const rejects = tables.reduce((s, t) => s + t.rejectedRows, 0);
        const ok = tables.every((t) => t.ok);
        const report: MigrationReport = {
          runId: args.runId,
          source: args.source,
          target: args.target,
          targetSchema: plan.targetSchema,
          status: ok ? 'succeeded' : 'validation failed',
          tables,
          phases: args.phases,
          totals: { tables: tables.length, rows, rejects, seconds: args.phases.reduce((s, p) => s + p.seconds, 0) },
          skipped: plan.skipped,
          warnings: args.warnings,
          snapshot: args.snapshot,
        };
        await state.saveReport(client, args.runId, report);
        await state.setRunStatus(client, args.runId, ok ? 'succeeded' : 'validation failed', 'validate');
        result = report;
      });
      return result!;
    },

    /**
     * Undoes everything the run recorded, newest first. Idempotent: an undo
     * step that succeeded is forgotten, so a rerun continues where it stopped.
     * A failing step is reported, not thrown: the rest still gets undone.
     */
    async rollback(args: RunRef & { keepState: boolean }): Promise<RollbackResult> {
      const pool = poolFor(deps, args.target);
      deps.planCache.delete(args.runId);
      const undone: string[] = [];
      const failures: string[] = [];
      let stateRemoved = false;
      await withClient(pool, async (client) => {
        if (!(await state.stateSchemaExists(client))) return;
        // A lock held by another session must not hang the rollback: fail the step, say why, go on.
        await client.query(`SELECT set_config('lock_timeout', $1, false)`, [undoLockTimeout()]);
        for (const obj of await state.listObjectsNewestFirst(client, args.runId)) {
          try {
            await client.query(obj.undo_sql);
            await state.deleteObject(client, args.runId, obj.seq);
            undone.push(`${obj.kind} ${obj.name}`);
          } catch (err) {
            const locked = (err as { code?: string }).code === '55P03';
            const msg =
              `could not undo ${obj.kind} ${obj.name} (${obj.undo_sql}): ${describePgError(err)}` +
              (locked ? ' — another session holds a lock on it (SELECT * FROM pg_locks JOIN pg_stat_activity USING (pid)); end that session, then run the rollback again' : '');
            log.error(msg, { runId: args.runId });
            failures.push(msg);
          }
        }
        await client.query(`RESET lock_timeout`);
        const run = await state.getRun(client, args.runId);
        if (args.keepState || failures.length > 0) {
          if (run) await state.setRunStatus(client, args.runId, failures.length ? 'rollback incomplete' : 'rolled back', 'rolled back');
          return;
        }
        if (run?.created_state_schema && (await state.countRuns(client)) <= 1) {
          await state.dropStateSchema(client);
        } else {
          await deleteRunChecksums(client, args.runId);
          await state.deleteRunState(client, args.runId);
        }
        stateRemoved = true;
      });
      return { undone, failures, stateRemoved };
    },
  };
}

/** How long one undo step waits for a lock (CUTOVER_UNDO_LOCK_TIMEOUT, PostgreSQL interval syntax). */
function undoLockTimeout(): string {
  return process.env.CUTOVER_UNDO_LOCK_TIMEOUT || '60s';
}

/** Marks the "rows rejected" problem until the run-wide reject limit is applied. */
const REJECTS_PROBLEM = '[rejects] ';
