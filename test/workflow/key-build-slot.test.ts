// Issue 6: a table whose keys PostgreSQL is building frees its parallelism slot, so the next table
// copies meanwhile, and takes a slot back before its checksums: never more chunks (copies and
// checksums) at once than the parallelism.
//
// The real workflow, the real activities on a real PostgreSQL and real SQLite files; the key
// build of chosen tables is held (then run for real) so the order of events is certain.
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { defaultDeps, type ActivityDeps } from '../../activities/deps';
import { migrateSqliteToPostgres } from '../../workflows';
import type { MigrationReport } from '../../src/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testEnv } from '../helpers/env';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { workflowBundle } from '../helpers/worker';
import { maybeRecordHistory } from '../helpers/histories';

const dir = tempDir('keyslot');

const SQL = `
CREATE TABLE big (id INTEGER PRIMARY KEY, grp INTEGER NOT NULL, v TEXT);
CREATE INDEX big_grp ON big (grp, v);
CREATE TABLE small (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
`;

function fill(db: import('better-sqlite3').Database): void {
  const b = db.prepare('INSERT INTO big VALUES (?, ?, ?)');
  for (let i = 1n; i <= 3000n; i++) b.run(i, i % 17n, `value ${i}`);
  const s = db.prepare('INSERT INTO small VALUES (?, ?)');
  for (let i = 1n; i <= 40n; i++) s.run(i, `name ${i}`);
}

/** What ran, in order: "copy big start", "keys small end", … */
let events: string[] = [];
/** Chunk activities (copies and checksums) running now, and the most at once. */
let chunksNow = 0;
let chunksMost = 0;
/** Key builds held until the test releases them. */
let holdKeys = new Set<string>();
const releases = new Map<string, () => void>();

let db: TestDatabase;
let deps: ActivityDeps;
let native: NativeConnection;
let connection: Connection;
let client: Client;
let worker: Worker;
let running: Promise<void>;
const taskQueue = testEnv().taskQueue('keyslot');

beforeAll(async () => {
  db = await createTestDatabase('wf_keyslot');
  const env = testEnv();
  deps = defaultDeps({ default: db.url });
  const real = createActivities(deps);
  const chunk = <A extends { table?: string; chunk?: { table: string } }, R>(kind: string, f: (a: A) => Promise<R>) =>
    async (a: A): Promise<R> => {
      const table = a.table ?? a.chunk?.table ?? '?';
      chunksNow++;
      chunksMost = Math.max(chunksMost, chunksNow);
      events.push(`${kind} ${table} start`);
      try {
        return await f(a);
      } finally {
        chunksNow--;
        events.push(`${kind} ${table} end`);
      }
    };
  native = await NativeConnection.connect({ address: env.temporalAddress });
  worker = await Worker.create({
    connection: native,
    namespace: env.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...real,
      copyChunk: chunk('copy', real.copyChunk),
      checksumChunk: chunk('checksum', real.checksumChunk),
      checksumTable: chunk('checksum', real.checksumTable),
      async buildTableKeys(a: Parameters<typeof real.buildTableKeys>[0]) {
        events.push(`keys ${a.table} start`);
        if (holdKeys.has(a.table)) await new Promise<void>((release) => releases.set(a.table, release));
        const r = await real.buildTableKeys(a);
        events.push(`keys ${a.table} end`);
        return r;
      },
    },
  });
  running = worker.run();
  connection = await Connection.connect({ address: env.temporalAddress });
  client = new Client({ connection, namespace: env.namespace });
});

afterAll(async () => {
  for (const release of releases.values()) release();
  if (worker?.getState() === 'RUNNING') worker.shutdown();
  await running?.catch(() => undefined);
  await deps?.pools.closeAll();
  await native?.close();
  await connection?.close();
  await db?.drop();
});

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; events: ${events.join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const at = (e: string) => {
  const i = events.indexOf(e);
  if (i < 0) throw new Error(`no "${e}" in: ${events.join(', ')}`);
  return i;
};

function reset(hold: string[]): void {
  events = [];
  chunksNow = 0;
  chunksMost = 0;
  holdKeys = new Set(hold);
  releases.clear();
}

describe('a table building its keys frees its slot', () => {
  it('count validation: the next table is copied while the first one’s keys are built (parallelism 1)', async () => {
    reset(['big']);
    const file = makeSqlite(dir, 'count.db', SQL, fill);
    const handle = await client.workflow.start(migrateSqliteToPostgres, {
      taskQueue,
      workflowId: `keyslot-count-${Date.now()}`,
      args: [{ source: file, target: 'default', targetSchema: 'keyslot_count', parallelism: 1, validation: 'count', chunkSize: 1000 }],
    });
    // Before: `small` waited for `big` to finish, keys included; the hold below never ended.
    await until('small copied while big’s keys are held', () => events.includes('copy small end'));
    expect(events.includes('keys big end')).toBe(false);
    releases.get('big')!();
    const report = (await handle.result()) as MigrationReport;
    expect(report.status).toBe('succeeded');
    expect(report.tables.map((t) => [t.table, t.targetRows, t.ok])).toEqual(
      expect.arrayContaining([
        ['big', 3000, true],
        ['small', 40, true],
      ]),
    );
    expect(chunksMost).toBe(1);
    expect(at('copy small start')).toBeGreaterThan(at('keys big start'));
    // The keys were built for real.
    const pgc = new pg.Client({ connectionString: db.url });
    await pgc.connect();
    try {
      const { rows } = await pgc.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_indexes WHERE schemaname = 'keyslot_count' AND tablename IN ('big', 'small')`);
      expect(Number(rows[0]!.n)).toBe(4); // big: pkey + big_grp; small: pkey + UNIQUE (name)
    } finally {
      await pgc.end();
    }
    await maybeRecordHistory(handle, 'keys-free-slot-count');
  });

  it('checksum validation: a table takes a slot back for its checksums, never beside another table’s chunk (parallelism 1)', async () => {
    reset(['big', 'small']);
    const file = makeSqlite(dir, 'checksum.db', SQL, fill);
    const handle = await client.workflow.start(migrateSqliteToPostgres, {
      taskQueue,
      workflowId: `keyslot-checksum-${Date.now()}`,
      args: [{ source: file, target: 'default', targetSchema: 'keyslot_checksum', parallelism: 1, validation: 'checksum', chunkSize: 1000 }],
    });
    await until('small copied while big’s keys are held', () => events.includes('copy small end') && releases.has('small'));
    // small is building its keys (held): its slot is free, and big, done with its keys, takes it.
    releases.get('big')!();
    await until('big’s checksums while small’s keys are held', () => events.includes('checksum big start'));
    expect(events.includes('keys small end')).toBe(false);
    releases.get('small')!();
    const report = (await handle.result()) as MigrationReport;
    expect(report.status).toBe('succeeded');
    expect(report.tables.every((t) => t.ok)).toBe(true);
    expect(chunksMost).toBe(1);
    // small asked for its slot back while big held it: its checksums came after all of big's.
    const lastBig = events.lastIndexOf('checksum big end');
    expect(at('checksum small start')).toBeGreaterThan(lastBig);
    expect(at('checksum big start')).toBeGreaterThan(at('keys big end'));
    await maybeRecordHistory(handle, 'keys-free-slot-checksum');
    await maybeRecordHistory(client.workflow.getHandle(`${handle.workflowId}/table/small`), 'copy-table-keys-free-slot-checksum');
  });
});
