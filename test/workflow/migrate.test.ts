// The whole workflow on a real Temporal dev server, real SQLite files and a
// real PostgreSQL, compared value by value through an independent reader.
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateSqliteToPostgres } from '../../workflows';
import type { MigrationReport } from '../../src/types';
import { resolveTemporalBinary } from '../../src/dev/temporal-binary';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { testEnv } from '../helpers/env';
import { makeSqlite, readSqliteRows, tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { maybeRecordHistory } from '../helpers/histories';

const run = promisify(execFile);
const dir = tempDir('wf');
const BIG = 9_007_199_254_740_993n; // 2^53 + 1: a JS number cannot hold it

const SHOP_SQL = `
CREATE TABLE customers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  email TEXT UNIQUE,
  balance REAL NOT NULL DEFAULT 0,
  avatar BLOB,
  created TEXT DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  total REAL,
  ref INTEGER,
  note TEXT
);
CREATE INDEX orders_by_customer ON orders(customer_id);
CREATE TABLE "Odd ""Name"" table" ("select" TEXT, "from" INTEGER);
CREATE TABLE pairs (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
`;

function fillShop(db: import('better-sqlite3').Database): void {
  const c = db.prepare('INSERT INTO customers (id, name, email, balance, avatar) VALUES (?, ?, ?, ?, ?)');
  c.run(1n, 'Zoë 🚀', 'zoe@example.com', 43521.37, Buffer.from([0, 1, 2, 255]));
  c.run(2n, 'Ærøskøbing "quoted" \\ back\tslash\nnewline', null, 1.0000001, null);
  c.run(3n, '漢字', 'kanji@example.com', -0.1, Buffer.alloc(0));
  c.run(5n, 'five', 'five@example.com', 1e-320, null);
  // AUTOINCREMENT has handed out 41 ids: the next one must be 42, not 6.
  db.prepare(`UPDATE sqlite_sequence SET seq = 41 WHERE name = 'customers'`).run();
  const o = db.prepare('INSERT INTO orders (id, customer_id, total, ref, note) VALUES (?, ?, ?, ?, ?)');
  for (let i = 1n; i <= 2500n; i++) o.run(i, (i % 4n) + 1n === 4n ? 5n : (i % 4n) + 1n, Number(i) * 0.1, i === 7n ? BIG : i === 8n ? -(2n ** 63n) : i, i % 3n === 0n ? null : `order ${i}`);
  db.prepare(`INSERT INTO "Odd ""Name"" table" VALUES ('x', 1), (NULL, NULL)`).run();
  const p = db.prepare('INSERT INTO pairs VALUES (?, ?, ?)');
  for (let i = 0n; i < 300n; i++) p.run(`k${i % 7n}`, i, i % 5n === 0n ? null : `v${i}`);
}

/** PostgreSQL values as text: nothing in between reinterprets them. */
async function pgRows(url: string, sql: string): Promise<Record<string, string | null>[]> {
  const client = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

function expectSameValue(sqlite: unknown, pgText: string | null, where: string): void {
  if (sqlite === null) return expect(pgText, where).toBeNull();
  expect(pgText, where).not.toBeNull();
  if (typeof sqlite === 'bigint') return expect(pgText, where).toBe(sqlite.toString());
  if (typeof sqlite === 'number') return expect(Object.is(Number(pgText), sqlite), `${where}: ${pgText} vs ${sqlite}`).toBe(true);
  if (Buffer.isBuffer(sqlite)) return expect(pgText, where).toBe(`\\x${sqlite.toString('hex')}`);
  expect(pgText, where).toBe(sqlite);
}

async function catalog(url: string): Promise<string[]> {
  const rows = await pgRows(
    url,
    `SELECT n.nspname::text || '.' || c.relname::text || ':' || c.relkind::text AS o FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
     UNION ALL SELECT 'schema:' || nspname::text FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema'
     ORDER BY 1`,
  );
  return rows.map((r) => r.o!);
}

describe('migrateSqliteToPostgres', () => {
  let db: TestDatabase;
  let w: TestWorker;
  const password = 'pw-never-in-history-7f3a';

  beforeAll(async () => {
    db = await createTestDatabase('wf_migrate');
    // A role with a password, so the history check has a secret to look for.
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS cutover_wf_user`).catch(() => undefined);
    await admin.query(`CREATE ROLE cutover_wf_user LOGIN SUPERUSER PASSWORD '${password}'`).catch(() => undefined);
    await admin.end();
    const u = new URL(db.url);
    u.username = 'cutover_wf_user';
    u.password = password;
    w = await startTestWorker('wf-migrate', { default: db.url, secret: u.toString() });
  });

  afterAll(async () => {
    await w?.stop();
    await db?.drop();
  });

  async function migrate(input: Parameters<typeof migrateSqliteToPostgres>[0], id = `wf-${Math.random().toString(36).slice(2)}`) {
    const handle = await w.client.workflow.start(migrateSqliteToPostgres, { taskQueue: w.taskQueue, workflowId: id, args: [input] });
    return { handle, result: handle.result() };
  }

  it('moves every table with identical values, keys, indexes, FKs and working sequences', async () => {
    const file = makeSqlite(dir, 'shop.db', SHOP_SQL, fillShop);
    const { handle, result } = await migrate({ source: file, target: 'default', targetSchema: 'shop', batchSize: 500, chunkSize: 1000 });
    const report = await result;
    await maybeRecordHistory(handle, 'succeeded-multi-table');
    expect(report.status).toBe('succeeded');
    expect(report.totals.rejects).toBe(0);
    expect(report.tables.map((t) => [t.table, t.targetRows]).sort()).toEqual(
      [['Odd "Name" table', 2], ['customers', 4], ['orders', 2500], ['pairs', 300]].sort(),
    );

    for (const [table, order, cols] of [
      ['customers', 'id', ['id', 'name', 'email', 'balance', 'avatar']],
      ['orders', 'id', ['id', 'customer_id', 'total', 'ref', 'note']],
      ['pairs', 'a, b', ['a', 'b', 'v']],
    ] as const) {
      const src = readSqliteRows(file, table, order);
      // Ordered by the real columns (not their ::text aliases), text keys in byte order as SQLite's BINARY.
      const orderPg = order.split(', ').map((c) => `x."${c}"${table === 'pairs' && c === 'a' ? ' COLLATE "C"' : ''}`).join(', ');
      const dst = await pgRows(db.url, `SELECT ${cols.map((c) => `x."${c}"::text AS "${c}"`).join(', ')} FROM shop."${table}" x ORDER BY ${orderPg}`);
      expect(dst.length).toBe(src.length);
      src.forEach((row, i) => {
        for (const c of cols) expectSameValue(row[c], dst[i]![c]!, `${table} row ${i} column ${c}`);
      });
    }
    // A double float4 would round, and a 64-bit integer past 2^53, arrive exactly.
    const exact = await pgRows(db.url, `SELECT balance::text AS b FROM shop.customers WHERE id = 2`);
    expect(exact[0]!.b).toBe('1.0000001');
    const big = await pgRows(db.url, `SELECT ref::text AS r FROM shop.orders WHERE id = 7`);
    expect(big[0]!.r).toBe(BIG.toString());

    const types = await pgRows(
      db.url,
      `SELECT table_name || '.' || column_name || '=' || data_type AS t FROM information_schema.columns WHERE table_schema = 'shop' ORDER BY 1`,
    );
    expect(types.map((r) => r.t)).toEqual(expect.arrayContaining(['customers.balance=double precision', 'customers.avatar=bytea', 'orders.ref=bigint']));

    const constraints = await pgRows(
      db.url,
      `SELECT conrelid::regclass::text || ' ' || contype::text || ' ' || convalidated::text AS c FROM pg_constraint
        WHERE connamespace = 'shop'::regnamespace ORDER BY 1`,
    );
    const list = constraints.map((r) => r.c);
    expect(list).toEqual(expect.arrayContaining(['shop.customers p true', 'shop.orders p true', 'shop.pairs p true', 'shop.orders f true', 'shop.customers u true']));
    const indexes = await pgRows(db.url, `SELECT indexname FROM pg_indexes WHERE schemaname = 'shop' ORDER BY 1`);
    expect(indexes.map((r) => r.indexname)).toContain('orders_by_customer');

    // The checksums (the default validation) took each chunk's source side from the digests its
    // copy recorded with the checkpoints, instead of reading the snapshot a third time.
    const sides = await pgRows(
      db.url,
      `SELECT k.table_name || ' ' || count(*) || ' ' || bool_and(k.ok AND k.source_hash = encode(sha256(c.source_digests), 'hex'))::text AS s
         FROM cutover.checksums k JOIN cutover.chunks c USING (run_id, table_name, chunk_no)
        WHERE k.run_id = ${`'${report.runId.replace(/'/g, "''")}'`} GROUP BY k.table_name ORDER BY 1`,
    );
    expect(sides.map((r) => r.s)).toEqual(expect.arrayContaining(['customers 1 true', 'orders 3 true', 'pairs 1 true']));

    // The app can insert: identity continues past max(id) and past sqlite_sequence.
    const next = await pgRows(db.url, `INSERT INTO shop.customers (name) VALUES ('new') RETURNING id::text AS id`);
    expect(next[0]!.id).toBe('42');
    const nextOrder = await pgRows(db.url, `INSERT INTO shop.orders (customer_id) VALUES (1) RETURNING id::text AS id`);
    expect(nextOrder[0]!.id).toBe('2501');

    // Runs can be listed by phase, source and schema (search attributes on the dev server).
    if (testEnv().isDevServer) {
      let found = 0;
      for (let i = 0; i < 50 && found === 0; i++) {
        for await (const x of w.client.workflow.list({ query: `CutoverPhase = 'done' AND CutoverTargetSchema = 'shop' AND WorkflowId = '${handle.workflowId}'` })) {
          if (x.workflowId === handle.workflowId) found++;
        }
        if (!found) await new Promise((r) => setTimeout(r, 100));
      }
      expect(found).toBe(1);
    }
  });

  it('is started the same way from the temporal CLI', async () => {
    const file = makeSqlite(dir, 'cli.db', `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');`);
    const binary = await resolveTemporalBinary();
    const env = testEnv();
    const id = `wf-cli-${Date.now()}`;
    await run(binary.path, [
      'workflow', 'start', '--address', env.temporalAddress, '--namespace', env.namespace, '--task-queue', w.taskQueue,
      '--type', 'migrateSqliteToPostgres', '--workflow-id', id,
      '--input', JSON.stringify({ source: file, target: 'default', targetSchema: 'from_cli' }),
    ]);
    const report = (await w.client.workflow.getHandle(id).result()) as MigrationReport;
    expect(report.status).toBe('succeeded');
    expect(report.tables[0]!.targetRows).toBe(2);
  });

  it('resumes a chunk after its connection is killed: no duplicates, no gaps', async () => {
    const file = makeSqlite(dir, 'resume.db', `CREATE TABLE big (id INTEGER PRIMARY KEY, payload TEXT)`, (d) => {
      const ins = d.prepare('INSERT INTO big VALUES (?, ?)');
      d.transaction(() => {
        for (let i = 1n; i <= 200_000n; i++) ins.run(i, `row ${i} ${'x'.repeat(40)}`);
      })();
    });
    const { handle, result } = await migrate({ source: file, target: 'default', targetSchema: 'resume', batchSize: 1000, parallelism: 1 });
    // Wait until some batches are committed, then kill the worker's PostgreSQL sessions mid-copy.
    let killed = 0;
    for (let i = 0; i < 400 && killed === 0; i++) {
      const n = await pgRows(db.url, `SELECT (SELECT count(*) FROM pg_class WHERE relname = 'big' AND relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = 'resume'))::text AS exists`);
      if (n[0]!.exists === '1') {
        const c = await pgRows(db.url, `SELECT count(*)::text AS c FROM resume.big`);
        if (Number(c[0]!.c) > 0 && Number(c[0]!.c) < 150_000) {
          const k = await pgRows(db.url, `SELECT count(pg_terminate_backend(pid))::text AS k FROM pg_stat_activity WHERE application_name = 'cutover' AND datname = current_database()`);
          killed = Number(k[0]!.k);
        }
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(killed).toBeGreaterThan(0);
    const report = await result;
    expect(report.status).toBe('succeeded');
    const stats = await pgRows(db.url, `SELECT count(*)::text AS n, count(DISTINCT id)::text AS d, min(id)::text AS lo, max(id)::text AS hi FROM resume.big`);
    expect(stats[0]).toEqual({ n: '200000', d: '200000', lo: '1', hi: '200000' });
    // The copy activity really was retried (in the table's child workflow).
    const history = await w.client.workflow.getHandle(`${handle.workflowId}/table/big`).fetchHistory();
    const attempts = (history.events ?? []).filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 1);
    expect(Math.max(...attempts)).toBeGreaterThan(1);
  });

  it('fails preflight clearly and writes nothing for a missing, non-SQLite or corrupt source', async () => {
    const before = await catalog(db.url);
    const notSqlite = path.join(dir, 'not.db');
    writeFileSync(notSqlite, 'hello, I am a text file, not a database at all');
    const corrupt = makeSqlite(dir, 'corrupt.db', `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t(v);`, (d) => {
      const ins = d.prepare('INSERT INTO t VALUES (?, ?)');
      for (let i = 1n; i <= 2000n; i++) ins.run(i, `value ${i}`);
    });
    // Overwrite a page in the middle of the file: integrity_check must notice.
    const { openSync, writeSync, closeSync, statSync } = await import('node:fs');
    const size = statSync(corrupt).size;
    const fd = openSync(corrupt, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, Math.floor(size / 4096 / 2) * 4096);
    closeSync(fd);

    for (const [source, type, text] of [
      [path.join(dir, 'does-not-exist.db'), 'SourceMissing', 'does not exist'],
      [notSqlite, 'SourceNotSqlite', 'not a SQLite 3 database'],
      [corrupt, 'SourceCorrupt', 'corrupt'],
    ] as const) {
      const { handle, result } = await migrate({ source, target: 'default', targetSchema: 'nothing' });
      const err = await result.then(
        () => null,
        (e: unknown) => e,
      );
      await maybeRecordHistory(handle, `preflight-${type}`);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const cause = (err as WorkflowFailedError).cause as ApplicationFailure;
      expect(cause.type).toBe(type);
      expect(cause.message).toContain(text);
      expect(cause.message).toContain('preflight');
    }
    expect(await catalog(db.url)).toEqual(before);
  });

  it('refuses to write into tables that already exist', async () => {
    const file = makeSqlite(dir, 'clash.db', `CREATE TABLE existing_one (id INTEGER PRIMARY KEY)`);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query(`CREATE SCHEMA clash; CREATE TABLE clash.existing_one (x int)`);
    await admin.end();
    const { result } = await migrate({ source: file, target: 'default', targetSchema: 'clash' });
    const err = (await result.catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('TargetNotEmpty');
    expect(err.cause!.message).toContain('existing_one');
  });

  it('records rejects, fails validation without allowRejects and rolls the target back exactly', async () => {
    const file = makeSqlite(dir, 'rejects.db', `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`, (d) => {
      d.prepare(`INSERT INTO notes VALUES (1, 'fine'), (2, CAST(x'610062' AS TEXT)), (3, 'also fine')`).run();
    });
    const before = await catalog(db.url);
    const { handle, result } = await migrate({ source: file, target: 'default', targetSchema: 'rejected' });
    const err = (await result.catch((e: unknown) => e)) as WorkflowFailedError;
    await maybeRecordHistory(handle, 'validation-failed-rolled-back');
    const cause = err.cause as ApplicationFailure;
    expect(cause.type).toBe('ValidationFailed');
    expect(cause.message).toMatch(/notes.*1 row\(s\) rejected/);
    expect(cause.message).toContain('rolled back');
    expect(await catalog(db.url)).toEqual(before);

    // With allowRejects the rest loads and the reject is kept with its reason and key.
    const ok = await migrate({ source: file, target: 'default', targetSchema: 'rejected', allowRejects: true }, 'wf-rejects-allowed');
    const report = await ok.result;
    expect(report.status).toBe('succeeded');
    expect(report.tables[0]).toMatchObject({ sourceRows: 3, targetRows: 2, rejectedRows: 1 });
    const rejects = await pgRows(db.url, `SELECT row_key, column_name, reason FROM cutover.rejects WHERE run_id = 'wf-rejects-allowed'`);
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ row_key: 'id=2', column_name: 'body' });
    expect(rejects[0]!.reason).toMatch(/NUL/);
  });

  it('keeps the password out of workflow input, result and history', async () => {
    const file = makeSqlite(dir, 'secret.db', `CREATE TABLE s (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO s VALUES (1, 'x');`);
    const { handle, result } = await migrate({ source: file, target: 'secret', targetSchema: 'secret_schema' });
    await result;
    // And a failing run, whose failure message mentions the target.
    const failing = await migrate({ source: file, target: 'secret', targetSchema: 'secret_schema' });
    await failing.result.catch(() => undefined);
    for (const h of [handle, failing.handle]) {
      // Payload bytes decoded, so a secret inside any payload would show.
      const history = JSON.stringify(JSON.parse(JSON.stringify(await h.fetchHistory())), (k, v: unknown) =>
        k === 'data' && typeof v === 'string' ? Buffer.from(v, 'base64').toString('utf8') : v,
      );
      expect(history).toContain('secret_schema');
      expect(history).not.toContain(password);
    }
  });

  it('rejects a URL as target in the input, before touching anything', async () => {
    const { result } = await migrate({ source: '/nowhere.db', target: `postgres://u:${password}@localhost/db` });
    const err = (await result.catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('BadInput');
    expect(err.cause!.message).not.toContain(password);
  });
});

describe('bad-value policies', () => {
  let db: TestDatabase;
  let w: TestWorker;
  beforeAll(async () => {
    db = await createTestDatabase('wf_policies');
    w = await startTestWorker('wf-policies', { default: db.url });
  });
  afterAll(async () => {
    await w?.stop();
    await db?.drop();
  });

  const source = () =>
    makeSqlite(dir, `policies-${Math.random().toString(36).slice(2)}.db`, `CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`, (d) => {
      d.prepare(`INSERT INTO notes VALUES (1, 'fine'), (2, CAST(x'610062' AS TEXT)), (3, CAST(x'61ff62' AS TEXT))`).run();
    });

  it('--on-nul strip and --on-invalid-utf8 replace load every row, changed as asked; checksums agree', async () => {
    const report = await w.client.workflow.execute(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId: `policies-${Date.now()}`,
      args: [{ source: source(), targetSchema: 'policies', onNul: 'strip', onInvalidUtf8: 'replace' }],
    });
    expect(report.status).toBe('succeeded');
    expect(report.totals.rejects).toBe(0);
    const rows = await pgRows(db.url, `SELECT id::text, body FROM policies.notes ORDER BY id`);
    expect(rows).toEqual([
      { id: '1', body: 'fine' },
      { id: '2', body: 'ab' },
      { id: '3', body: 'a\uFFFDb' },
    ]);
  });

  it('maxRejects lets a run with that many rejects succeed, and not one more', async () => {
    const ok = await w.client.workflow.execute(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId: `max-ok-${Date.now()}`,
      args: [{ source: source(), targetSchema: 'max_ok', maxRejects: 2 }],
    });
    expect(ok.status).toBe('succeeded');
    expect(ok.totals.rejects).toBe(2);
    const err = (await w.client.workflow
      .execute(migrateSqliteToPostgres, { taskQueue: w.taskQueue, workflowId: `max-no-${Date.now()}`, args: [{ source: source(), targetSchema: 'max_no', maxRejects: 1 }] })
      .catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('ValidationFailed');
  });
});
