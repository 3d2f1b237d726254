/**
 * Vitest global setup: one Temporal dev server and one embedded PostgreSQL per
 * test run, shared by all test files (each file makes its own database and task
 * queue: see test/helpers). Set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE) or
 * TEST_DATABASE_URL to use existing servers instead.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../src/dev/embedded-postgres';
import { startTemporalDevServer } from '../src/dev/temporal-server';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the Temporal frontend. */
    temporalAddress: string;
    temporalNamespace: string;
    /** Temporal Web UI base URL, or null when using an external TEMPORAL_ADDRESS. */
    temporalUiUrl: string | null;
    /** Admin URL of the test PostgreSQL server (database "postgres"); use createTestDatabase() per file. */
    pgUrl: string;
    /** True when the Temporal server was started by this setup (the dev server, with its custom search attributes). */
    temporalIsDevServer: boolean;
  }
}

const log = (m: string) => process.stderr.write(`[global-setup] ${m}\n`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'cutover-test-'));
  const stops: Array<() => Promise<void>> = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => log(`teardown: ${String(e)}`));
    await fs.rm(stateRoot, { recursive: true, force: true }).catch(() => undefined);
  };

  try {
    const externalTemporal = process.env.TEMPORAL_ADDRESS?.trim();
    const externalPg = process.env.TEST_DATABASE_URL?.trim();

    const temporalP = externalTemporal
      ? Promise.resolve(null)
      : startTemporalDevServer({ stateDir: path.join(stateRoot, 'temporal'), port: 0, uiPort: 0, persist: true, log });
    const pgP = externalPg
      ? Promise.resolve(null)
      : startEmbeddedPostgres({ dataDir: path.join(stateRoot, 'postgres'), port: 0, durable: false, log });
    const [t, p] = await Promise.allSettled([temporalP, pgP]);
    if (t.status === 'fulfilled' && t.value) stops.push(t.value.stop);
    if (p.status === 'fulfilled' && p.value) stops.push(p.value.stop);
    if (t.status === 'rejected') throw t.reason;
    if (p.status === 'rejected') throw p.reason;

    const temporal = t.value;
    const postgres = p.value;
    project.provide('temporalAddress', temporal?.address ?? externalTemporal!);
    project.provide('temporalNamespace', temporal?.namespace ?? (process.env.TEMPORAL_NAMESPACE?.trim() || 'default'));
    project.provide('temporalUiUrl', temporal?.uiUrl ?? null);
    project.provide('temporalIsDevServer', temporal !== null);
    project.provide('pgUrl', postgres?.url ?? externalPg!);
    log(
      `Temporal ${temporal ? `dev server ${temporal.address}` : `external ${externalTemporal}`}; ` +
        `PostgreSQL ${postgres ? `embedded ${postgres.version} on port ${postgres.port}` : 'external TEST_DATABASE_URL'}`,
    );
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
