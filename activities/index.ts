// The worker's activities, built from injected dependencies.
import type { ActivityDeps } from './deps';
import { finishActivities } from './finish';
import { loadActivities } from './load';
import { preflightActivities } from './preflight';

export function createActivities(deps: ActivityDeps) {
  return {
    ...preflightActivities(deps),
    ...loadActivities(deps),
    ...finishActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
