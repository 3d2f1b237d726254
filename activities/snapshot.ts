// Phase 3: a consistent copy of the source (SQLite online backup), or, with
// snapshot off, a fingerprint of the source to detect writes during the run.
import { heartbeat } from '@temporalio/activity';
import path from 'node:path';
import { classifySourceError } from '../src/sqlite/open';
import { fingerprint, takeSnapshot, takenFrom, type SourceFingerprint } from '../src/sqlite/snapshot';
import type { ActivityDeps } from './deps';
import type { SnapshotFile } from '../src/types';

export interface SnapshotResult {
  /** What every later read opens. */
  readPath: string;
  snapshot: SnapshotFile | null;
  /** Set when reading the live source: chunks compare it before and after. */
  fingerprint: SourceFingerprint | null;
  /** The source as it was when the run read it: the cutover gate checks it is still so. */
  sourceFingerprint: SourceFingerprint;
}

/** Where a run keeps its snapshots: <workDir>/<runId>/source.db (and source-<n>.db for reruns). */
export function snapshotDir(deps: Pick<ActivityDeps, 'workDir'>, runId: string): string {
  return path.join(deps.workDir, runId.replace(/[^A-Za-z0-9_.-]/g, '_'));
}

export function snapshotActivities(deps: ActivityDeps) {
  return {
    /** `generation` > 0: a rerun's new snapshot (source-<n>.db), next to the first one. */
    async snapshot(args: { runId: string; source: string; enabled: boolean; generation?: number }): Promise<SnapshotResult> {
      const before = fingerprint(args.source);
      if (!args.enabled) return { readPath: args.source, snapshot: null, fingerprint: before, sourceFingerprint: before };
      const dir = snapshotDir(deps, args.runId);
      try {
        const file = args.generation ? `source-${args.generation}.db` : 'source.db';
        const snap = await takeSnapshot(args.source, dir, (pct) => heartbeat({ snapshotPercent: pct }), file, { before });
        // A snapshot taken earlier (by preflight, or by an attempt of this activity that was cut
        // off after it) stands for the source as it was then: the cutover gate compares with that.
        return { readPath: snap.path, snapshot: snap, fingerprint: null, sourceFingerprint: takenFrom(snap.path) ?? before };
      } catch (err) {
        throw classifySourceError(err, args.source);
      }
    },
  };
}
