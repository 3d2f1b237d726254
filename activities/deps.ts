// What activities need from the worker: injected, so tests and the CLI's
// in-process worker can supply their own.
import type pg from 'pg';
import { TargetPools } from '../src/postgres/connect';
import { targetResolver, type TargetResolver } from '../src/targets';
import type { MigrationPlan } from '../src/types';

export interface ActivityDeps {
  resolveTarget: TargetResolver;
  pools: TargetPools;
  /** Plans by run id: chunks of one run share one parsed plan. */
  planCache: Map<string, MigrationPlan>;
}

export function defaultDeps(explicitTargets: Record<string, string> = {}): ActivityDeps {
  return { resolveTarget: targetResolver(explicitTargets), pools: new TargetPools(), planCache: new Map() };
}

export function poolFor(deps: ActivityDeps, target: string): pg.Pool {
  return deps.pools.get(deps.resolveTarget(target));
}
