// Seed 004, the trading backend (SQLAlchemy/Alembic): the target schema comes from SQL migrations
// (boolean DEFAULT false, naive-UTC timestamps, enum-like CHECKs, FKs). The SQLite source has
// orphans (orders.alert_id: that FK was dialect-conditional on SQLite) and a status outside the
// CHECK. The plan refuses with every problem at once; each orphans policy does what it says;
// timestamps round-trip without shifting; new inserts get fresh ids.
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { makeSqlite, tempDir } from '../helpers/sqlite';
import { runPipeline } from '../fixtures/seeds/pipeline';

const SQL_MIGRATIONS = path.join(__dirname, '../fixtures/seeds/sigma-trader/sql');

const SQLITE = `
CREATE TABLE strategies (id INTEGER PRIMARY KEY, name VARCHAR(64) NOT NULL UNIQUE, execution_mode VARCHAR(16) NOT NULL DEFAULT 'MANUAL',
  enabled BOOLEAN NOT NULL DEFAULT 0, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
CREATE TABLE alerts (id INTEGER PRIMARY KEY, strategy_id INTEGER REFERENCES strategies(id), symbol VARCHAR(32) NOT NULL, action VARCHAR(8) NOT NULL,
  raw_payload TEXT NOT NULL, received_at DATETIME NOT NULL, processed BOOLEAN NOT NULL DEFAULT 0);
CREATE TABLE orders (id INTEGER PRIMARY KEY, alert_id INTEGER, strategy_id INTEGER REFERENCES strategies(id), symbol VARCHAR(32) NOT NULL,
  side VARCHAR(8) NOT NULL, qty INTEGER NOT NULL, price NUMERIC(12, 2), status VARCHAR(16) NOT NULL DEFAULT 'WAITING',
  simulated BOOLEAN NOT NULL DEFAULT 0, error_message TEXT, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL);
INSERT INTO strategies VALUES (1, 'breakout', 'AUTO', 1, '2025-03-30 01:30:00.123456', '2025-03-30 02:30:00'),
                              (2, 'mean-revert', 'MANUAL', 0, '2025-10-26 00:59:59.999999', '2025-10-26 01:00:00');
INSERT INTO alerts VALUES (1, 1, 'INFY', 'BUY', '{"price": 1500.5}', '2025-03-30 01:30:00.5', 1),
                          (2, 2, 'TCS', 'SELL', '{}', '2025-03-30 02:00:00', 0),
                          (5, NULL, 'SBIN', 'BUY', '{}', '2025-01-01 00:00:00', 0);
`;

