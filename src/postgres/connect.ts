// Connections to targets. A target is a name in workflow input; the URL is
// resolved here, on the worker, and never leaves it.
import pg from 'pg';

/** A URL safe for logs and messages: the password is replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable connection URL>';
  }
}

/** Keeps one pool per target URL for the life of the worker. */
export class TargetPools {
  private readonly pools = new Map<string, pg.Pool>();

  constructor(private readonly maxPerTarget = 8) {}

  get(url: string): pg.Pool {
    let pool = this.pools.get(url);
    if (!pool) {
      pool = new pg.Pool({
        connectionString: url,
        max: this.maxPerTarget,
        idleTimeoutMillis: 30_000,
        connectionTimeoutMillis: 15_000,
        application_name: 'cutover',
        allowExitOnIdle: true,
      });
      // An idle client dying (PostgreSQL restart) must not crash the worker.
      pool.on('error', () => undefined);
      this.pools.set(url, pool);
    }
    return pool;
  }

  async closeAll(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.end()));
  }
}

export async function withClient<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A server-side disconnect (restart, pg_terminate_backend) is emitted as an event too;
  // the query in flight rejects with it, which is where we handle it.
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    client.off('error', onError);
    // A client that failed mid-transaction or mid-COPY is discarded, not reused.
    client.release(broken);
  }
}

export async function inTransaction<T>(client: pg.ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
