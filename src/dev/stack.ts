/**
 * The local dev stack: a Temporal dev server (state in <stateDir>/temporal)
 * and, when no target URL is given, an embedded PostgreSQL
 * (data in <stateDir>/postgres). Used by `cutover dev`, `cutover migrate`
 * without TEMPORAL_ADDRESS, and the demo.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { startTemporalDevServer, type TemporalDevServer } from './temporal-server';

export interface DevStackOptions {
  /** Root of the persisted state (e.g. <project>/.cutover or CUTOVER_STATE_DIR). */
  stateDir: string;
  /** Temporal gRPC port (default 7233; 0 = free port). */
  temporalPort?: number;
  /** Temporal UI port (default temporalPort + 1000, i.e. 8233; 0 = free port). */
  uiPort?: number;
  /** Serve the Temporal UI (default true). */
  ui?: boolean;
  namespace?: string;
  /** An existing target database; when null/undefined an embedded PostgreSQL is started. */
  targetUrl?: string | null;
  /** Port for the embedded PostgreSQL (default 0 = free port). */
  postgresPort?: number;
  log?: (msg: string) => void;
}

export interface DevStack {
  temporalAddress: string;
  uiUrl: string | null;
  namespace: string;
  /** The given targetUrl, or the embedded PostgreSQL's URL (it contains the fixed dev password). */
  targetUrl: string;
  /** Set when this stack started an embedded PostgreSQL. */
  embeddedPostgres: { url: string; version: string; dataDir: string } | null;
  temporal: { address: string; pid: number; logFile: string; binaryPath: string; binarySource: string };
  /** Stops PostgreSQL (if started) and Temporal, in that order. Idempotent. */
  stop(): Promise<void>;
}

export async function startDevStack(opts: DevStackOptions): Promise<DevStack> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[cutover] ${m}\n`));
  const stateDir = path.resolve(opts.stateDir);
  await fs.mkdir(stateDir, { recursive: true });

  const temporalP = startTemporalDevServer({
    stateDir: path.join(stateDir, 'temporal'),
    port: opts.temporalPort,
    uiPort: opts.uiPort,
    ui: opts.ui,
    namespace: opts.namespace,
    log,
  });
  const pgP: Promise<EmbeddedPostgres | null> = opts.targetUrl
    ? Promise.resolve(null)
    : startEmbeddedPostgres({ dataDir: path.join(stateDir, 'postgres'), port: opts.postgresPort ?? 0, log });

  const [t, p] = await Promise.allSettled([temporalP, pgP]);
  if (t.status === 'rejected' || p.status === 'rejected') {
    // Do not leave half a stack running.
    if (t.status === 'fulfilled') await t.value.stop().catch(() => undefined);
    if (p.status === 'fulfilled') await p.value?.stop().catch(() => undefined);
    throw t.status === 'rejected' ? t.reason : (p as PromiseRejectedResult).reason;
  }
  const temporal: TemporalDevServer = t.value;
  const postgres = p.value;

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      const errors: unknown[] = [];
      await postgres?.stop().catch((e: unknown) => errors.push(e));
      await temporal.stop().catch((e: unknown) => errors.push(e));
      if (errors.length) throw errors[0];
    })();
    return stopping;
  };

  return {
    temporalAddress: temporal.address,
    uiUrl: temporal.uiUrl,
    namespace: temporal.namespace,
    targetUrl: opts.targetUrl ?? postgres!.url,
    embeddedPostgres: postgres ? { url: postgres.url, version: postgres.version, dataDir: postgres.dataDir } : null,
    temporal: {
      address: temporal.address,
      pid: temporal.pid,
      logFile: temporal.logFile,
      binaryPath: temporal.binary.path,
      binarySource: temporal.binary.source,
    },
    stop,
  };
}