function fillOrders(db: import('better-sqlite3').Database): void {
  const o = db.prepare(`INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  for (let i = 1n; i <= 40n; i++) {
    // alerts 3 and 4 were deleted on SQLite, where orders.alert_id had no FK: orphans.
    const alert = i % 10n === 3n ? 3n : i % 10n === 4n ? 4n : i % 2n === 0n ? 1n : null;
    o.run(i, alert, 1n, 'INFY', i % 2n ? 'BUY' : 'SELL', i, '1500.25', i === 7n ? 'PARTIAL' : 'EXECUTED', i % 3n === 0n ? 1n : 0n, null, '2025-03-30 01:59:59.000001', '2025-03-30 03:00:00');
  }
}

async function q(url: string, sql: string): Promise<Record<string, unknown>[]> {
  const c = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end();
  }
}

describe('seed 004: trading backend (Alembic-style SQL migrations, orphans, CHECKs)', () => {
  let target: TestDatabase;
  const dir = tempDir('seed-trader');
  let n = 0;
  beforeEach(async () => {
    target = await createTestDatabase('seed_trader');
  });
  afterEach(async () => {
    await target?.drop();
  });
  const source = (fixCheck: boolean) =>
    makeSqlite(dir, `trader-${++n}.db`, SQLITE, (db) => {
      fillOrders(db);
      if (fixCheck) db.prepare(`UPDATE orders SET status = 'EXECUTED' WHERE status = 'PARTIAL'`).run();
    });

  it('refuses before copying with the orphans and the CHECK violation in one message, and rolls the migrations back', async () => {
    const r = await runPipeline({ runId: 'trader-fail', source: source(false), targetUrl: target.url, sqlMigrations: SQL_MIGRATIONS });
    const msg = r.error?.message ?? '';
    expect((r.error as { type?: string }).type).toBe('SchemaMismatch');
    expect(msg).toMatch(/orders\.status → orders\.status: 1 value outside CHECK orders_status_check .*'PARTIAL'/);
    expect(msg).toMatch(/orders: 8 rows violate the target's foreign key orders_alert_id_fkey/);
    expect(r.rolledBack).toBe(true);
    // The tables the SQL migrations created are gone again; nothing else was touched.
    expect(await q(target.url, `SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'`)).toEqual([]);
  });

  it('orphans "reject": orphan orders go to cutover.rejects, the rest loads; timestamps do not shift; new ids are fresh', async () => {
    const r = await runPipeline({ runId: 'trader-reject', source: source(true), targetUrl: target.url, sqlMigrations: SQL_MIGRATIONS, orphans: 'reject' });
    expect(r.error).toBeNull();
    expect(r.report!.tables.find((t) => t.table === 'orders')).toMatchObject({ sourceRows: 40, targetRows: 32, rejectedRows: 8 });
    expect(await q(target.url, `SELECT created_at, enabled FROM strategies ORDER BY id`)).toEqual([
      { created_at: '2025-03-30 01:30:00.123456', enabled: 't' },
      { created_at: '2025-10-26 00:59:59.999999', enabled: 'f' },
    ]);
    expect(await q(target.url, `SELECT received_at FROM alerts WHERE id = 1`)).toEqual([{ received_at: '2025-03-30 01:30:00.5' }]);
    expect(await q(target.url, `SELECT count(*) AS n FROM cutover.rejects WHERE table_name = 'orders' AND reason LIKE 'orders: orphan:%'`)).toEqual([{ n: '8' }]);
    expect(await q(target.url, `SELECT convalidated FROM pg_constraint WHERE conname = 'orders_alert_id_fkey'`)).toEqual([{ convalidated: 't' }]);
    const ins = await q(target.url, `INSERT INTO orders (symbol, side, qty, created_at, updated_at) VALUES ('X', 'BUY', 1, now(), now()) RETURNING id, status, simulated`);
    expect(ins).toEqual([{ id: '41', status: 'WAITING', simulated: 'f' }]);
    expect(await q(target.url, `INSERT INTO alerts (symbol, action, raw_payload, received_at) VALUES ('X', 'BUY', '{}', now()) RETURNING id`)).toEqual([{ id: '6' }]);
    // Applied migrations are recorded: a later run does not apply them again.
    expect(await q(target.url, `SELECT name FROM cutover.applied_migrations ORDER BY name`)).toEqual([{ name: '0001_core_tables.sql' }, { name: '0002_orders.sql' }]);
  });

  it('orphans "keep": every row loads and the FK is restored NOT VALID on purpose', async () => {
    const r = await runPipeline({ runId: 'trader-keep', source: source(true), targetUrl: target.url, sqlMigrations: SQL_MIGRATIONS, orphans: 'keep' });
    expect(r.error).toBeNull();
    expect(r.report!.tables.find((t) => t.table === 'orders')).toMatchObject({ targetRows: 40, rejectedRows: 0, ok: true });
    expect(await q(target.url, `SELECT convalidated FROM pg_constraint WHERE conname = 'orders_alert_id_fkey'`)).toEqual([{ convalidated: 'f' }]);
  });

  it('a second run with truncate over loaded tables is refused at plan time (bad value) and leaves the loaded rows in place', async () => {
    const r = await runPipeline({ runId: 'trader-rb', source: source(true), targetUrl: target.url, sqlMigrations: SQL_MIGRATIONS, orphans: 'keep' });
    expect(r.error).toBeNull();
    // Again with truncate, from a source with a non-number qty: refused before the TRUNCATE.
    const bad = makeSqlite(dir, `trader-bad-${++n}.db`, SQLITE, (db) => {
      fillOrders(db);
      db.prepare(`UPDATE orders SET status = 'EXECUTED' WHERE status = 'PARTIAL'`).run();
      db.prepare(`UPDATE orders SET qty = 'lots' WHERE id = 9`).run();
    });
    const r2 = await runPipeline({ runId: 'trader-rb2', source: bad, targetUrl: target.url, sqlMigrations: SQL_MIGRATIONS, orphans: 'keep', existing: { truncate: true } });
    expect(r2.error?.message).toMatch(/orders\.qty .* 1 text value that are not numbers|not numbers/);
    expect(await q(target.url, `SELECT count(*) AS n FROM orders`)).toEqual([{ n: '40' }]);
  });
});
