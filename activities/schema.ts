// Phase 4: create the target tables (no keys yet), recording each for rollback.
import { FailureType, nonRetryable } from '../src/errors';
import { inTransaction, withClient } from '../src/postgres/connect';
import * as ddl from '../src/postgres/ddl';
import { describePgError } from '../src/postgres/errors';
import * as state from '../src/postgres/state';
import type { ActivityDeps } from './deps';
import { loadRunPlan, type RunRef } from './run-context';

export function schemaActivities(deps: ActivityDeps) {
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

  };
}
