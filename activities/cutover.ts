// Phase 9 (cutover): the source-changed check and the operator's hook command.
import { heartbeat } from '@temporalio/activity';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FailureType, nonRetryable } from '../src/errors';
import { withClient } from '../src/postgres/connect';
import * as state from '../src/postgres/state';
import { fingerprint, sameFingerprint, type SourceFingerprint } from '../src/sqlite/snapshot';
import type { MigrationReport } from '../src/types';
import { poolFor, type ActivityDeps } from './deps';
import type { RunRef } from './run-context';

export function cutoverActivities(deps: ActivityDeps) {
  return {
    /** True when the source file is as it was when the snapshot was taken. */
    async sourceUnchanged(args: { source: string; fingerprint: SourceFingerprint }): Promise<{ unchanged: boolean; now: SourceFingerprint }> {
      const now = fingerprint(args.source);
      return { unchanged: sameFingerprint(args.fingerprint, now), now };
    },

    /** Runs the cutover hook with the run id and the report's path; its failure fails the run. */
    async runCutoverHook(args: RunRef & { command: string; report: MigrationReport }): Promise<{ exitCode: number; stdout: string }> {
      const dir = path.join(deps.workDir, args.runId.replace(/[^A-Za-z0-9_.-]/g, '_'));
      mkdirSync(dir, { recursive: true });
      const reportPath = path.join(dir, 'report.json');
      writeFileSync(reportPath, JSON.stringify(args.report, null, 2));
      const child = spawn(args.command, {
        shell: true,
        // The hook gets the run, not our secrets: the target URL is not passed on.
        env: { PATH: process.env.PATH, HOME: process.env.HOME, CUTOVER_RUN_ID: args.runId, CUTOVER_REPORT_PATH: reportPath, CUTOVER_TARGET_SCHEMA: args.report.targetSchema },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout = (stdout + d.toString()).slice(-4000)));
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
      const beat = setInterval(() => heartbeat({ hook: 'running' }), 5000);
      const exitCode: number = await new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
      clearInterval(beat);
      if (exitCode !== 0) {
        throw nonRetryable(
          FailureType.HookFailed,
          `cutover hook exited with code ${exitCode}: ${stderr.trim() || '(no stderr)'}. The migration was validated; fix the hook (it got CUTOVER_RUN_ID and CUTOVER_REPORT_PATH) and run the cutover again.`,
        );
      }
      return { exitCode, stdout };
    },

    async recordCutover(args: RunRef): Promise<void> {
      await withClient(poolFor(deps, args.target), (c) => state.setRunStatus(c, args.runId, 'cut over', 'cutover'));
    },
  };
}
