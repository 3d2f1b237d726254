// Seed 000–002, the candle annotator: a Drizzle sqlite-core app moves to PostgreSQL. The target
// schema comes from the app's Drizzle pg-core migrations (drizzle-kit output, in
// test/fixtures/seeds/candle-annotator/drizzle-pg), applied with drizzle-orm's own migrator; the
// data is converted to the TARGET types (0/1 → boolean, epoch seconds → timestamp, JSON text →
// jsonb, REAL → double precision). Afterwards the app's Drizzle pg queries see booleans, Dates,
// objects and exact doubles, and its inserts get fresh ids. The ML service's role can read.
import Database from 'better-sqlite3';
import { asc, eq } from 'drizzle-orm';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import * as pgc from 'drizzle-orm/pg-core';
import * as sq from 'drizzle-orm/sqlite-core';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { tempDir } from '../helpers/sqlite';
import { runPipeline } from '../fixtures/seeds/pipeline';

const MIGRATIONS = path.join(__dirname, '../fixtures/seeds/candle-annotator/drizzle-pg');

// ---- the app's SQLite schema (Drizzle sqlite-core), as it ran before the move ----
const s = {
  charts: sq.sqliteTable('charts', {
    id: sq.integer('id').primaryKey({ autoIncrement: true }),
    name: sq.text('name').notNull(),
    symbol: sq.text('symbol').notNull(),
    timeframe: sq.text('timeframe').notNull(),
    createdAt: sq.integer('created_at', { mode: 'timestamp' }).notNull(),
  }),
  candles: sq.sqliteTable('candles', {
    id: sq.integer('id').primaryKey({ autoIncrement: true }),
    chartId: sq.integer('chart_id').notNull(),
    time: sq.integer('time', { mode: 'timestamp' }).notNull(),
    open: sq.real('open').notNull(),
    high: sq.real('high').notNull(),
    low: sq.real('low').notNull(),
    close: sq.real('close').notNull(),
    volume: sq.real('volume'),
  }),
  annotationTypes: sq.sqliteTable('annotation_types', {
    id: sq.integer('id').primaryKey({ autoIncrement: true }),
    name: sq.text('name').notNull().unique(),
    color: sq.text('color').notNull(),
    isActive: sq.integer('is_active', { mode: 'boolean' }).notNull().default(true),
    createdAt: sq.integer('created_at', { mode: 'timestamp' }).notNull(),
  }),
  annotations: sq.sqliteTable('annotations', {
    id: sq.integer('id').primaryKey({ autoIncrement: true }),
    chartId: sq.integer('chart_id').notNull(),
    typeId: sq.integer('type_id'),
    geometry: sq.text('geometry', { mode: 'json' }).notNull(),
    note: sq.text('note'),
    createdAt: sq.integer('created_at', { mode: 'timestamp' }).notNull(),
  }),
  spanLabelTypes: sq.sqliteTable('span_label_types', {
    id: sq.integer('id').primaryKey({ autoIncrement: true }),
    name: sq.text('name').notNull().unique(),
    color: sq.text('color').notNull(),
    isActive: sq.integer('is_active', { mode: 'boolean' }).notNull().default(true),
    sortOrder: sq.integer('sort_order').notNull().default(0),
  }),
  spanAnnotations: sq.sqliteTable('span_annotations', {
    id: sq.integer('id').primaryKey({ autoIncrement: true }),
    chartId: sq.integer('chart_id').notNull(),
    labelTypeId: sq.integer('label_type_id'),
    startTime: sq.integer('start_time', { mode: 'timestamp' }).notNull(),
    endTime: sq.integer('end_time', { mode: 'timestamp' }).notNull(),
    subSpans: sq.text('sub_spans', { mode: 'json' }),
    modelPrediction: sq.text('model_prediction', { mode: 'json' }),
    source: sq.text('source').notNull().default('manual'),
    isVerified: sq.integer('is_verified', { mode: 'boolean' }).notNull().default(false),
    createdAt: sq.integer('created_at', { mode: 'timestamp' }).notNull(),
  }),
};

