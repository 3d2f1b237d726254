// Phase 1 and 2: check the source and the target, register the run, make the plan.
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, nonRetryable } from '../src/errors';
import { PlanError, buildPlan, type PlanOptions } from '../src/plan/build-plan';
import { columnWarnings, notSpeculable, schemaToJson, speculateMinRows } from '../src/plan/speculation';
import { assignIdentifiers } from '../src/plan/identifiers';
import { withClient } from '../src/postgres/connect';
import { describePgError, isRetryable } from '../src/postgres/errors';
import * as state from '../src/postgres/state';
import { planChunks } from '../src/sqlite/chunk-bounds';
import { introspect, SourceUnreadableError } from '../src/sqlite/introspect';
import { orphanFailureMessage } from '../src/plan/orphans';
import { findOrphansAsync } from '../src/plan/orphans-thread';
import { heartbeatWhile } from './heartbeat';
import { checkIntegrityOffThread, classifySourceError, openSource, type IntegrityPragma, type SqliteDb } from '../src/sqlite/open';
import { needsFullIntegrityCheck } from '../src/sqlite/reader';
import { profileSample, profileTableAsync, releaseProfileThreads } from '../src/sqlite/profile';
import type { ColumnProfile } from '../src/sqlite/types';
import type { PlanSummary, ResolvedInput, SkippedObject } from '../src/types';
import { poolFor, type ActivityDeps } from './deps';
import { snapshotDir } from './snapshot';
import { fingerprint, removeSnapshot, takeSnapshot } from '../src/sqlite/snapshot';
import { cachePlan } from './run-context';

export interface PreflightArgs {
  runId: string;
  temporalRunId: string;
  input: ResolvedInput;
}

export interface PreflightResult {
  /** The source's tables (their row counts come with the plan, which counts them). */
  tables: { name: string }[];
  skipped: SkippedObject[];
  warnings: string[];
  sqliteVersion: string;
  journalMode: string;
  postgresVersion: string;
}

/** The pragma, tolerating only an application-defined collation it cannot load (said in `warnings`). */
async function integrityCheck(db: SqliteDb, source: string, pragma: IntegrityPragma, warnings: string[]): Promise<void> {
  try {
    await checkIntegrityOffThread(db, source, undefined, pragma);
  } catch (err) {
    // The check needs every collation the schema names; better-sqlite3 cannot register
    // application-defined ones. That is not corruption: check what can be checked, and say so.
    if (!/no such collation sequence/i.test(String((err as Error).message))) throw err;
    warnings.push(`PRAGMA ${pragma} could not run: ${(err as Error).message.replace(/^.*?(no such collation sequence)/i, '$1')} (an application-defined collation): the file is not verified beyond reading every row`);
  }
}

interface EarlySnapshot {
  settled: Promise<void>;
  discard(): Promise<void>;
}

/**
 * The run's snapshot, copied during preflight (best effort: the file copy only; anything else,
 * and any error, is left to the snapshot step, which reports it). Its source fingerprint is taken
 * before the copy and kept with it (snapshot.ts takenFrom).
 */
function startEarlySnapshot(dir: string, source: string): EarlySnapshot {
  let stop = false;
  const settled = (async () => {
    try {
      await takeSnapshot(source, dir, (pct) => heartbeat({ snapshotPercent: pct }), 'source.db', { before: fingerprint(source), fileCopyOnly: true, shouldStop: () => stop });
    } catch {
      // The snapshot step takes it again, and reports what goes wrong then.
    }
  })();
  return {
    settled,
    async discard() {
      stop = true;
      await settled;
      try {
        removeSnapshot(dir);
      } catch {
        // Only disk space: the run failed for the reason thrown, not for this.
      }
    },
  };
}

