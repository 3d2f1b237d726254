import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng, generateCandleDb, mulberry32 } from '../../src/demo/candle-db';
import { generateBenchDb } from '../../bench/generate';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cutover-gen-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Content checksum: schema, then every row of every table in rowid order. */
function checksum(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const h = crypto.createHash('sha256');
    const objects = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").raw().all();
    h.update(JSON.stringify(objects));
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    for (const t of tables) {
      h.update(`\n#${t}\n`);
      const order = t === 'sqlite_sequence' ? 'name' : 'rowid';
      for (const row of db.prepare(`SELECT * FROM "${t}" ORDER BY ${order}`).raw().iterate()) {
        h.update(JSON.stringify(row));
        h.update('\n');
      }
    }
    return h.digest('hex');
  } finally {
    db.close();
  }
}

function open(file: string): Database.Database {
  return new Database(file, { readonly: true });
}

function count(db: Database.Database, sql: string, ...params: unknown[]): number {
  return db.prepare(sql).pluck().get(...params) as number;
}

function sequenceAhead(db: Database.Database): string[] {
  const seqs = db.prepare('SELECT name, seq FROM sqlite_sequence').all() as Array<{ name: string; seq: number }>;
  return seqs.filter(({ name, seq }) => seq > (count(db, `SELECT coalesce(max(id), 0) FROM "${name}"`) as number)).map((s) => s.name);
}

