// `cutover dev` (through its exported function until main.ts registers it):
// brings up Temporal + UI + embedded PostgreSQL + a worker, a migration runs on
// it, and stopping it stops everything.
import { Client, Connection } from '@temporalio/client';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { devCommand, type DevInfo } from '../../src/cli/commands/dev';
import { resolveConfig } from '../../src/config';
import type { MigrationReport } from '../../src/types';
import { migrateSqliteToPostgres } from '../../workflows';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { workflowBundle } from '../helpers/worker';

const stateDir = path.join(os.tmpdir(), `cutover-dev-cmd-${process.pid}`);
afterAll(async () => {
  await fs.rm(stateDir, { recursive: true, force: true });
});

function listening(address: string): Promise<boolean> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => (s.destroy(), resolve(false)));
  });
}

describe('cutover dev', () => {
  it('serves UI, Temporal, PostgreSQL and a worker; prints the start line; stops cleanly', async () => {
    const cfg = resolveConfig({ stateDir, taskQueue: 'cutover-dev-test' }, {});
    let stop!: () => void;
    const until = new Promise<void>((r) => (stop = r));
    let ready!: (i: DevInfo) => void;
    const info = new Promise<DevInfo>((r) => (ready = r));
    const printed: string[] = [];
    const logs: string[] = [];
    const done = devCommand(cfg, { port: 0, uiPort: 0 }, (m) => logs.push(m), {
      until,
      onReady: ready,
      env: {},
      workflowBundle: await workflowBundle(),
      out: (t) => printed.push(t),
    });
    const i = await Promise.race([info, done.then(() => Promise.reject(new Error(`devCommand ended early: ${logs.join('\n')}`)))]);
    try {
      expect(i.embeddedPostgres).toBe(true);
      expect(i.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(i.target).not.toMatch(/:[^*:@/]+@/); // password hidden
      const text = printed.join('');
      expect(text).toContain(i.uiUrl!);
      expect(text).toContain(`--task-queue cutover-dev-test`);
      expect(text).toContain('--type migrateSqliteToPostgres');
      expect(i.temporalStartCommand).toContain(`--address ${i.temporalAddress}`);
      expect((await fetch(i.uiUrl!)).status).toBe(200);

      // A run started the way the printed line does it.
      const source = makeSqlite(tempDir('dev'), 'dev.db', `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t (v) VALUES ('x'), ('y');`);
      const connection = await Connection.connect({ address: i.temporalAddress });
      try {
        const client = new Client({ connection, namespace: i.namespace });
        const report = (await client.workflow.execute(migrateSqliteToPostgres, {
          taskQueue: i.taskQueue,
          workflowId: `dev-${process.pid}`,
          args: [{ ...i.exampleInput, source }],
        })) as MigrationReport;
        expect(report.status).toBe('succeeded');
        expect(report.totals.rows).toBe(2);
      } finally {
        await connection.close();
      }
    } finally {
      stop();
    }
    expect(await done).toBe(0);
    expect(await listening(i.temporalAddress)).toBe(false);
    expect(logs.join('\n')).toMatch(/dev stack stopped/);
  }, 120_000);
});