export function preflightActivities(deps: ActivityDeps) {
  return {
    async preflight({ runId, temporalRunId, input }: PreflightArgs): Promise<PreflightResult> {
      const db = openSource(input.source);
      const warnings: string[] = [];
      // quick_check first (linear: every B-tree's pages and records); the index-vs-table part of
      // integrity_check only when some table is read through an index (open.ts, IntegrityPragma).
      // On a large file quick_check runs in a thread while this one reads the schema and asks the
      // target; its verdict is awaited before anything is written to the target, and a bad source
      // is reported before any problem of the target, as when the check ran first.
      const quick = integrityCheck(db, input.source, 'quick_check', warnings).then(
        () => null,
        (err: unknown) => ({ err }),
      );
      const sourceFailure = (err: unknown) => (err instanceof SourceUnreadableError ? nonRetryable(FailureType.BadInput, err.message) : classifySourceError(err, input.source));
      let schema: ReturnType<typeof introspect>;
      try {
        // No row counts: the plan counts the rows it plans. Counting here too (0.22 s for the bench's
        // 3M rows, on this thread) delayed the target's checks and so the early snapshot behind them.
        schema = introspect(db, { countRows: false });
      } catch (err) {
        const q = await quick;
        db.close();
        throw sourceFailure(q ? q.err : err);
      }
      const sourceChecked = (async () => {
        try {
          const q = await quick;
          if (q) throw q.err;
          if (needsFullIntegrityCheck(schema.tables)) await integrityCheck(db, input.source, 'integrity_check', warnings);
        } catch (err) {
          throw sourceFailure(err);
        } finally {
          db.close();
        }
      })();
      sourceChecked.catch(() => undefined); // awaited below, on every path
      const url = deps.resolveTarget(input.target);
      const pool = deps.pools.get(url);
      let postgresVersion = '';
      let early = null as EarlySnapshot | null;
      try {
        await withClient(pool, async (client) => {
          postgresVersion = String((await client.query<{ v: string }>('SHOW server_version')).rows[0]?.v ?? '');
          const existing = await state.stateSchemaExists(client) ? await state.getRun(client, runId) : null;
          if (existing) {
            if (existing.temporal_run_id === temporalRunId) return; // a retry of this very preflight
            throw nonRetryable(
              FailureType.BadInput,
              `run id ${runId} was already used for another migration into this target (status ${existing.status}). Start the new run with a different workflow id, or roll the old one back with \`cutover rollback ${runId}\`.`,
            );
          }
          if (await state.stateSchemaExists(client)) {
            const active = await state.findActiveRun(client, input.targetSchema);
            if (active) throw runInProgress(active.run_id, input.targetSchema);
          }
          const names = assignIdentifiers(
            schema.tables.map((t) => t.name),
            'table',
            input.identifiers ?? 'keep',
          ).names;
          const clash = await client.query<{ relname: string }>(
            `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) ORDER BY 1`,
            [input.targetSchema, [...names.values()]],
          );
          // Existing-schema mode loads into tables that exist on purpose (checked by planExisting).
          if (clash.rows.length > 0 && input.schema !== 'existing') {
            const list = clash.rows.map((r) => r.relname);
            throw nonRetryable(
              FailureType.TargetNotEmpty,
              `target schema "${input.targetSchema}" already has ${list.length} of the source's tables: ${list.slice(0, 10).join(', ')}${list.length > 10 ? ', …' : ''}. Nothing was written. Migrate into an empty schema (targetSchema), or drop those tables if they are leftovers of an earlier attempt, then start a new run.`,
            );
          }
          // The target has room for this run: its snapshot is copied while the source check runs
          // (one core reads for SQLite's check, the other copies); the snapshot step then reuses it.
          if (input.snapshot) early ??= startEarlySnapshot(snapshotDir(deps, runId), input.source);
          await sourceChecked;
          const created = await state.ensureStateSchema(client);
          try {
            await state.insertRun(client, { runId, temporalRunId, source: input.source, targetSchema: input.targetSchema, createdStateSchema: created });
          } catch (err) {
            if ((err as { code?: string }).code === '23505') {
              const active = await state.findActiveRun(client, input.targetSchema);
              throw runInProgress(active?.run_id ?? 'another run', input.targetSchema);
            }
            throw err;
          }
        }).catch(async (err) => {
          await sourceChecked; // a bad source is the first thing to fix
          if (err instanceof ApplicationFailure) throw err;
          const message = `target "${input.target}" ${isRetryable(err) ? 'is unreachable' : 'refused the preflight checks'}: ${describePgError(err)}. Check that PostgreSQL is up and that ${'the worker\'s'} connection settings for "${input.target}" are right.`;
          if (isRetryable(err)) throw ApplicationFailure.create({ type: FailureType.TargetUnreachable, message });
          throw nonRetryable(FailureType.TargetUnreachable, message);
        });
        await sourceChecked;
        await early?.settled;
      } catch (err) {
        // No run: no snapshot left behind.
        if (early) await early.discard();
        throw err;
      }
      void url;
      if (schema.triggers.length > 0) warnings.push(`${schema.triggers.length} trigger(s) are listed in the report, not migrated`);
      if (schema.views.length > 0) warnings.push(`${schema.views.length} view(s): portable ones are created after the data, the others are listed in the report`);
      return {
        tables: schema.tables.map((t) => ({ name: t.name })),
        skipped: schema.skipped,
        warnings,
        sqliteVersion: schema.sqliteVersion,
        journalMode: schema.journalMode,
        postgresVersion,
      };
    },

    async plan({ runId, input }: { runId: string; input: ResolvedInput }): Promise<PlanSummary> {
      const db = openSource(input.source);
      try {
        const schema = introspect(db);
        // PRAGMA foreign_key_check scans every child table: in a thread of its own (a large file)
        // while this one samples and profiles. Still before anything is created or copied.
        const orphansChecked = findOrphansAsync(db, schema);
        orphansChecked.catch(() => undefined); // awaited below, on every path that goes on
        const profiles: Record<string, Record<string, ColumnProfile>> = {};
        // Large tables are planned from a sample and confirmed from the copy's own reading of every
        // row (src/plan/speculation.ts): one read of the source instead of two.
        const minRows = speculateMinRows();
        const sampled = new Set<string>();
        for (const t of schema.tables) {
          heartbeat({ profiling: t.name });
          if (minRows !== null && t.rowCount >= minRows) {
            const sample = profileSample(db, t.name, t.columns);
            if (sample) {
              profiles[t.name] = sample;
              sampled.add(t.name);
              continue;
            }
          }
          // Large tables are scanned by helper threads: this thread stays free for heartbeats,
          // workflow tasks and other activities' COPYs.
          profiles[t.name] = await profileTableAsync(db, t.name, t.columns);
        }
        const orphanFindings = await heartbeatWhile({ checkingForeignKeys: true }, () => orphansChecked);
        if (orphanFindings.length > 0 && (input.orphans ?? 'fail') === 'fail') throw nonRetryable(FailureType.BadInput, orphanFailureMessage(orphanFindings));
        const options: PlanOptions = {
          targetSchema: input.targetSchema,
          map: input.map,
          infer: input.infer,
          identifiers: input.identifiers ?? 'keep',
          orphans: input.orphans ?? 'fail',
          orphanFindings,
          onNul: input.onNul,
          onInvalidUtf8: input.onInvalidUtf8,
        };
        const build = () => {
          try {
            return buildPlan(input.source, schema, profiles, options);
          } catch (err) {
            if (err instanceof PlanError) throw nonRetryable(FailureType.BadInput, err.message);
            throw err;
          }
        };
        let plan = build();
        // Tables in a foreign key that is not integer on both sides are profiled whole after all.
        for (let demoted = notSpeculable(plan, sampled); demoted.length > 0; demoted = notSpeculable(plan, sampled)) {
          for (const name of demoted) {
            const t = schema.tables.find((x) => x.name === name)!;
            heartbeat({ profiling: name });
            profiles[name] = await profileTableAsync(db, name, t.columns);
            sampled.delete(name);
          }
          plan = build();
        }
        // The profile threads are not needed for the rest of the run: their memory goes now.
        await releaseProfileThreads();
        if (sampled.size > 0) {
          plan.speculation = { tables: Object.fromEntries([...sampled].map((n) => [n, 'sample' as const])), profiles, options, schema: schemaToJson(schema) };
        }
        const summary: PlanSummary = { tables: [], skipped: plan.skipped, warnings: [...plan.warnings] };
        for (const t of plan.tables) {
          heartbeat({ chunking: t.source });
          summary.tables.push({ name: t.source, rows: t.rowCount, chunks: planChunks(db, t.source, t.key, t.rowCount, input.chunkSize, input.parallelism) });
          // A sampled table's column warnings come with its confirmation (they need every value).
          if (!sampled.has(t.source)) summary.warnings.push(...columnWarnings(t));
          for (const w of t.warnings) summary.warnings.push(`${t.source}: ${w}`);
        }
        const rev = await withClient(poolFor(deps, input.target), (c) => state.savePlan(c, runId, plan));
        cachePlan(deps, runId, plan, rev);
        return summary;
      } finally {
        db.close();
      }
    },
  };
}

function runInProgress(activeRunId: string, schema: string): ApplicationFailure {
  return nonRetryable(
    FailureType.RunInProgress,
    `run ${activeRunId} is still active on target schema "${schema}": two runs must not write into one schema. Wait for it, or abort it (\`cutover abort ${activeRunId}\`); if its workflow was terminated, roll it back with \`cutover rollback ${activeRunId}\`.`,
  );
}