// What drizzle-kit generate (sqlite dialect) emitted for that schema.
const SQLITE_DDL = `
CREATE TABLE \`charts\` (\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL, \`name\` text NOT NULL, \`symbol\` text NOT NULL, \`timeframe\` text NOT NULL, \`created_at\` integer NOT NULL);
CREATE TABLE \`candles\` (\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL, \`chart_id\` integer NOT NULL, \`time\` integer NOT NULL, \`open\` real NOT NULL, \`high\` real NOT NULL, \`low\` real NOT NULL, \`close\` real NOT NULL, \`volume\` real, FOREIGN KEY (\`chart_id\`) REFERENCES \`charts\`(\`id\`) ON UPDATE no action ON DELETE cascade);
CREATE INDEX \`candles_chart_time_idx\` ON \`candles\` (\`chart_id\`,\`time\`);
CREATE TABLE \`annotation_types\` (\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL, \`name\` text NOT NULL, \`color\` text NOT NULL, \`is_active\` integer DEFAULT true NOT NULL, \`created_at\` integer NOT NULL);
CREATE UNIQUE INDEX \`annotation_types_name_unique\` ON \`annotation_types\` (\`name\`);
CREATE TABLE \`annotations\` (\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL, \`chart_id\` integer NOT NULL, \`type_id\` integer, \`geometry\` text NOT NULL, \`note\` text, \`created_at\` integer NOT NULL, FOREIGN KEY (\`chart_id\`) REFERENCES \`charts\`(\`id\`) ON UPDATE no action ON DELETE cascade, FOREIGN KEY (\`type_id\`) REFERENCES \`annotation_types\`(\`id\`) ON UPDATE no action ON DELETE set null);
CREATE TABLE \`span_label_types\` (\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL, \`name\` text NOT NULL, \`color\` text NOT NULL, \`is_active\` integer DEFAULT true NOT NULL, \`sort_order\` integer DEFAULT 0 NOT NULL);
CREATE UNIQUE INDEX \`span_label_types_name_unique\` ON \`span_label_types\` (\`name\`);
CREATE TABLE \`span_annotations\` (\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL, \`chart_id\` integer NOT NULL, \`label_type_id\` integer, \`start_time\` integer NOT NULL, \`end_time\` integer NOT NULL, \`sub_spans\` text, \`model_prediction\` text, \`source\` text DEFAULT 'manual' NOT NULL, \`is_verified\` integer DEFAULT false NOT NULL, \`created_at\` integer NOT NULL, FOREIGN KEY (\`chart_id\`) REFERENCES \`charts\`(\`id\`) ON UPDATE no action ON DELETE cascade, FOREIGN KEY (\`label_type_id\`) REFERENCES \`span_label_types\`(\`id\`) ON UPDATE no action ON DELETE set null);
`;

// ---- the app's PostgreSQL schema (Drizzle pg-core), matching the migrations folder ----
const p = {
  charts: pgc.pgTable('charts', {
    id: pgc.serial('id').primaryKey(),
    name: pgc.text('name').notNull(),
    symbol: pgc.text('symbol').notNull(),
    timeframe: pgc.text('timeframe').notNull(),
    createdAt: pgc.timestamp('created_at').defaultNow().notNull(),
  }),
  candles: pgc.pgTable('candles', {
    id: pgc.serial('id').primaryKey(),
    chartId: pgc.integer('chart_id').notNull(),
    time: pgc.timestamp('time').notNull(),
    open: pgc.doublePrecision('open').notNull(),
    high: pgc.doublePrecision('high').notNull(),
    low: pgc.doublePrecision('low').notNull(),
    close: pgc.doublePrecision('close').notNull(),
    volume: pgc.doublePrecision('volume'),
  }),
  annotationTypes: pgc.pgTable('annotation_types', {
    id: pgc.serial('id').primaryKey(),
    name: pgc.text('name').notNull().unique(),
    color: pgc.text('color').notNull(),
    isActive: pgc.boolean('is_active').default(true).notNull(),
    createdAt: pgc.timestamp('created_at').defaultNow().notNull(),
  }),
  annotations: pgc.pgTable('annotations', {
    id: pgc.serial('id').primaryKey(),
    chartId: pgc.integer('chart_id').notNull(),
    typeId: pgc.integer('type_id'),
    geometry: pgc.jsonb('geometry').notNull(),
    note: pgc.text('note'),
    createdAt: pgc.timestamp('created_at').defaultNow().notNull(),
  }),
  spanAnnotations: pgc.pgTable('span_annotations', {
    id: pgc.serial('id').primaryKey(),
    chartId: pgc.integer('chart_id').notNull(),
    labelTypeId: pgc.integer('label_type_id'),
    startTime: pgc.timestamp('start_time').notNull(),
    endTime: pgc.timestamp('end_time').notNull(),
    subSpans: pgc.jsonb('sub_spans'),
    modelPrediction: pgc.jsonb('model_prediction'),
    source: pgc.text('source').default('manual').notNull(),
    isVerified: pgc.boolean('is_verified').default(false).notNull(),
    createdAt: pgc.timestamp('created_at').defaultNow().notNull(),
  }),
};

