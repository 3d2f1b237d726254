// `cutover rollback RUN`: starts the rollbackMigration workflow for a run and waits.
import { WorkflowFailedError } from '@temporalio/client';
import { rollbackMigration } from '../../../workflows';
import type { Config } from '../../config';
import { CliError, ExitCode } from '../exit-codes';
import { openSession } from '../session';

export async function rollbackCommand(
  cfg: Config,
  runId: string,
  flags: { target?: string; keepState?: boolean; withWorker?: boolean; json?: boolean },
  log: (m: string) => void,
): Promise<number> {
  const isUrl = flags.target && /^postgres(ql)?:\/\//i.test(flags.target);
  if (!cfg.temporalAddress && !isUrl) {
    throw new CliError('cutover rollback needs the cluster the run is on (TEMPORAL_ADDRESS), or --target postgres://… to run it with the embedded stack.', ExitCode.BadInput);
  }
  const session = await openSession(cfg, {
    withWorker: Boolean(flags.withWorker) || !cfg.temporalAddress,
    targets: isUrl ? { default: flags.target! } : {},
    embeddedPostgres: false,
    log,
  });
  try {
    const result = await session.client.workflow.execute(rollbackMigration, {
      taskQueue: cfg.taskQueue,
      workflowId: `${runId}-rollback-${new Date().toISOString().replace(/[-:.]/g, '')}`,
      args: [{ runId, target: isUrl ? 'default' : (flags.target ?? 'default'), keepState: flags.keepState }],
    });
    if (flags.json) process.stdout.write(JSON.stringify({ runId, ok: true, ...result }, null, 2) + '\n');
    else process.stdout.write(`rolled back ${runId}: ${result.undone.length ? result.undone.join(', ') : 'nothing left to undo'}\n`);
    return ExitCode.Success;
  } catch (err) {
    const message = err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : (err as Error).message;
    if (flags.json) process.stdout.write(JSON.stringify({ runId, ok: false, message }, null, 2) + '\n');
    else process.stderr.write(`cutover: ${message}\n`);
    return ExitCode.Failed;
  } finally {
    await session.stop();
  }
}
