// `cutover worker`: serves the task queue until SIGINT/SIGTERM, then drains.
import { defaultDeps } from '../../../activities/deps';
import type { Config } from '../../config';
import { connectWorker } from '../../temporal/connect';
import { createWorker } from '../../worker';
import { CliError, ExitCode } from '../exit-codes';

export async function workerCommand(cfg: Config, log: (m: string) => void): Promise<number> {
  if (!cfg.temporalAddress) {
    throw new CliError('cutover worker needs a cluster: set TEMPORAL_ADDRESS (or --temporal-address). For a local one, run `cutover dev`.', ExitCode.BadInput);
  }
  let connection;
  try {
    connection = await connectWorker(cfg, cfg.temporalAddress);
  } catch (err) {
    throw new CliError(`cannot reach Temporal at ${cfg.temporalAddress}: ${(err as Error).message}`, ExitCode.Unreachable, { cause: err });
  }
  const deps = defaultDeps();
  const worker = await createWorker({ connection, namespace: cfg.namespace, taskQueue: cfg.taskQueue, deps });
  log(`worker serving task queue "${cfg.taskQueue}" on ${cfg.temporalAddress} (namespace ${cfg.namespace}); Ctrl-C to stop`);
  // The SDK shuts the worker down on SIGINT/SIGTERM; run() resolves once in-flight tasks drained.
  await worker.run();
  await deps.pools.closeAll();
  await connection.close();
  log('worker stopped');
  return ExitCode.Success;
}
