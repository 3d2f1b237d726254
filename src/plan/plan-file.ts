// `cutover plan --source FILE`: the plan of a SQLite file without Temporal or a target.
import { introspect } from '../sqlite/introspect';
import { openSource } from '../sqlite/open';
import { profileTable } from '../sqlite/profile';
import type { ColumnProfile } from '../sqlite/types';
import type { IdentifierMode, MigrationPlan, OrphanPolicy } from '../types';
import { buildPlan } from './build-plan';
import { findOrphans, orphanFailureMessage } from './orphans';

export interface PlanFileOptions {
  targetSchema?: string;
  map?: Record<string, string>;
  infer?: boolean;
  identifiers?: IdentifierMode;
  orphans?: OrphanPolicy;
}

/**
 * Opens the source read-only, introspects, profiles every column and builds the plan.
 * Throws PlanError for a bad --map, SourceUnreadableError for a table SQLite cannot read,
 * and the open/checkSourceFile errors for a missing or non-SQLite file.
 * With orphans "fail" (the default) orphan rows do not throw here: the plan's warnings name
 * them (a migration would stop in preflight).
 */
export function planFromFile(path: string, opts: PlanFileOptions = {}): MigrationPlan {
  const db = openSource(path);
  try {
    const schema = introspect(db);
    const profiles: Record<string, Record<string, ColumnProfile>> = {};
    for (const t of schema.tables) profiles[t.name] = profileTable(db, t.name, t.columns);
    const orphanFindings = findOrphans(db, schema);
    const policy = opts.orphans ?? 'fail';
    const plan = buildPlan(path, schema, profiles, {
      targetSchema: opts.targetSchema ?? 'public',
      map: opts.map ?? {},
      infer: opts.infer ?? false,
      identifiers: opts.identifiers ?? 'keep',
      orphans: policy,
      orphanFindings,
    });
    if (policy === 'fail' && orphanFindings.length > 0) plan.warnings.push(`a migration with orphans "fail" would stop: ${orphanFailureMessage(orphanFindings)}`);
    return plan;
  } finally {
    db.close();
  }
}
