// Large tables are typed from a sample and confirmed from every row their copy read
// (src/plan/speculation.ts). Whatever the sample said, the target must be what an exact plan
// (every value profiled before the copy) makes: here both run on the real workflow, worker,
// SQLite and PostgreSQL, into two schemas, and are compared type by type and row by row.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { migrateSqliteToPostgres } from '../../workflows';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { startTestWorker, type TestWorker } from '../helpers/worker';
import { maybeRecordHistory } from '../helpers/histories';

const dir = tempDir('speculative');
const READINGS = 40_000;
const EVENTS = 30_000;

// The sample reads 32 windows of 500 rows spread over the rowid span: with 40,000 rows, rowids
// 501..1250 are in none of them. The odd values sit there.
const file = makeSqlite(
  dir,
  'spec.db',
  `CREATE TABLE readings (id INTEGER PRIMARY KEY, sensor INTEGER NOT NULL, value REAL, note VARCHAR(8), at DATETIME);
   CREATE TABLE events (id INTEGER PRIMARY KEY, reading_id INTEGER REFERENCES readings(id), kind TEXT NOT NULL, payload JSON, at DATETIME);
   CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT UNIQUE);`,
  (db) => {
    const r = db.prepare('INSERT INTO readings VALUES (?, ?, ?, ?, ?)');
    for (let i = 1; i <= READINGS; i++) {
      r.run(
        BigInt(i),
        i === 900 ? 2.5 : BigInt(i % 97),
        i % 11 === 0 ? null : i / 8,
        i === 1000 ? 'a note far longer than eight characters' : `n${i % 1000}`,
        `2025-03-${String((i % 28) + 1).padStart(2, '0')} 08:15:${String(i % 60).padStart(2, '0')}.250000`,
      );
    }
    const e = db.prepare('INSERT INTO events VALUES (?, ?, ?, ?, ?)');
    for (let i = 1; i <= EVENTS; i++) {
      e.run(BigInt(i), BigInt((i % READINGS) + 1), i % 3 ? 'tick' : 'alert', i % 5 ? `{"n":${i},"ok":true}` : null, `2025-04-01T00:00:${String(i % 60).padStart(2, '0')}Z`);
    }
    for (let i = 1; i <= 10; i++) db.prepare('INSERT INTO tags VALUES (?, ?)').run(BigInt(i), `tag${i}`);
  },
);

async function rows<T extends Record<string, unknown>>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, params)).rows;
  } finally {
    await c.end();
  }
}

