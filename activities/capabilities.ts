// What the cluster supports, asked once at the start of a run (a local
// activity): search attributes only exist where someone registered them.
import type { ActivityDeps } from './deps';

export const SEARCH_ATTRIBUTES = ['CutoverPhase', 'CutoverSource', 'CutoverTargetSchema'] as const;

export function capabilityActivities(deps: ActivityDeps) {
  return {
    async clusterCapabilities(): Promise<{ searchAttributes: boolean }> {
      if (!deps.listSearchAttributes) return { searchAttributes: false };
      try {
        const names = await deps.listSearchAttributes();
        return { searchAttributes: SEARCH_ATTRIBUTES.every((n) => names.includes(n)) };
      } catch {
        // No operator permission or an old server: runs just are not listed by phase.
        return { searchAttributes: false };
      }
    },
  };
}
