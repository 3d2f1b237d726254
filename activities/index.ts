// The worker's activities, built from injected dependencies.
import { constraintActivities } from './constraints';
import { copyActivities } from './copy';
import type { ActivityDeps } from './deps';
import { finishActivities } from './finish';
import { preflightActivities } from './preflight';
import { schemaActivities } from './schema';
import { snapshotActivities } from './snapshot';

export function createActivities(deps: ActivityDeps) {
  return {
    ...preflightActivities(deps),
    ...snapshotActivities(deps),
    ...schemaActivities(deps),
    ...copyActivities(deps),
    ...constraintActivities(deps),
    ...finishActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
