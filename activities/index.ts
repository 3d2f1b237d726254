// The worker's activities, built from injected dependencies.
import { constraintActivities } from './constraints';
import { copyActivities } from './copy';
import { capabilityActivities } from './capabilities';
import { cutoverActivities } from './cutover';
import { createChecksumActivities } from './checksum';
import type { ActivityDeps } from './deps';
import { finishActivities } from './finish';
import { preflightActivities } from './preflight';
import { schemaActivities } from './schema';
import { existingActivities } from './existing';
import { rerunActivities } from './rerun';
import { snapshotActivities } from './snapshot';
import { speculationActivities } from './speculation';

export function createActivities(deps: ActivityDeps) {
  return {
    ...preflightActivities(deps),
    ...snapshotActivities(deps),
    ...schemaActivities(deps),
    ...existingActivities(deps),
    ...copyActivities(deps),
    ...constraintActivities(deps),
    ...finishActivities(deps),
    ...cutoverActivities(deps),
    ...rerunActivities(deps),
    ...createChecksumActivities(deps),
    ...capabilityActivities(deps),
    ...speculationActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
