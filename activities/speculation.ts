// Confirms a speculative table's plan once its copy is done (src/plan/speculation.ts).
import { heartbeat } from '@temporalio/activity';
import { heartbeatWhile } from './heartbeat';
import { FailureType, nonRetryable } from '../src/errors';
import { buildPlan, PlanError } from '../src/plan/build-plan';
import { columnWarnings, planDifference, schemaFromJson, type PlanSpeculation } from '../src/plan/speculation';
import { inTransaction, withClient } from '../src/postgres/connect';
import * as ddl from '../src/postgres/ddl';
import { qualified } from '../src/postgres/sql';
import * as state from '../src/postgres/state';
import { introspect } from '../src/sqlite/introspect';
import { openSource } from '../src/sqlite/open';
import { profileTableAsync } from '../src/sqlite/profile';
import { profileFromParts } from '../src/sqlite/profile-parts';
import type { ColumnProfile } from '../src/sqlite/types';
import type { MigrationPlan, TablePlan } from '../src/types';
import { poolFor, type ActivityDeps } from './deps';
import { cachePlan, type RunRef } from './run-context';

export interface ConfirmResult {
  /** The table was emptied and re-created with other types: copy it again, then confirm again. */
  recopy: boolean;
  /** Its column warnings (from every value), and what did not hold if it was re-created. */
  warnings: string[];
}

export function speculationActivities(deps: ActivityDeps) {
  return {
    /**
     * After a speculative table's last chunk: its plan built again from the facts of every row
     * the copy read. Idempotent: a confirmed table stays confirmed; a re-created one asks for its
     * copy until every chunk is done again.
     */
    async confirmTablePlan(args: RunRef & { table: string; source: string }): Promise<ConfirmResult> {
      const pool = poolFor(deps, args.target);
      // Heartbeats while it runs (a worker that dies here is noticed in ddlStep's 30 s, not longStep's 10 minutes).
      return heartbeatWhile({ confirming: args.table }, () => withClient(pool, async (client) => {
        // The full profile first (reading the chunks' facts, or the source if some lack them),
        // outside the plan's row lock: other tables' confirmations need it too.
        const first = await state.loadPlanWithRevision(client, args.runId);
        const spec0 = first?.plan.speculation;
        const status0 = spec0?.tables[args.table];
        if (!first || !spec0 || status0 === undefined) return { recopy: false, warnings: [] };
        if (status0 !== 'sample') return settled(client, first.plan, spec0);
        const stored = first.plan.tables.find((t) => t.source === args.table);
        if (!stored) throw nonRetryable(FailureType.PlanMissing, `table ${args.table} is not in run ${args.runId}'s plan`);
        const full = await fullProfile(client, stored);

        return inTransaction(client, async () => {
          const locked = await state.lockPlan(client, args.runId);
          const plan = locked?.plan;
          const spec = plan?.speculation;
          if (!plan || !spec) throw nonRetryable(FailureType.PlanMissing, `run ${args.runId} has no stored plan in the target's cutover.runs`);
          if (spec.tables[args.table] !== 'sample') return settled(client, plan, spec);
          const schema = spec.schema ? schemaFromJson(spec.schema) : introspectSource(args.source);
          const profiles = { ...spec.profiles, [args.table]: { ...spec.profiles[args.table], ...full } };
          let rebuilt: MigrationPlan;
          try {
            rebuilt = buildPlan(plan.source, schema, profiles, spec.options);
          } catch (err) {
            if (err instanceof PlanError) throw nonRetryable(FailureType.BadInput, err.message);
            throw err;
          }
          // Only this table's facts changed; by the foreign-key rule no other table's types follow them.
          for (const t of plan.tables) {
            if (t.source === args.table) continue;
            const other = rebuilt.tables.find((x) => x.source === t.source);
            const d = other ? planDifference(t, other) : 'missing';
            if (d !== null) {
              throw nonRetryable(
                FailureType.PlanNotConfirmed,
                `the speculative plan of ${args.table} cannot be confirmed: the types of table ${t.source} would change with it (${d}). Start a new run with CUTOVER_EXACT_PLAN=1 in the worker's environment.`,
              );
            }
          }
          const next = rebuilt.tables.find((t) => t.source === args.table)!;
          const difference = planDifference(stored, next);
          const notes = { ...(spec.notes ?? {}) };
          if (difference !== null) {
            notes[args.table] = `${args.table}: the types chosen from a sample of its rows did not hold for all of them (${difference}); the table was emptied, re-created with types that hold every value, and copied again`;
          }
          const nextPlan: MigrationPlan = {
            ...plan,
            tables: plan.tables.map((t) => (t.source === args.table ? next : t)),
            speculation: { ...spec, tables: { ...spec.tables, [args.table]: difference === null ? 'confirmed' : 'redone' }, profiles, notes },
          };
          if (difference !== null) {
            await client.query(`DROP TABLE ${qualified(plan.targetSchema, stored.target)}`);
            await client.query(ddl.createTableSql(plan.targetSchema, next));
            await state.resetTableCopy(client, args.runId, args.table);
          }
          const rev = await state.replacePlan(client, args.runId, nextPlan);
          cachePlan(deps, args.runId, nextPlan, rev);
          // What did not hold is reported with the table's confirmation after its second copy.
          if (difference !== null) return { recopy: true, warnings: [] };
          return { recopy: false, warnings: columnWarnings(next) };
        });

        async function fullProfile(c: typeof client, t: TablePlan): Promise<Record<string, ColumnProfile>> {
          const parts = await state.getTableProfileParts(c, args.runId, args.table);
          if (parts) return profileFromParts(t.columns.map((x) => x.source), parts);
          // Some chunk was copied without facts (an older worker, a resumed chunk): read the source.
          heartbeat({ profiling: args.table });
          const db = openSource(args.source);
          try {
            const cols = introspect(db).tables.find((x) => x.name === args.table)?.columns ?? [];
            return await profileTableAsync(db, args.table, cols);
          } finally {
            db.close();
          }
        }
      }));

      /** A table confirmed or re-created earlier: re-created and not copied yet → copy; else its warnings. */
      async function settled(c: Parameters<typeof state.getTableProfileParts>[0], plan: MigrationPlan, spec: PlanSpeculation): Promise<ConfirmResult> {
        const t = plan.tables.find((x) => x.source === args.table);
        if (spec.tables[args.table] === 'redone') {
          const copied = await c.query<{ pending: number }>(
            `SELECT count(*) FILTER (WHERE NOT done)::int AS pending FROM cutover.chunks WHERE run_id = $1 AND table_name = $2`,
            [args.runId, args.table],
          );
          if ((copied.rows[0]?.pending ?? 0) > 0) return { recopy: true, warnings: [] };
        }
        const note = spec.notes?.[args.table];
        return { recopy: false, warnings: [...(note ? [note] : []), ...(t ? columnWarnings(t) : [])] };
      }
    },
  };
}

function introspectSource(source: string) {
  const db = openSource(source);
  try {
    return introspect(db);
  } finally {
    db.close();
  }
}