describe('speculative plan', () => {
  let db: TestDatabase;
  let w: TestWorker;
  const saved = { min: process.env.CUTOVER_SPECULATE_MIN_ROWS, exact: process.env.CUTOVER_EXACT_PLAN };

  beforeAll(async () => {
    db = await createTestDatabase('wf_speculative');
    w = await startTestWorker('wf-speculative', { default: db.url });
  });

  afterAll(async () => {
    for (const [k, v] of [
      ['CUTOVER_SPECULATE_MIN_ROWS', saved.min],
      ['CUTOVER_EXACT_PLAN', saved.exact],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await w?.stop();
    await db?.drop();
  });

  async function migrate(targetSchema: string, env: Record<string, string | undefined>) {
    // The plan activity runs in this process (the test worker): it reads the switches when it runs.
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    const handle = await w.client.workflow.start(migrateSqliteToPostgres, {
      taskQueue: w.taskQueue,
      workflowId: `wf-spec-${targetSchema}-${Math.random().toString(36).slice(2)}`,
      args: [{ source: file, target: 'default', targetSchema, batchSize: 3000, chunkSize: 9000 }],
    });
    return handle.result();
  }

  it('gives the exact plan’s types and rows: a sample that held is confirmed, one that did not is copied again', async () => {
    const spec = await migrate('spec', { CUTOVER_SPECULATE_MIN_ROWS: '1000', CUTOVER_EXACT_PLAN: undefined });
    const exact = await migrate('exact', { CUTOVER_EXACT_PLAN: '1' });
    expect(spec.status).toBe('succeeded');
    expect(exact.status).toBe('succeeded');
    // The table workflow that confirmed, re-created and copied again: replayed by replay.test.ts.
    await maybeRecordHistory(w.client.workflow.getHandle(`${spec.runId}/table/readings`), 'copy-table-speculative-recopied');

    // Which tables were speculative, and what became of them.
    const [run] = await rows<{ s: Record<string, string>; notes: Record<string, string> }>(
      db.url,
      `SELECT plan->'speculation'->'tables' AS s, plan->'speculation'->'notes' AS notes FROM cutover.runs WHERE run_id = $1`,
      [spec.runId],
    );
    expect(run!.s).toEqual({ readings: 'redone', events: 'confirmed' });
    const [exactRun] = await rows<{ s: unknown }>(db.url, `SELECT plan->'speculation' AS s FROM cutover.runs WHERE run_id = $1`, [exact.runId]);
    expect(exactRun!.s).toBeNull();
    const note = spec.warnings.find((x) => x.startsWith('readings: the types chosen from a sample'));
    expect(note, spec.warnings.join('\n')).toBeDefined();
    expect(note).toMatch(/sensor: bigint → double precision/);
    expect(note).toMatch(/note: varchar\(8\) → text/);

    // The same target: types, then every row.
    const types = (schema: string) =>
      rows<{ c: string }>(
        db.url,
        `SELECT table_name || '.' || column_name || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || is_nullable AS c
           FROM information_schema.columns i
           JOIN pg_attribute a ON a.attrelid = (quote_ident(i.table_schema) || '.' || quote_ident(i.table_name))::regclass AND a.attname = i.column_name
          WHERE table_schema = $1 ORDER BY 1`,
        [schema],
      ).then((r) => r.map((x) => x.c));
    const specTypes = await types('spec');
    expect(specTypes).toEqual(await types('exact'));
    expect(specTypes).toEqual(expect.arrayContaining(['readings.note text YES', 'readings.sensor double precision NO', 'events.payload jsonb YES']));
    for (const t of ['readings', 'events', 'tags']) {
      const digest = (schema: string) =>
        rows<{ n: string; h: string }>(db.url, `SELECT count(*)::text AS n, md5(string_agg(x::text, '|' ORDER BY x.id)) AS h FROM "${schema}"."${t}" x`).then((r) => r[0]);
      expect(await digest('spec'), t).toEqual(await digest('exact'));
    }
    expect(spec.tables.map((t) => [t.table, t.targetRows, t.rejectedRows]).sort()).toEqual(exact.tables.map((t) => [t.table, t.targetRows, t.rejectedRows]).sort());
    expect(spec.totals.rejects).toBe(0);

    // The re-copied table's checkpoints count its rows once, and its checksums (run after the
    // second copy) used the records of that copy.
    const [chunks] = await rows<{ rows: string; undone: string }>(
      db.url,
      `SELECT sum(rows_copied + rows_rejected)::text AS rows, count(*) FILTER (WHERE NOT done)::text AS undone FROM cutover.chunks WHERE run_id = $1 AND table_name = 'readings'`,
      [spec.runId],
    );
    expect(chunks).toEqual({ rows: String(READINGS), undone: '0' });
    const [sums] = await rows<{ ok: boolean; n: string }>(
      db.url,
      `SELECT bool_and(k.ok AND k.source_hash = encode(sha256(c.source_digests), 'hex')) AS ok, count(*)::text AS n
         FROM cutover.checksums k JOIN cutover.chunks c USING (run_id, table_name, chunk_no) WHERE k.run_id = $1 AND k.table_name = 'readings'`,
      [spec.runId],
    );
    expect(sums).toEqual({ ok: true, n: String(Math.ceil(READINGS / 9000)) });
  });
});
