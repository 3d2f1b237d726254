import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Connection, WorkflowClient } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres';
import { getFreePort } from '../../src/dev/free-port';
import { startDevStack } from '../../src/dev/stack';
import { resolveTemporalBinary, temporalVersion } from '../../src/dev/temporal-binary';
import { CUTOVER_SEARCH_ATTRIBUTES, startTemporalDevServer } from '../../src/dev/temporal-server';
import { createTestDatabase } from '../helpers/db';
import { testEnv } from '../helpers/env';

const quiet = () => undefined;

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'cutover-devstack-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

describe('temporal binary', () => {
  it('resolves to a runnable temporal CLI without downloading', async () => {
    const bin = await resolveTemporalBinary({ log: quiet, allowDownload: false });
    expect(['env', 'path', 'cache', 'go']).toContain(bin.source);
    expect(path.isAbsolute(bin.path)).toBe(true);
    expect(temporalVersion(bin.path)).toMatch(/temporal version/i);
  });

  it('rejects an unusable TEMPORAL_CLI_PATH with a clear message', async () => {
    const saved = process.env.TEMPORAL_CLI_PATH;
    process.env.TEMPORAL_CLI_PATH = path.join(tmp, 'no-such-temporal');
    try {
      await expect(resolveTemporalBinary({ log: quiet })).rejects.toThrow(/TEMPORAL_CLI_PATH .* not an executable/);
    } finally {
      if (saved === undefined) delete process.env.TEMPORAL_CLI_PATH;
      else process.env.TEMPORAL_CLI_PATH = saved;
    }
  });
});

describe('global setup servers', () => {
  it('the Temporal server accepts a connection and serves the namespace', async () => {
    const env = testEnv();
    const connection = await Connection.connect({ address: env.temporalAddress });
    try {
      const ns = await connection.workflowService.describeNamespace({ namespace: env.namespace });
      expect(ns.namespaceInfo?.name).toBe(env.namespace);
      if (env.isDevServer) {
        const attrs = await connection.operatorService.listSearchAttributes({ namespace: env.namespace });
        for (const name of Object.keys(CUTOVER_SEARCH_ATTRIBUTES)) expect(attrs.customAttributes).toHaveProperty(name);
      }
    } finally {
      await connection.close();
    }
  });

  it('each test file gets its own database and task queue', async () => {
    const env = testEnv();
    expect(env.taskQueue('devstack')).not.toBe(env.taskQueue('devstack'));
    const db = await createTestDatabase('devstack');
    try {
      const [row] = await query<{ db: string; version: string }>(db.url, 'select current_database() as db, version() as version');
      expect(row!.db).toBe(db.name);
      expect(row!.version).toMatch(/^PostgreSQL \d+/);
      await query(db.url, 'create table t (id bigint primary key)');
    } finally {
      await db.drop();
    }
    const left = await query(env.pgUrl, `select 1 from pg_database where datname = '${db.name}'`);
    expect(left).toHaveLength(0);
  });
});

describe('embedded PostgreSQL', () => {
  it('starts PostgreSQL 16, answers select version(), persists across restarts and survives a crash', async () => {
    const dataDir = path.join(tmp, 'pg');
    const first = await startEmbeddedPostgres({ dataDir, port: 0, durable: false, log: quiet });
    try {
      const [row] = await query<{ version: string }>(first.url, 'select version() as version');
      expect(row!.version).toMatch(/^PostgreSQL 16\./);
      expect(first.version).toMatch(/^16\./);
      await query(first.url, 'create table kept (v text); insert into kept values ($$still here$$)');
    } finally {
      await first.stop();
    }
    expect(alive(first.pid)).toBe(false);

    // Reuses the initialised data folder.
    const second = await startEmbeddedPostgres({ dataDir, port: 0, log: quiet });
    expect(await query(second.url, 'select v from kept')).toEqual([{ v: 'still here' }]);
    // A crash leaves a stale postmaster.pid behind...
    process.kill(-second.pid, 'SIGKILL');
    for (let i = 0; i < 50 && alive(second.pid); i++) await new Promise((r) => setTimeout(r, 100));
    await expect(fs.stat(path.join(dataDir, 'postmaster.pid'))).resolves.toBeTruthy();
    // ...and the next start copes with it.
    const third = await startEmbeddedPostgres({ dataDir, port: 0, log: quiet });
    try {
      expect(await query(third.url, 'select v from kept')).toEqual([{ v: 'still here' }]);
    } finally {
      await third.stop();
    }
  });
});

describe('Temporal dev server', () => {
  it('persists workflow state in <stateDir>/temporal.db across restarts', async () => {
    const stateDir = path.join(tmp, 'temporal');
    const first = await startTemporalDevServer({ stateDir, port: 0, ui: false, log: quiet });
    const workflowId = `persisted-${Date.now()}`;
    try {
      const connection = await Connection.connect({ address: first.address });
      const client = new WorkflowClient({ connection, namespace: first.namespace });
      await client.start('noSuchWorkflow', { taskQueue: 'nobody-polls-this', workflowId, args: [] });
      await connection.close();
    } finally {
      await first.stop();
    }
    expect(alive(first.pid)).toBe(false);

    const second = await startTemporalDevServer({ stateDir, port: 0, ui: false, log: quiet });
    try {
      const connection = await Connection.connect({ address: second.address });
      const client = new WorkflowClient({ connection, namespace: second.namespace });
      const description = await client.getHandle(workflowId).describe();
      expect(description.status.name).toBe('RUNNING');
      await client.getHandle(workflowId).terminate('test done');
      await connection.close();
    } finally {
      await second.stop();
    }
  });

  it('explains an occupied port', async () => {
    const port = await getFreePort();
    const blocker = net.createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    try {
      await expect(
        startTemporalDevServer({ stateDir: path.join(tmp, 'busy'), port, ui: false, log: quiet }),
      ).rejects.toThrow(/already in use.*TEMPORAL_ADDRESS/);
    } finally {
      blocker.close();
    }
  });
});

describe('dev stack', () => {
  it('starts Temporal (with UI) and embedded PostgreSQL, and stops both', async () => {
    const stack = await startDevStack({ stateDir: path.join(tmp, 'stack'), temporalPort: 0, uiPort: 0, log: quiet });
    let stopped = false;
    try {
      expect(stack.embeddedPostgres).not.toBeNull();
      const [row] = await query<{ ok: number }>(stack.targetUrl, 'select 1 as ok');
      expect(row!.ok).toBe(1);
      const res = await fetch(stack.uiUrl!);
      expect(res.ok).toBe(true);
      const connection = await Connection.connect({ address: stack.temporalAddress });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      await stack.stop();
      stopped = true;
      expect(alive(stack.temporal.pid)).toBe(false);
    } finally {
      if (!stopped) await stack.stop();
    }
  });

  it('uses a given target URL instead of starting PostgreSQL', async () => {
    const env = testEnv();
    const stack = await startDevStack({
      stateDir: path.join(tmp, 'stack2'),
      temporalPort: 0,
      ui: false,
      targetUrl: env.pgUrl,
      log: quiet,
    });
    try {
      expect(stack.embeddedPostgres).toBeNull();
      expect(stack.targetUrl).toBe(env.pgUrl);
      expect(stack.uiUrl).toBeNull();
    } finally {
      await stack.stop();
    }
  });
});
