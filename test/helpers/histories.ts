// Recorded workflow histories: replayed on every CI run, so a workflow change
// that would break a running migration fails CI (then: patched()).
import type { WorkflowHandle } from '@temporalio/client';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveTemporalBinary } from '../../src/dev/temporal-binary';
import { testEnv } from './env';

export const HISTORIES_DIR = path.join(__dirname, '..', 'fixtures', 'histories');

/** With RECORD_HISTORIES=1, saves the run's history (as `temporal workflow show` prints it) as a replay fixture. */
export async function maybeRecordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const env = testEnv();
  const binary = await resolveTemporalBinary();
  const { stdout } = await promisify(execFile)(
    binary.path,
    ['workflow', 'show', '--workflow-id', handle.workflowId, '--address', env.temporalAddress, '--namespace', env.namespace, '--output', 'json'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  writeFileSync(path.join(HISTORIES_DIR, `${name}.json`), stdout);
}
