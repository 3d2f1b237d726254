import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

export interface TestEnv {
  /** host:port of the Temporal frontend (dev server from global setup, or TEMPORAL_ADDRESS). */
  temporalAddress: string;
  namespace: string;
  /** Temporal Web UI URL when the dev server was started by the global setup. */
  uiUrl: string | null;
  /** Admin URL of the PostgreSQL server; prefer createTestDatabase() for a database of your own. */
  pgUrl: string;
  /** True when Temporal is our dev server (custom search attributes registered). */
  isDevServer: boolean;
  /** A task queue name unique to this call: `<prefix>-<pid>-<random>`. */
  taskQueue(prefix: string): string;
}

export function testEnv(): TestEnv {
  return {
    temporalAddress: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
    uiUrl: inject('temporalUiUrl'),
    pgUrl: inject('pgUrl'),
    isDevServer: inject('temporalIsDevServer'),
    taskQueue: (prefix: string) => `${prefix}-${process.pid}-${randomBytes(4).toString('hex')}`,
  };
}
