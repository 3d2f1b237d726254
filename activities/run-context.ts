// Loads what every activity of a run needs: the target pool and the stored plan.
import type pg from 'pg';
import { withClient } from '../src/postgres/connect';
import * as state from '../src/postgres/state';
import { FailureType, nonRetryable } from '../src/errors';
import type { MigrationPlan } from '../src/types';
import { poolFor, type ActivityDeps } from './deps';

export interface RunRef {
  runId: string;
  target: string;
}

export async function loadRunPlan(deps: ActivityDeps, run: RunRef): Promise<{ pool: pg.Pool; plan: MigrationPlan }> {
  const pool = poolFor(deps, run.target);
  let plan = deps.planCache.get(run.runId);
  if (!plan) {
    plan =
      (await withClient(pool, async (c) => {
        // Once per run and process: a worker newer than the run's state schema adds what it writes.
        await state.upgradeStateSchema(c);
        return state.loadPlan(c, run.runId);
      })) ?? undefined;
    if (!plan) {
      throw nonRetryable(
        FailureType.PlanMissing,
        `run ${run.runId} has no stored plan in the target's cutover.runs: the state schema was dropped or rolled back while the run was active. Start a new run.`,
      );
    }
    deps.planCache.set(run.runId, plan);
  }
  return { pool, plan };
}
