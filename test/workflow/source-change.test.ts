// The cutover gate when the application wrote to the source after the snapshot: the run names the
// changed tables and offers the choice (rerunChanged or abort); a rerun copies just those tables
// again from a new snapshot, restores the FKs around them, validates, and returns to the gate.
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateSqliteToPostgres } from '../../workflows';
import { abortSignal, approveSignal, progressQuery, rerunChangedSignal } from '../../workflows/api';
import type { MigrationInput, Progress } from '../../src/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { maybeRecordHistory } from '../helpers/histories';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';

const dir = tempDir('source-change');
let db: TestDatabase;
let w: TestWorker;

beforeAll(async () => {
  db = await createTestDatabase('wf_source_change');
  w = await startTestWorker('wf-source-change', { default: db.url });
});
afterAll(async () => {
  await w?.stop();
  await db?.drop();
});

async function query(sql: string, params: unknown[] = []): Promise<Record<string, string>[]> {
  const c = new pg.Client({ connectionString: db.url, types: { getTypeParser: () => (v: string) => v } });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

/** Parents, children with an FK to them (an AUTOINCREMENT key), and an unrelated table. */
function source(name: string): string {
  return makeSqlite(
    dir,
    name,
    `CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
     CREATE TABLE child (id INTEGER PRIMARY KEY AUTOINCREMENT, parent_id INTEGER NOT NULL REFERENCES parent(id), amount REAL);
     CREATE TABLE other (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;`,
    (d) => {
      d.transaction(() => {
        for (let i = 1; i <= 300; i++) d.prepare('INSERT INTO parent VALUES (?, ?)').run(i, `p${i}`);
        for (let i = 1; i <= 2000; i++) d.prepare('INSERT INTO child (parent_id, amount) VALUES (?, ?)').run((i % 300) + 1, i / 7);
        for (let i = 1; i <= 50; i++) d.prepare('INSERT INTO other VALUES (?, ?)').run(`k${i}`, Buffer.from([i]));
      })();
    },
  );
}

function write(file: string, sql: string): void {
  const app = new Database(file);
  app.exec(sql);
  app.close();
}

async function waitFor(handle: WorkflowHandle, phase: string, ready: (p: Progress) => boolean = () => true, timeoutMs = 60_000): Promise<Progress> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const p = (await handle.query(progressQuery).catch(() => null)) as Progress | null;
    if (p?.phase === phase && ready(p)) return p;
    if (Date.now() > until) throw new Error(`phase "${phase}" not reached (last: ${p?.phase}, error: ${p?.error})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function start(id: string, input: MigrationInput): Promise<WorkflowHandle<typeof migrateSqliteToPostgres>> {
  return w.client.workflow.start(migrateSqliteToPostgres, { taskQueue: w.taskQueue, workflowId: `${id}-${Date.now()}`, args: [{ chunkSize: 500, batchSize: 200, ...input }] });
}

describe('source changed after the snapshot', () => {
  it('names the changed tables, waits for rerunChanged, copies just those again, and cuts over after a new approval', async () => {
    const file = source('ask.db');
    const h = await start('src-ask', { source: file, targetSchema: 'src_ask', requireApproval: true });
    await waitFor(h, 'awaiting approval');
    // The application keeps working: a new child of an existing parent, a renamed parent, a deleted child.
    write(file, `INSERT INTO child (parent_id, amount) VALUES (7, 0.1); UPDATE parent SET name = 'renamed' WHERE id = 250; DELETE FROM child WHERE id = 1999;`);
    const otherBefore = await query(`SELECT ctid::text AS ctid FROM src_ask.other ORDER BY k`);
    await h.signal(approveSignal);

    // The phase starts with a new snapshot and the comparison; then the choice is shown.
    const p = await waitFor(h, 'source changed', (x) => Boolean(x.sourceChanged));
    expect(p.sourceChanged?.schemaChange).toBeNull();
    expect(p.sourceChanged?.tables.map((t) => t.table).sort()).toEqual(['child', 'parent']);
    expect(p.sourceChanged?.tables.find((t) => t.table === 'parent')?.detail).toContain('id=250');
    expect(p.error).toMatch(/rerunChanged/);
    // Nothing is redone before the operator chooses.
    expect((await query(`SELECT count(*) AS n FROM src_ask.child`))[0]!.n).toBe('2000');

    await h.signal(rerunChangedSignal);
    const again = await waitFor(h, 'awaiting approval');
    expect(again.awaitingApproval?.status).toBe('succeeded');
    expect(again.awaitingApproval?.warnings.join('\n')).toMatch(/copied again \(round 1\): (child, parent|parent, child)/);
    await h.signal(approveSignal);
    const report = await h.result();

    expect(report.status).toBe('succeeded');
    expect(report.tables.find((t) => t.table === 'child')).toMatchObject({ sourceRows: 2000, targetRows: 2000, ok: true });
    expect((await query(`SELECT name FROM src_ask.parent WHERE id = 250`))[0]!.name).toBe('renamed');
    expect((await query(`SELECT count(*) AS n FROM src_ask.child WHERE id = 1999`))[0]!.n).toBe('0');
    expect((await query(`SELECT amount FROM src_ask.child WHERE id = 2001`))[0]!.amount).toBe('0.1');
    // The unchanged table was not touched (same physical rows).
    expect(await query(`SELECT ctid::text AS ctid FROM src_ask.other ORDER BY k`)).toEqual(otherBefore);
    // The FK dropped around the rerun is back and validated; new inserts get fresh ids.
    expect(await query(`SELECT conname, convalidated::text AS v FROM pg_constraint WHERE conrelid = 'src_ask.child'::regclass AND contype = 'f'`)).toEqual([
      { conname: expect.any(String), v: 'true' },
    ]);
    expect((await query(`INSERT INTO src_ask.child (parent_id, amount) VALUES (1, 1) RETURNING id`))[0]!.id).toBe('2002');
    // Checksums cover the rerun's chunks, none left failing from the first copy.
    const chunks = (await query(`SELECT count(*) AS n FROM cutover.chunks WHERE run_id = $1 AND table_name = 'child'`, [h.workflowId]))[0]!.n;
    expect(Number(chunks)).toBeGreaterThan(1);
    expect((await query(`SELECT count(*) FILTER (WHERE NOT ok) AS bad, count(*) FILTER (WHERE table_name = 'child') AS child FROM cutover.checksums WHERE run_id = $1`, [h.workflowId]))[0]).toEqual({ bad: '0', child: chunks });
    expect((await query(`SELECT status FROM cutover.runs WHERE run_id = $1`, [h.workflowId]))[0]!.status).toBe('cut over');
    await maybeRecordHistory(h, 'source-changed-rerun-cut-over');
  });

  it("existing schema: the app's FKs are dropped around the rerun and restored; a rollback after the rerun leaves the app's tables empty with their FKs", async () => {
    await query(`CREATE SCHEMA src_exist;
      CREATE TABLE src_exist.parent (id bigint PRIMARY KEY, name text NOT NULL);
      CREATE TABLE src_exist.child (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, parent_id bigint NOT NULL CONSTRAINT child_parent_fk REFERENCES src_exist.parent(id), amount double precision);
      CREATE TABLE src_exist.other (k text PRIMARY KEY, v bytea);`);
    const file = source('exist.db');
    const h = await start('src-exist', { source: file, targetSchema: 'src_exist', schema: 'existing', requireApproval: true, onSourceChange: 'rerun' });
    await waitFor(h, 'awaiting approval');
    // Only the parent changes: the child stays full, and its FK to the parent is dropped and restored around the rerun.
    write(file, `INSERT INTO parent VALUES (301, 'new parent'); UPDATE parent SET name = 'renamed' WHERE id = 5;`);
    await h.signal(approveSignal);
    // Back at the gate after the rerun: the second approval is not given.
    const again = await waitFor(h, 'awaiting approval', (p) => p.tables.find((t) => t.table === 'parent')?.rowsTotal === 301);
    expect(again.awaitingApproval?.tables.every((t) => t.ok)).toBe(true);
    expect(await query(`SELECT convalidated::text AS v FROM pg_constraint WHERE conname = 'child_parent_fk'`)).toEqual([{ v: 'true' }]);
    expect((await query(`SELECT name FROM src_exist.parent WHERE id = 5`))[0]!.name).toBe('renamed');
    expect(again.awaitingApproval?.warnings.join('\n')).toMatch(/copied again \(round 1\): parent$/m);
    await h.signal(abortSignal, 'not tonight');
    const err = (await h.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('Aborted');
    expect(err.cause!.message).not.toMatch(/INCOMPLETE/);
    expect(await query(`SELECT (SELECT count(*) FROM src_exist.parent) AS p, (SELECT count(*) FROM src_exist.child) AS c, (SELECT count(*) FROM src_exist.other) AS o`)).toEqual([{ p: '0', c: '0', o: '0' }]);
    expect(await query(`SELECT convalidated::text AS v FROM pg_constraint WHERE conname = 'child_parent_fk'`)).toEqual([{ v: 'true' }]);
  });

  it('onSourceChange "rerun" copies the changed tables again without asking; abort at the choice rolls back', async () => {
    const file = source('auto.db');
    const h = await start('src-auto', { source: file, targetSchema: 'src_auto', requireApproval: true, onSourceChange: 'rerun', validation: 'count' });
    await waitFor(h, 'awaiting approval');
    write(file, `INSERT INTO other VALUES ('new', x'ff');`);
    await h.signal(approveSignal);
    const again = await waitFor(h, 'awaiting approval');
    expect(again.tables.find((t) => t.table === 'other')?.rowsTotal).toBe(51);
    await h.signal(approveSignal);
    expect((await h.result()).tables.find((t) => t.table === 'other')).toMatchObject({ sourceRows: 51, targetRows: 51 });

    const file2 = source('abort.db');
    const h2 = await start('src-abort', { source: file2, targetSchema: 'src_abort', requireApproval: true, validation: 'count' });
    await waitFor(h2, 'awaiting approval');
    write(file2, `DELETE FROM child WHERE parent_id = 300; DELETE FROM parent WHERE id = 300;`);
    await h2.signal(approveSignal);
    await waitFor(h2, 'source changed', (x) => Boolean(x.sourceChanged));
    await h2.signal(abortSignal, 'the app is still writing');
    const err = (await h2.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('Aborted');
    expect(await query(`SELECT to_regclass('src_abort.child') IS NULL AS gone`)).toEqual([{ gone: 't' }]);
  });

  it('a schema change cannot be rerun: the run fails SourceChanged, naming it, and rolls back', async () => {
    const file = source('schema.db');
    const h = await start('src-schema', { source: file, targetSchema: 'src_schema', requireApproval: true, validation: 'count' });
    await waitFor(h, 'awaiting approval');
    write(file, `ALTER TABLE parent ADD COLUMN extra TEXT;`);
    await h.signal(approveSignal);
    const err = (await h.result().catch((e: unknown) => e)) as WorkflowFailedError;
    expect((err.cause as ApplicationFailure).type).toBe('SourceChanged');
    expect(err.cause!.message).toMatch(/changed its schema after the snapshot \(table parent altered\)/);
    expect(err.cause!.message).toMatch(/rolled back/);
  });
});