const CHARTS = 3;
const CANDLES_PER_CHART = 700;
const T0 = 1_700_000_000; // 2023-11-14T22:13:20Z
// Doubles that a float4, a decimal round trip or a JS→text→JS path would damage.
const PRICES = [43521.37, 0.1 + 0.2, 1e-7, 123456789.12345679, 5e-324, 1.7976931348623157e308];

function buildSource(file: string): void {
  const raw = new Database(file);
  raw.exec(SQLITE_DDL);
  const db = drizzleSqlite(raw);
  db.insert(s.annotationTypes).values([
    { name: 'support', color: '#0f0', isActive: true, createdAt: new Date(T0 * 1000) },
    { name: 'resistance', color: '#f00', isActive: false, createdAt: new Date((T0 + 60) * 1000) },
  ]).run();
  db.insert(s.spanLabelTypes).values([
    { name: 'uptrend', color: '#0a0', sortOrder: 1 },
    { name: 'range', color: '#aa0', isActive: false, sortOrder: 2 },
  ]).run();
  for (let c = 1; c <= CHARTS; c++) {
    db.insert(s.charts).values({ name: `BTC ${c}`, symbol: 'BTCUSDT', timeframe: c === 1 ? '1h' : '15m', createdAt: new Date((T0 + c) * 1000) }).run();
    const rows = [];
    for (let i = 0; i < CANDLES_PER_CHART; i++) {
      const base = PRICES[i % PRICES.length]!;
      rows.push({ chartId: c, time: new Date((T0 + i * 3600) * 1000), open: base, high: base * 1.5, low: base / 3, close: -base, volume: i % 5 === 0 ? null : i * 0.1 });
    }
    for (let i = 0; i < rows.length; i += 200) db.insert(s.candles).values(rows.slice(i, i + 200)).run();
    db.insert(s.annotations).values([
      { chartId: c, typeId: 1, geometry: { type: 'line', points: [{ t: T0, p: 1.5 }, { t: T0 + 3600, p: 2.25 }], label: 'Zoë "quoted" \\ 🚀' }, note: null, createdAt: new Date((T0 + 5) * 1000) },
      { chartId: c, typeId: null, geometry: [1, 2, 3], note: 'tab\there', createdAt: new Date((T0 + 6) * 1000) },
    ]).run();
    db.insert(s.spanAnnotations).values({
      chartId: c,
      labelTypeId: c === 3 ? null : 1,
      startTime: new Date(T0 * 1000),
      endTime: new Date((T0 + 7200) * 1000),
      subSpans: [{ start: T0, end: T0 + 3600, label: 'a' }],
      modelPrediction: c === 2 ? null : { label: 'uptrend', confidence: 0.9375, probs: [0.9375, 0.0625] },
      source: c === 1 ? 'manual' : 'model',
      isVerified: c === 1,
      createdAt: new Date((T0 + 10) * 1000),
    }).run();
  }
  // AUTOINCREMENT has handed out more chart ids than survive: new ids must not reuse them.
  raw.prepare(`DELETE FROM charts WHERE id = 3`).run();
  raw.prepare(`DELETE FROM candles WHERE chart_id = 3`).run();
  raw.prepare(`DELETE FROM annotations WHERE chart_id = 3`).run();
  raw.prepare(`DELETE FROM span_annotations WHERE chart_id = 3`).run();
  raw.close();
}

