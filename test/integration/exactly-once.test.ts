// Exactly once, by construction: each chunk run twice, and twice at the same
// time, on a real SQLite file and a real PostgreSQL: no duplicate, no gap.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyChunk } from '../../src/copy/copy-chunk';
import { TargetPools } from '../../src/postgres/connect';
import { createTableSql } from '../../src/postgres/ddl';
import * as state from '../../src/postgres/state';
import { planChunks } from '../../src/sqlite/chunk-bounds';
import { openSource } from '../../src/sqlite/open';
import type { TablePlan } from '../../src/types';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';

const ROWS = 30_000;

const table: TablePlan = {
  source: 'items',
  target: 'items',
  withoutRowid: false,
  strict: false,
  key: { kind: 'rowid', columns: ['rowid'], display: ['id'] },
  columns: [
    { source: 'id', target: 'id', declaredType: 'INTEGER', pgType: 'bigint', converter: { kind: 'integer', bits: 64 }, notNull: true, defaultSql: null, identity: false, generated: false, reason: '', warnings: [], suggestions: [] },
    { source: 'name', target: 'name', declaredType: 'TEXT', pgType: 'text', converter: { kind: 'text' }, notNull: false, defaultSql: null, identity: false, generated: false, reason: '', warnings: [], suggestions: [] },
  ],
  primaryKey: ['id'],
  uniques: [],
  indexes: [],
  foreignKeys: [],
  checks: [],
  rowCount: ROWS,
  sqliteSequence: null,
  warnings: [],
};

describe('copyChunk is exactly once', () => {
  let db: TestDatabase;
  const pools = new TargetPools(16);
  const source = makeSqlite(tempDir('once'), 'once.db', `CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)`, (d) => {
    const ins = d.prepare('INSERT INTO items VALUES (?, ?)');
    d.transaction(() => {
      // Gaps in the ids, so ranges are not just arithmetic.
      for (let i = 1; i <= ROWS; i++) ins.run(BigInt(i * 3), `item ${i}`);
    })();
  });

  beforeAll(async () => {
    db = await createTestDatabase('exactly_once');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await state.ensureStateSchema(c);
    await c.end();
  });
  afterAll(async () => {
    await pools.closeAll();
    await db?.drop();
  });

  async function freshTarget(schema: string, runId: string): Promise<void> {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query(`CREATE SCHEMA ${schema}`);
    await c.query(createTableSql(schema, table));
    await state.insertRun(c, { runId, temporalRunId: runId, source, targetSchema: schema, createdStateSchema: false });
    await c.end();
  }

  async function runChunks(schema: string, runId: string, copiesPerChunk: number): Promise<void> {
    const sqlite = openSource(source);
    const chunks = planChunks(sqlite, 'items', table.key, ROWS, 7_000);
    sqlite.close();
    expect(chunks.length).toBe(5);
    await Promise.all(
      chunks.flatMap((chunk) =>
        Array.from({ length: copiesPerChunk }, async () => {
          const reader = openSource(source);
          try {
            await copyChunk({
              pool: pools.get(db.url),
              db: reader,
              runId,
              schema,
              table,
              chunk,
              batchSize: 500,
              hooks: { heartbeat: () => undefined, throwIfCancelled: () => undefined },
            });
          } finally {
            reader.close();
          }
        }),
      ),
    );
  }

  async function stats(schema: string): Promise<Record<string, string>> {
    const c = new pg.Client({ connectionString: db.url, types: { getTypeParser: () => (v: string) => v } });
    await c.connect();
    const r = await c.query(`SELECT count(*) AS n, count(DISTINCT id) AS d, min(id) AS lo, max(id) AS hi, sum(id) AS s FROM ${schema}.items`);
    await c.end();
    return r.rows[0];
  }

  const expected = { n: String(ROWS), d: String(ROWS), lo: '3', hi: String(ROWS * 3), s: String((3 * ROWS * (ROWS + 1)) / 2) };

  it('runs every chunk twice at the same time: each row lands once', async () => {
    await freshTarget('twice_concurrent', 'once-concurrent');
    await runChunks('twice_concurrent', 'once-concurrent', 2);
    expect(await stats('twice_concurrent')).toEqual(expected);
  });

  it('runs every chunk again after it finished (a retry of a completed activity): nothing changes', async () => {
    await freshTarget('twice_sequential', 'once-sequential');
    await runChunks('twice_sequential', 'once-sequential', 1);
    await runChunks('twice_sequential', 'once-sequential', 3);
    expect(await stats('twice_sequential')).toEqual(expected);
  });
});
