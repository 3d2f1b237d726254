// Seed 003, the research agent: a NestJS/TypeORM app that starts fresh on PostgreSQL. Only the
// schema moves (schemaOnly): uuid keys and JSON columns become uuid and jsonb (infer), keys,
// uniques and FKs exist, no row is copied, and the app's own inserts work afterwards.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { migrateSqliteToPostgres } from '../../workflows';

// What TypeORM's synchronize created in SQLite for the three entities.
const TYPEORM_SQLITE = `
CREATE TABLE "log_entry" ("id" varchar PRIMARY KEY NOT NULL, "level" varchar NOT NULL, "message" text NOT NULL,
  "data" text, "timestamp" datetime NOT NULL DEFAULT (datetime('now')));
CREATE TABLE "research_result" ("id" varchar PRIMARY KEY NOT NULL, "query" text NOT NULL, "answer" text,
  "sources" text NOT NULL DEFAULT ('[]'), "logEntryId" varchar, "createdAt" datetime NOT NULL DEFAULT (datetime('now')),
  CONSTRAINT "FK_result_log" FOREIGN KEY ("logEntryId") REFERENCES "log_entry" ("id") ON DELETE SET NULL);
CREATE TABLE "evaluation_record" ("id" varchar PRIMARY KEY NOT NULL, "resultId" varchar NOT NULL, "score" float NOT NULL,
  "metadata" text, CONSTRAINT "UQ_eval_result" UNIQUE ("resultId"),
  CONSTRAINT "FK_eval_result" FOREIGN KEY ("resultId") REFERENCES "research_result" ("id") ON DELETE CASCADE);
`;

const uuid = (n: number) => `${String(n).padStart(8, '0')}-1111-4222-8333-444455556666`;

async function q(url: string, sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows;
  } finally {
    await c.end();
  }
}

describe('seed 003: research agent (fresh start, schema only)', () => {
  let db: TestDatabase;
  let w: TestWorker;
  beforeAll(async () => {
    db = await createTestDatabase('seed_research');
    w = await startTestWorker('seed-research', { default: db.url });
  });
  afterAll(async () => {
    await w?.stop();
    await db?.drop();
  });

  it('creates uuid/jsonb tables with keys and FKs, copies nothing, and the app can insert', async () => {
    const source = makeSqlite(tempDir('research'), 'research.db', TYPEORM_SQLITE, (d) => {
      d.prepare(`INSERT INTO log_entry (id, level, message, data) VALUES (?, 'info', 'hello', '{"step": 1}')`).run(uuid(1));
      d.prepare(`INSERT INTO research_result (id, query, answer, sources, logEntryId) VALUES (?, 'q', 'a', '["https://example.org"]', ?)`).run(uuid(2), uuid(1));
    });
    const report = await w.client.workflow.execute(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId: `research-${Date.now()}`,
      args: [{ source, target: 'default', schemaOnly: true, infer: true }],
    });
    expect(report.status).toBe('succeeded');
    expect(report.totals.rows).toBe(0);

    const types = await q(
      db.url,
      `SELECT table_name || '.' || column_name || '=' || data_type AS t FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(types.map((r) => r.t)).toEqual(
      expect.arrayContaining(['log_entry.id=uuid', 'log_entry.data=jsonb', 'research_result.sources=jsonb', 'evaluation_record.score=double precision']),
    );
    expect(await q(db.url, `SELECT count(*)::int AS n FROM log_entry`)).toEqual([{ n: 0 }]);
    const cons = await q(db.url, `SELECT conrelid::regclass::text AS t, contype::text AS k FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2`);
    expect(cons).toEqual(
      expect.arrayContaining([
        { t: 'log_entry', k: 'p' },
        { t: 'research_result', k: 'f' },
        { t: 'evaluation_record', k: 'u' },
        { t: 'evaluation_record', k: 'f' },
      ]),
    );

    // The app's inserts (TypeORM generates the uuid) and its JSON queries work.
    await q(db.url, `INSERT INTO log_entry (id, level, message, data) VALUES ($1, 'info', 'started', $2)`, [uuid(10), JSON.stringify({ step: 2 })]);
    await q(db.url, `INSERT INTO research_result (id, query, sources, "logEntryId") VALUES ($1, 'why', '["a"]', $2)`, [uuid(11), uuid(10)]);
    const rows = await q(db.url, `SELECT data->>'step' AS step, "timestamp" IS NOT NULL AS stamped FROM log_entry`);
    expect(rows).toEqual([{ step: '2', stamped: true }]);
    await expect(q(db.url, `INSERT INTO evaluation_record (id, "resultId", score) VALUES ($1, $2, 0.5)`, [uuid(12), uuid(99)])).rejects.toThrow(/foreign key/);
  });
});