describe('seed 000–002: candle annotator (Drizzle sqlite-core → Drizzle pg-core migrations)', () => {
  let target: TestDatabase;
  const dir = tempDir('seed-candle');
  const source = path.join(dir, 'candles.db');

  beforeAll(async () => {
    buildSource(source);
    target = await createTestDatabase('seed_candle');
    // The ML service's own table and role already live in the database (seed 000).
    const c = new pg.Client({ connectionString: target.url });
    await c.connect();
    await c.query(`CREATE TABLE training_runs (id serial PRIMARY KEY, run_id text NOT NULL, created_at timestamp NOT NULL DEFAULT now())`);
    await c.query(`INSERT INTO training_runs (run_id) VALUES ('mlflow-1')`);
    await c.query(`DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'ml_user') THEN CREATE ROLE ml_user; END IF; END $$`);
    await c.end();
  });
  afterAll(async () => {
    await target?.drop();
  });

  it('applies the Drizzle migrations, loads every table in its target type, and the app works on PostgreSQL', async () => {
    const started = Date.now();
    const r = await runPipeline({ runId: 'seed-candle-1', source, targetUrl: target.url, drizzleMigrations: MIGRATIONS, grantSelect: 'ml_user' });
    expect(r.error).toBeNull();
    expect(r.report!.status).toBe('succeeded');
    const plan = r.steps.plan as { waves: string[][] };
    // Parents first: charts and the two type tables before everything that references them.
    expect(plan.waves[0]!.sort()).toEqual(['annotation_types', 'charts', 'span_label_types']);
    expect((r.steps.migrations as { applied: string[] }).applied).toEqual(['drizzle 0000_fresh_postgres']);

    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      const db = drizzlePg(client);
      const charts = await db.select().from(p.charts).orderBy(asc(p.charts.id));
      expect(charts.map((c) => c.id)).toEqual([1, 2]);
      expect(charts[0]!.createdAt).toBeInstanceOf(Date);
      expect(charts[0]!.createdAt.getTime()).toBe((T0 + 1) * 1000);

      const candles = await db.select().from(p.candles).where(eq(p.candles.chartId, 1)).orderBy(asc(p.candles.time));
      expect(candles).toHaveLength(CANDLES_PER_CHART);
      for (let i = 0; i < candles.length; i++) {
        const base = PRICES[i % PRICES.length]!;
        const k = candles[i]!;
        expect(k.time.getTime()).toBe((T0 + i * 3600) * 1000);
        expect(Object.is(k.open, base) && Object.is(k.high, base * 1.5) && Object.is(k.low, base / 3) && Object.is(k.close, -base), `candle ${i}`).toBe(true);
        expect(k.volume).toBe(i % 5 === 0 ? null : i * 0.1);
      }

      const types = await db.select().from(p.annotationTypes).orderBy(asc(p.annotationTypes.id));
      expect(types.map((t) => t.isActive)).toEqual([true, false]);
      const ann = await db.select().from(p.annotations).orderBy(asc(p.annotations.id));
      expect(ann).toHaveLength(4);
      expect(ann[0]!.geometry).toEqual({ type: 'line', points: [{ t: T0, p: 1.5 }, { t: T0 + 3600, p: 2.25 }], label: 'Zoë "quoted" \\ 🚀' });
      expect(ann[1]!.geometry).toEqual([1, 2, 3]);
      expect(ann[1]!.note).toBe('tab\there');
      const spans = await db.select().from(p.spanAnnotations).orderBy(asc(p.spanAnnotations.id));
      expect(spans.map((x) => x.isVerified)).toEqual([true, false]);
      expect(spans[0]!.modelPrediction).toEqual({ label: 'uptrend', confidence: 0.9375, probs: [0.9375, 0.0625] });
      expect(spans[1]!.modelPrediction).toBeNull();
      expect(spans[0]!.endTime.getTime() - spans[0]!.startTime.getTime()).toBe(7_200_000);

      // The app inserts: serial ids continue past max(id) and past sqlite_sequence (chart 3 was deleted).
      const [chart] = await db.insert(p.charts).values({ name: 'ETH', symbol: 'ETHUSDT', timeframe: '1d' }).returning();
      expect(chart!.id).toBe(4);
      const [candle] = await db.insert(p.candles).values({ chartId: chart!.id, time: new Date(), open: 1, high: 2, low: 0.5, close: 1.5 }).returning();
      expect(candle!.id).toBeGreaterThan(CANDLES_PER_CHART * CHARTS);
      const [t] = await db.insert(p.annotationTypes).values({ name: 'pattern', color: '#00f' }).returning();
      expect(t!.id).toBe(3);
      expect(t!.isActive).toBe(true);

      // The FKs the migrations declared are in place and valid.
      const fks = await client.query(`SELECT conname FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace AND convalidated ORDER BY 1`);
      expect(fks.rows).toHaveLength(5);
      // The ML service's table is untouched; its role reads the app's tables.
      expect((await client.query(`SELECT run_id FROM training_runs`)).rows).toEqual([{ run_id: 'mlflow-1' }]);
      const grants = await client.query(`SELECT has_table_privilege('ml_user', 'public.candles', 'SELECT') AS c, has_table_privilege('ml_user', 'public.candles', 'INSERT') AS i`);
      expect(grants.rows[0]).toEqual({ c: true, i: false });
    } finally {
      await client.end();
    }
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('refuses a second load into the now non-empty tables, listing them, and leaves them as they are', async () => {
    const r = await runPipeline({ runId: 'seed-candle-2', source, targetUrl: target.url, drizzleMigrations: MIGRATIONS });
    expect(r.error?.message).toMatch(/already has rows/);
    expect(r.error?.message).toMatch(/candles/);
    expect((r.error as { type?: string }).type).toBe('SchemaMismatch');
    const c = new pg.Client({ connectionString: target.url });
    await c.connect();
    // The migrations were already applied: nothing new was created, so the rollback dropped nothing.
    expect((await c.query(`SELECT count(*)::int AS n FROM charts`)).rows[0].n).toBe(3);
    await c.end();
  });
});
