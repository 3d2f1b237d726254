import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  /** Connection URL of the fresh database (same server and credentials as the admin URL). */
  url: string;
  name: string;
  /** Drops the database (terminating its connections). Idempotent. */
  drop(): Promise<void>;
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** Replaces the database name in a postgres:// URL. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Creates a fresh, empty database on the test server (the global setup's
 * embedded PostgreSQL, or TEST_DATABASE_URL) named `<prefix>_<random>`.
 * Call `drop()` in afterAll.
 */
export async function createTestDatabase(prefix: string, adminUrl: string = inject('pgUrl')): Promise<TestDatabase> {
  const safePrefix = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'test';
  const name = `${safePrefix}_${randomBytes(5).toString('hex')}`;
  const ident = `"${name.replace(/"/g, '""')}"`;
  // template0: independent of whatever was added to template1 on a shared server.
  await adminQuery(adminUrl, `CREATE DATABASE ${ident} TEMPLATE template0 ENCODING 'UTF8'`);
  let dropped = false;
  return {
    url: withDatabase(adminUrl, name),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      // A pool's end() resolves before its connections are gone: FORCE would terminate one mid-close,
      // and its client then reports the FATAL 57P01 as an unhandled error that fails the whole run
      // (seen once in chunk-digests). Give closing connections a moment; FORCE ends what is left.
      await adminQuery(
        adminUrl,
        `DO $$ BEGIN FOR i IN 1..40 LOOP EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = ${literal(name)}); PERFORM pg_sleep(0.05); END LOOP; END $$`,
      );
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${ident} WITH (FORCE)`);
    },
  };
}