describe('mulberry32 / Rng', () => {
  it('is deterministic per seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const c = mulberry32(8);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });

  it('makes v4-shaped UUIDs', () => {
    const r = new Rng(1);
    for (let i = 0; i < 100; i++) expect(r.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('generateCandleDb', () => {
  let fileA: string;
  let progress: Array<[number, number]>;
  let result: { tables: Record<string, number> };

  beforeAll(() => {
    fileA = path.join(dir, 'candles-a.db');
    progress = [];
    result = generateCandleDb(fileA, { candles: 2000, seed: 7, onProgress: (d, t) => progress.push([d, t]) });
  });

  it('returns the row counts of the file', () => {
    const db = open(fileA);
    try {
      expect(Object.keys(result.tables).sort()).toEqual(
        ['annotation_types', 'annotations', 'candles', 'charts', 'span_annotations', 'span_label_types'].sort(),
      );
      for (const [t, n] of Object.entries(result.tables)) expect(count(db, `SELECT count(*) FROM "${t}"`)).toBe(n);
      expect(result.tables['candles']).toBe(2000);
      expect(result.tables['charts']).toBe(3);
      expect(result.tables['annotation_types']).toBe(8);
      expect(result.tables['span_label_types']).toBe(6);
      expect(result.tables['annotations']).toBeGreaterThan(100);
      expect(result.tables['span_annotations']).toBeGreaterThan(50);
    } finally {
      db.close();
    }
  });

  it('reports progress up to the total', () => {
    expect(progress.length).toBeGreaterThan(0);
    const [done, total] = progress[progress.length - 1]!;
    expect(done).toBe(total);
    for (let i = 1; i < progress.length; i++) expect(progress[i]![0]).toBeGreaterThanOrEqual(progress[i - 1]![0]);
  });

  it('is deterministic: same seed → identical content and bytes; another seed differs', () => {
    const fileB = path.join(dir, 'candles-b.db');
    const fileC = path.join(dir, 'candles-c.db');
    generateCandleDb(fileB, { candles: 2000, seed: 7 });
    generateCandleDb(fileC, { candles: 2000, seed: 8 });
    expect(checksum(fileB)).toBe(checksum(fileA));
    expect(fs.readFileSync(fileB).equals(fs.readFileSync(fileA))).toBe(true);
    expect(checksum(fileC)).not.toBe(checksum(fileA));
  });

  it('replaces an existing file', () => {
    const file = path.join(dir, 'candles-replace.db');
    fs.writeFileSync(file, 'not a database');
    generateCandleDb(file, { candles: 500, seed: 7 });
    const db = open(file);
    try {
      expect(count(db, 'SELECT count(*) FROM candles')).toBe(500);
    } finally {
      db.close();
    }
  });

  it('is a healthy, ordinary SQLite file with valid FKs and CHECKs', () => {
    const db = open(fileA);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(fs.existsSync(`${fileA}-journal`)).toBe(false);
      expect(count(db, "SELECT count(*) FROM span_annotations WHERE source NOT IN ('manual','model')")).toBe(0);
      expect(count(db, "SELECT count(*) FROM span_annotations WHERE source = 'model'")).toBeGreaterThan(0);
      expect(count(db, 'SELECT count(*) FROM charts WHERE is_active NOT IN (0,1)')).toBe(0);
      expect(count(db, 'SELECT count(*) FROM annotations WHERE is_verified NOT IN (0,1)')).toBe(0);
      expect(count(db, 'SELECT count(*) FROM annotations WHERE NOT json_valid(geometry)')).toBe(0);
      expect(count(db, "SELECT count(*) FROM annotations WHERE json_type(geometry) <> 'object'")).toBe(0);
      expect(count(db, "SELECT count(*) FROM span_annotations WHERE json_type(sub_spans) <> 'array'")).toBe(0);
      expect(count(db, "SELECT count(*) FROM span_annotations WHERE model_prediction IS NOT NULL AND json_type(model_prediction) <> 'object'")).toBe(0);
      expect(count(db, 'SELECT count(*) FROM span_annotations WHERE model_prediction IS NULL')).toBeGreaterThan(0);
      expect(count(db, "SELECT count(*) FROM candles WHERE typeof(time) <> 'integer' OR typeof(open) <> 'real'")).toBe(0);
      expect(count(db, 'SELECT count(*) FROM candles WHERE low > high')).toBe(0);
      expect(count(db, "SELECT count(*) FROM candles WHERE volume IS NULL OR close IS NULL")).toBeGreaterThan(0);
      expect(count(db, 'SELECT count(*) FROM annotations WHERE type_id IS NULL')).toBeGreaterThan(0);
      // the index the app relies on
      const idx = db.prepare("SELECT name FROM pragma_index_list('candles')").pluck().all() as string[];
      expect(idx).toContain('candles_chart_time_idx');
      expect(db.prepare("SELECT name FROM pragma_index_info('candles_chart_time_idx') ORDER BY seqno").pluck().all()).toEqual(['chart_id', 'time']);
    } finally {
      db.close();
    }
    // the CHECK and FKs are real constraints, not just clean data
    const rw = new Database(fileA);
    try {
      rw.pragma('foreign_keys = ON');
      expect(() => rw.prepare("INSERT INTO span_annotations (chart_id, label_type_id, start_time, end_time, source) VALUES (1, 1, 0, 1, 'robot')").run()).toThrow(/CHECK/);
      expect(() => rw.prepare('INSERT INTO candles (chart_id, time, open) VALUES (9999, 0, 1)').run()).toThrow(/FOREIGN KEY/);
      expect(() => rw.prepare("INSERT INTO annotation_types (name) VALUES ('trendline')").run()).toThrow(/UNIQUE/);
    } finally {
      rw.close();
    }
  });

  it('has sqlite_sequence ahead of max(id), doubles float4 would round, unicode notes', () => {
    const db = open(fileA);
    try {
      expect(sequenceAhead(db)).toEqual(expect.arrayContaining(['charts', 'candles', 'annotations', 'span_annotations']));
      const prices = db.prepare('SELECT open FROM candles').pluck().all() as number[];
      expect(prices).toContain(1.0000001);
      expect(prices).toContain(43521.37);
      expect(prices.some((p) => Math.fround(p) !== p)).toBe(true);
      const notes = db.prepare('SELECT note FROM annotations WHERE note IS NOT NULL').pluck().all() as string[];
      expect(notes.some((n) => /\p{Extended_Pictographic}/u.test(n))).toBe(true);
      expect(notes.some((n) => /[\u4e00-\u9fff]/.test(n))).toBe(true);
      expect(notes.some((n) => /[à-ÿ]/.test(n))).toBe(true);
      expect(count(db, 'SELECT count(*) FROM annotations WHERE note IS NULL')).toBeGreaterThan(0);
    } finally {
      db.close();
    }
  });
});

describe('generateBenchDb', () => {
  const scale = 0.001;
  let fileA: string;
  let result: ReturnType<typeof generateBenchDb>;

  beforeAll(() => {
    fileA = path.join(dir, 'bench-a.db');
    result = generateBenchDb(fileA, scale);
  });

  it('has the row counts of issue 6 at the scale', () => {
    expect(result.tables).toEqual({
      charts: 200,
      candles: 2000,
      annotation_types: 20,
      annotations: 200,
      alerts: 500,
      log_entries: 300,
    });
    expect(result.rows).toBe(3220);
    expect(result.bytes).toBe(fs.statSync(fileA).size);
    const db = open(fileA);
    try {
      for (const [t, n] of Object.entries(result.tables)) expect(count(db, `SELECT count(*) FROM "${t}"`)).toBe(n);
    } finally {
      db.close();
    }
  });

  it('is deterministic: same seed → identical content and bytes; another seed differs', () => {
    const fileB = path.join(dir, 'bench-b.db');
    const fileC = path.join(dir, 'bench-c.db');
    generateBenchDb(fileB, scale, 42);
    generateBenchDb(fileC, scale, 43);
    expect(checksum(fileB)).toBe(checksum(fileA));
    expect(fs.readFileSync(fileB).equals(fs.readFileSync(fileA))).toBe(true);
    expect(checksum(fileC)).not.toBe(checksum(fileA));
  });

  it('is a healthy SQLite file with valid FKs, CHECKs and value shapes', () => {
    const db = open(fileA);
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(db.pragma('foreign_key_check')).toEqual([]);
      expect(db.pragma('journal_mode', { simple: true })).toBe('delete');
      expect(count(db, "SELECT count(*) FROM alerts WHERE action NOT IN ('BUY','SELL')")).toBe(0);
      expect(count(db, 'SELECT count(*) FROM alerts WHERE processed NOT IN (0,1)')).toBe(0);
      expect(count(db, 'SELECT count(*) FROM annotations WHERE is_verified NOT IN (0,1)')).toBe(0);
      expect(count(db, 'SELECT count(*) FROM annotations WHERE NOT json_valid(geometry)')).toBe(0);
      expect(count(db, 'SELECT count(*) FROM alerts WHERE payload IS NOT NULL AND NOT json_valid(payload)')).toBe(0);
      expect(count(db, 'SELECT count(*) FROM log_entries WHERE data IS NOT NULL AND NOT json_valid(data)')).toBe(0);
      const nonNull = count(db, 'SELECT count(*) FROM log_entries WHERE data IS NOT NULL') / 300;
      expect(nonNull).toBeGreaterThan(0.7);
      expect(nonNull).toBeLessThan(0.9);
      for (const t of db.prepare('SELECT created_at FROM alerts').pluck().all() as string[]) {
        expect(t).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
      }
      for (const t of db.prepare('SELECT created_at FROM log_entries').pluck().all() as string[]) {
        expect(t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      }
      for (const id of db.prepare('SELECT id FROM log_entries').pluck().all() as string[]) {
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      }
      expect(count(db, "SELECT count(*) FROM candles WHERE typeof(time) <> 'integer' OR typeof(open) <> 'real'")).toBe(0);
      const qtyTypes = db.prepare('SELECT DISTINCT typeof(qty) FROM alerts ORDER BY 1').pluck().all();
      expect(qtyTypes).toEqual(['integer', 'real']);
      expect(db.prepare("SELECT name FROM pragma_index_info('candles_chart_time_idx') ORDER BY seqno").pluck().all()).toEqual(['chart_id', 'time']);
      expect(sequenceAhead(db)).toContain('alerts');
    } finally {
      db.close();
    }
    const rw = new Database(fileA);
    try {
      rw.pragma('foreign_keys = ON');
      expect(() => rw.prepare("INSERT INTO alerts (symbol, action, qty, price, created_at) VALUES ('X', 'HOLD', 1, 1, '2024-01-01 00:00:00.000000')").run()).toThrow(/CHECK/);
      expect(() => rw.prepare("INSERT INTO annotation_types (name) VALUES ('support')").run()).toThrow(/UNIQUE/);
      expect(() => rw.prepare("INSERT INTO annotations (chart_id, geometry, created_at) VALUES (201, '{}', 0)").run()).toThrow(/FOREIGN KEY/);
    } finally {
      rw.close();
    }
  });

  it('rejects a bad scale', () => {
    expect(() => generateBenchDb(path.join(dir, 'bad.db'), 0)).toThrow(/scale/);
    expect(() => generateBenchDb(path.join(dir, 'bad.db'), Number.NaN)).toThrow(/scale/);
  });
});
