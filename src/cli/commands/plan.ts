// `cutover plan --source FILE`: every table and column's mapping with its reason,
// without Temporal or a target.
import { ApplicationFailure } from '@temporalio/common';
import path from 'node:path';
import { PlanError } from '../../plan/build-plan';
import { planFromFile } from '../../plan/plan-file';
import { renderPlan } from '../../plan/render';
import { SourceUnreadableError } from '../../sqlite/introspect';
import type { IdentifierMode, OrphanPolicy } from '../../types';
import { CliError, ExitCode } from '../exit-codes';
import { parseMaps } from './migrate';

export interface PlanFlags {
  source: string;
  targetSchema?: string;
  map?: string[];
  infer?: boolean;
  identifiers?: IdentifierMode;
  orphans?: OrphanPolicy;
  json?: boolean;
}

export function planCommand(flags: PlanFlags): number {
  let plan;
  try {
    plan = planFromFile(path.resolve(flags.source), {
      targetSchema: flags.targetSchema,
      map: parseMaps(flags.map),
      infer: flags.infer,
      identifiers: flags.identifiers,
      orphans: flags.orphans,
    });
  } catch (err) {
    if (err instanceof PlanError || err instanceof SourceUnreadableError || err instanceof ApplicationFailure) {
      throw new CliError((err as Error).message, ExitCode.BadInput, { cause: err });
    }
    throw err;
  }
  process.stdout.write(flags.json ? JSON.stringify(plan, null, 2) + '\n' : renderPlan(plan) + '\n');
  return ExitCode.Success;
}
