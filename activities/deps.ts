// What activities need from the worker: injected, so tests and the CLI's
// in-process worker can supply their own.
import path from 'node:path';
import type pg from 'pg';
import { TargetPools } from '../src/postgres/connect';
import { targetResolver, type TargetResolver } from '../src/targets';
import type { MigrationPlan } from '../src/types';

export interface ActivityDeps {
  resolveTarget: TargetResolver;
  /** Where runs keep their source snapshot: <workDir>/<runId>/source.db. */
  workDir: string;
  pools: TargetPools;
  /** Plans by run id: chunks of one run share one parsed plan. */
  planCache: Map<string, MigrationPlan>;
  /** Custom search attributes registered in the worker's namespace (set by the worker). */
  listSearchAttributes?: () => Promise<string[]>;
}

export function defaultWorkDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.CUTOVER_WORK_DIR || path.join(env.CUTOVER_STATE_DIR || '.cutover', 'runs'));
}

export function defaultDeps(explicitTargets: Record<string, string> = {}, workDir = defaultWorkDir()): ActivityDeps {
  return { resolveTarget: targetResolver(explicitTargets), pools: new TargetPools(), planCache: new Map(), workDir };
}

export function poolFor(deps: ActivityDeps, target: string): pg.Pool {
  return deps.pools.get(deps.resolveTarget(target));
}
