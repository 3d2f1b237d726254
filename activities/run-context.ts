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

/** The stored revision each cached plan was loaded at (state.replacePlan bumps it). */
const cachedRevision = new WeakMap<MigrationPlan, number>();

/** Caches a plan this process has just stored at `rev`. */
export function cachePlan(deps: ActivityDeps, runId: string, plan: MigrationPlan, rev: number): void {
  deps.planCache.set(runId, plan);
  cachedRevision.set(plan, rev);
}

export async function loadRunPlan(deps: ActivityDeps, run: RunRef): Promise<{ pool: pg.Pool; plan: MigrationPlan }> {
  const pool = poolFor(deps, run.target);
  let plan = deps.planCache.get(run.runId);
  // A speculative plan changes while the run copies (one table at a time is confirmed, maybe
  // re-typed, possibly by another worker): a cached one is used only at the stored revision.
  if (plan?.speculation) {
    const rev = await withClient(pool, (c) => state.planRevision(c, run.runId));
    if (rev !== (cachedRevision.get(plan) ?? 0)) plan = undefined;
  }
  if (!plan) {
    plan =
      (await withClient(pool, async (c) => {
        // Once per run and process: a worker newer than the run's state schema adds what it writes.
        await state.upgradeStateSchema(c);
        const loaded = await state.loadPlanWithRevision(c, run.runId);
        if (loaded) cachedRevision.set(loaded.plan, loaded.rev);
        return loaded?.plan;
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
