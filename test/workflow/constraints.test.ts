// The constraints phase: every CHECK and foreign key is added NOT VALID in one session, then
// validated table by table in parallel sessions. What must hold: foreign keys that point at each
// other (two tables crosswise, a table at itself) are all added and validated — no session waits
// on another's lock, no deadlock —; a CHECK that the source's rows break in PostgreSQL stays NOT
// VALID with a warning naming it and the query that finds the rows; running the step again, twice
// at once, changes nothing and says the same.
//
// The real workflow on the test dev server, real SQLite files, a real PostgreSQL.
import { MockActivityEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { migrateSqliteToPostgres } from '../../workflows';
import type { MigrationReport } from '../../src/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';

const dir = tempDir('constraints');

// a ↔ b crosswise, node → node, items → a and b; items.qty's CHECK is broken by one row (SQLite
// was told to ignore CHECKs when it was written).
const SQL = `
CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id), name TEXT NOT NULL);
CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a(id), name TEXT NOT NULL);
CREATE TABLE node (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES node(id));
CREATE TABLE items (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL REFERENCES a(id), b_id INTEGER REFERENCES b(id),
  qty INTEGER NOT NULL CONSTRAINT qty_positive CHECK (qty > 0), kind TEXT NOT NULL CONSTRAINT kind_known CHECK (kind IN ('x', 'y')));
`;

function fill(db: import('better-sqlite3').Database): void {
  // Rows of a cycle go in before what they point at (SQLite checks no foreign key unless asked).
  db.pragma('foreign_keys = OFF');
  db.transaction(() => {
    const a = db.prepare('INSERT INTO a VALUES (?, ?, ?)');
    const b = db.prepare('INSERT INTO b VALUES (?, ?, ?)');
    for (let i = 1; i <= 300; i++) {
      a.run(i, i, `a${i}`);
      b.run(i, 301 - i, `b${i}`);
    }
    const node = db.prepare('INSERT INTO node VALUES (?, ?)');
    for (let i = 1; i <= 500; i++) node.run(i, i === 1 ? null : Math.ceil(i / 2));
    const item = db.prepare('INSERT INTO items VALUES (?, ?, ?, ?, ?)');
    for (let i = 1; i <= 3000; i++) item.run(i, (i % 300) + 1, i % 7 === 0 ? null : (i % 300) + 1, (i % 9) + 1, i % 2 ? 'x' : 'y');
  })();
  db.pragma('ignore_check_constraints = ON');
  db.prepare('INSERT INTO items VALUES (?, ?, ?, ?, ?)').run(3001, 1, 1, -5, 'x');
}

async function constraints(url: string, schema: string): Promise<Record<string, { type: string; valid: boolean }>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ conname: string; contype: string; convalidated: boolean }>(
      `SELECT k.conname, k.contype, k.convalidated FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
        WHERE n.nspname = $1 AND k.contype IN ('c', 'f') ORDER BY 1`,
      [schema],
    );
    return Object.fromEntries(r.rows.map((x) => [x.conname, { type: x.contype, valid: x.convalidated }]));
  } finally {
    await c.end();
  }
}

describe('constraints: added in one session, validated in parallel', () => {
  let target: TestDatabase;
  let w: TestWorker;
  beforeAll(async () => {
    target = await createTestDatabase('constraints');
    w = await startTestWorker('constraints', { default: target.url });
  });
  afterAll(async () => {
    await w?.stop();
    await target?.drop();
  });

  it('crosswise and self-referencing keys validated; a CHECK the rows break left NOT VALID with a warning; a second run of the step, twice at once, changes nothing', async () => {
    const source = makeSqlite(dir, 'cross.db', SQL, fill);
    const schema = 'cons_cross';
    const runId = `constraints-${Date.now()}`;
    const report: MigrationReport = await w.client.workflow.execute(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId: runId,
      args: [{ source, target: 'default', targetSchema: schema, batchSize: 400, chunkSize: 1000 }],
    });
    expect(report.status).toBe('succeeded');
    expect(report.tables.map((t) => [t.table, t.targetRows])).toEqual(
      expect.arrayContaining([
        ['a', 300],
        ['b', 300],
        ['node', 500],
        ['items', 3001],
      ]),
    );

    const found = await constraints(target.url, schema);
    const fks = Object.entries(found).filter(([, k]) => k.type === 'f');
    // a.b_id, b.a_id, node.parent_id, items.a_id, items.b_id
    expect(fks).toHaveLength(5);
    expect(fks.filter(([, k]) => !k.valid)).toEqual([]);
    expect(found.kind_known).toEqual({ type: 'c', valid: true });
    expect(found.qty_positive).toEqual({ type: 'c', valid: false });
    const warned = report.warnings.filter((m) => m.includes('qty_positive'));
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/^items: CHECK qty_positive .* left NOT VALID: existing rows violate it in PostgreSQL .*Find them with SELECT \* FROM "cons_cross"\."items" WHERE NOT \(/);
    expect(report.warnings.filter((m) => /NOT VALID/.test(m))).toHaveLength(1);

    // The step again, twice at once (a retried activity racing a late first attempt).
    const env = new MockActivityEnvironment();
    const acts = createActivities(w.deps);
    type Built = Awaited<ReturnType<typeof acts.buildConstraints>>;
    const again = (await Promise.all([env.run(acts.buildConstraints, { runId, target: 'default' }), new MockActivityEnvironment().run(acts.buildConstraints, { runId, target: 'default' })])) as Built[];
    for (const r of again) {
      expect(r.created).toEqual([]);
      expect(r.warnings.filter((m) => m.includes('qty_positive'))).toHaveLength(1);
      expect(r.warnings.filter((m) => /NOT VALID/.test(m))).toHaveLength(1);
    }
    expect(await constraints(target.url, schema)).toEqual(found);
  });
});
