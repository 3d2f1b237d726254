// `cutover status RUN`: the workflow's progress query, for a terminal or a script.
import { WorkflowNotFoundError } from '@temporalio/client';
import { progressQuery } from '../../../workflows/api';
import type { Config } from '../../config';
import { CliError, ExitCode } from '../exit-codes';
import { gateHint, inFlightRows } from '../progress';
import { openSession } from '../session';

export async function statusCommand(cfg: Config, runId: string, flags: { json: boolean }, log: (m: string) => void): Promise<number> {
  if (!cfg.temporalAddress) {
    throw new CliError('cutover status needs the cluster the run is on: set TEMPORAL_ADDRESS (or --temporal-address), e.g. localhost:7233 while `cutover dev` runs.', ExitCode.BadInput);
  }
  const session = await openSession(cfg, { withWorker: false, targets: {}, embeddedPostgres: false, log });
  try {
    const handle = session.client.workflow.getHandle(runId);
    let desc;
    try {
      desc = await handle.describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new CliError(`no run ${runId} in namespace ${cfg.namespace}. List runs with: temporal workflow list --query "WorkflowType='migrateSqliteToPostgres'"`, ExitCode.BadInput);
      throw err;
    }
    const progress = await handle.query(progressQuery);
    const inFlight = await inFlightRows(handle);
    if (flags.json) {
      process.stdout.write(JSON.stringify({ runId, status: desc.status.name, progress, inFlightRows: Object.fromEntries(inFlight) }, null, 2) + '\n');
    } else {
      process.stdout.write(`run ${runId}: ${desc.status.name}, phase ${progress.phase}, ${progress.rowsPerSecond} rows/s${progress.etaSeconds !== null ? `, ETA ${progress.etaSeconds}s` : ''}\n`);
      const hint = gateHint(progress);
      if (hint) process.stdout.write(`next: ${hint}\n`);
      else if (progress.error) process.stdout.write(`error: ${progress.error}\n`);
      for (const t of progress.tables) {
        const done = t.rowsDone + (inFlight.get(t.table) ?? 0);
        process.stdout.write(`  ${t.table.padEnd(24)} ${String(done).padStart(10)}/${t.rowsTotal} rows  chunks ${t.chunksDone}/${t.chunksTotal}  rejects ${t.rejects}\n`);
      }
    }
    return ExitCode.Success;
  } finally {
    await session.stop();
  }
}
