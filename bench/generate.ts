// Deterministic generator of the benchmark database of issue 6.
//
//   node -r tsx/cjs bench/generate.ts --scale 1 --out /tmp/bench.db [--seed 42]
//
// Scale 1: charts 200, candles 2,000,000, annotation_types 20,
// annotations 200,000, alerts 500,000, log_entries 300,000 (≈3.0M rows).
// charts and annotation_types stay fixed; the others scale linearly.
// Same scale and seed → byte-identical file.
import fs from 'node:fs';
import {
  BatchInserter,
  Rng,
  UNICODE_NOTES,
  countRows,
  finishGeneration,
  geometryFor,
  makeCharts,
  openForGeneration,
  roundTo,
  timeIn,
  writeCandles,
} from '../src/demo/candle-db';

export const BENCH_TABLES = ['charts', 'candles', 'annotation_types', 'annotations', 'alerts', 'log_entries'] as const;

export const BENCH_BASE_ROWS = {
  charts: 200,
  candles: 2_000_000,
  annotation_types: 20,
  annotations: 200_000,
  alerts: 500_000,
  log_entries: 300_000,
} as const;

export interface BenchDbResult {
  /** Final row count per table. */
  tables: Record<string, number>;
  /** Sum of all rows. */
  rows: number;
  /** File size in bytes. */
  bytes: number;
  /** Wall time of the generation, seconds. */
  seconds: number;
}

const BENCH_SCHEMA = `
CREATE TABLE charts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  symbol TEXT NOT NULL,
  timeframe TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  is_active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE candles (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chart_id INTEGER NOT NULL REFERENCES charts(id) ON DELETE CASCADE,
  time INTEGER NOT NULL,
  open REAL NOT NULL,
  high REAL,
  low REAL,
  close REAL,
  volume REAL
);
CREATE TABLE annotation_types (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  color TEXT NOT NULL DEFAULT '#ff0000'
);
CREATE TABLE annotations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  chart_id INTEGER NOT NULL REFERENCES charts(id),
  type_id INTEGER REFERENCES annotation_types(id),
  geometry TEXT NOT NULL,
  note TEXT,
  created_at INTEGER NOT NULL,
  is_verified INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  symbol TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('BUY', 'SELL')),
  qty NUMERIC NOT NULL,
  price REAL NOT NULL,
  created_at DATETIME NOT NULL,
  payload TEXT,
  processed BOOLEAN NOT NULL DEFAULT 0
);
CREATE TABLE log_entries (
  id TEXT PRIMARY KEY,
  data TEXT,
  created_at TEXT NOT NULL
);
`;

// Built after the data (faster); the final schema is the same.
const BENCH_INDEXES = `
CREATE INDEX candles_chart_time_idx ON candles (chart_id, time);
`;

const TYPE_NAMES: ReadonlyArray<readonly [string, string]> = [
  ['trendline', '#ff0000'], ['support', '#00aa00'], ['resistance', '#cc0000'], ['fibonacci', '#f5a623'],
  ['rectangle', '#4a90e2'], ['text', '#9013fe'], ['arrow_up', '#00ff88'], ['arrow_down', '#ff0055'],
  ['channel', '#1abc9c'], ['pitchfork', '#16a085'], ['head_shoulders', '#27ae60'], ['double_top', '#2980b9'],
  ['double_bottom', '#8e44ad'], ['wedge', '#2c3e50'], ['flag', '#f39c12'], ['pennant', '#d35400'],
  ['gap', '#c0392b'], ['divergence', '#7f8c8d'], ['liquidity', '#e67e22'], ['order_block', '#34495e'],
];

const ALERT_SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'EURUSD', 'GBPUSD', 'USDJPY', 'AAPL', 'TSLA', 'NVDA', 'SPY', 'QQQ', 'XAUUSD'];
const STRATEGIES = ['ema_cross', 'rsi_revert', 'breakout', 'vwap_bounce', 'macd_div', 'grid'];
const LEVELS = ['debug', 'info', 'info', 'info', 'warn', 'error'];
const MESSAGES = [
  'order filled', 'order rejected: insufficient margin', 'websocket reconnected', 'alert dispatched',
  'position closed', 'rate limit hit, backing off', 'signal ignored (cooldown)', 'Überweisung bestätigt',
  '注文が約定しました', 'heartbeat ✓',
];

function scaled(base: number, scale: number): number {
  return Math.max(1, Math.round(base * scale));
}

function pad6(n: number): string {
  return n < 100000 ? String(n).padStart(6, '0') : String(n);
}

/**
 * Write the bench database to `file` (an existing file is replaced).
 * charts (200) and annotation_types (20) are fixed; candles, annotations,
 * alerts and log_entries are scaled by `scale`.
 */
export function generateBenchDb(file: string, scale: number, seed = 42, opts: { plainValues?: boolean } = {}): BenchDbResult {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`scale must be a positive number, got ${scale}`);
  const t0 = process.hrtime.bigint();
  const rng = new Rng(seed);
  const nCharts = BENCH_BASE_ROWS.charts;
  const nCandles = scaled(BENCH_BASE_ROWS.candles, scale);
  const nAnnotations = scaled(BENCH_BASE_ROWS.annotations, scale);
  const nAlerts = scaled(BENCH_BASE_ROWS.alerts, scale);
  const nLogs = scaled(BENCH_BASE_ROWS.log_entries, scale);

  const db = openForGeneration(file);
  try {
    db.exec(BENCH_SCHEMA);
    const noop = (): void => {};
    db.transaction(() => {
      const charts = makeCharts(db, rng, nCharts, nCandles);
      // plainValues: no planted extreme doubles (subnormal, 17 digits…), which pgloader's default
      // REAL → real cast cannot load (it stops the table): the only way to time pgloader at all.
      writeCandles(db, rng, charts, noop, !opts.plainValues);

      const types = new BatchInserter(db, 'annotation_types', ['name', 'color'], 4);
      for (const [name, color] of TYPE_NAMES) {
        types.v.push(name, color);
        types.row();
      }
      types.flush();

      const ann = new BatchInserter(db, 'annotations', ['chart_id', 'type_id', 'geometry', 'note', 'created_at', 'is_verified']);
      for (let i = 0; i < nAnnotations; i++) {
        const c = rng.pick(charts);
        const typeIdx = rng.int(0, TYPE_NAMES.length - 1);
        const typeId = rng.chance(0.05) ? null : typeIdx + 1;
        const geometry = geometryFor(rng, TYPE_NAMES[typeIdx]![0], c);
        const note = rng.chance(0.4) ? null : rng.pick(UNICODE_NOTES);
        ann.v.push(c.id, typeId, geometry, note, timeIn(rng, c) + rng.int(60, 86400 * 30), rng.chance(0.3) ? 1 : 0);
        ann.row();
      }
      ann.flush();

      const alerts = new BatchInserter(db, 'alerts', ['symbol', 'action', 'qty', 'price', 'created_at', 'payload', 'processed']);
      let us = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z in microseconds
      for (let i = 0; i < nAlerts; i++) {
        us += rng.int(1, 30_000_000);
        const ms = Math.floor(us / 1000);
        const iso = new Date(ms).toISOString();
        const createdAt = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${pad6(us % 1_000_000)}`;
        const symbol = rng.pick(ALERT_SYMBOLS);
        const qty = rng.chance(0.6) ? rng.int(1, 1000) : roundTo(rng.float() * 25, rng.int(1, 6));
        const price = roundTo(10 + rng.float() * 50000, rng.int(2, 5));
        const payload = rng.chance(0.25)
          ? null
          : JSON.stringify({
              strategy: rng.pick(STRATEGIES),
              signal: { fast: rng.int(5, 20), slow: rng.int(21, 60), strength: roundTo(rng.float(), 3) },
              note: rng.chance(0.1) ? rng.pick(UNICODE_NOTES) : undefined,
            });
        alerts.v.push(symbol, rng.chance(0.5) ? 'BUY' : 'SELL', qty, price, createdAt, payload, i < nAlerts * 0.9 ? 1 : rng.chance(0.2) ? 1 : 0);
        alerts.row();
      }
      alerts.flush();
      // the last few alerts were deleted: sqlite_sequence ahead of max(id)
      const extra = db.prepare("INSERT INTO alerts (symbol, action, qty, price, created_at) VALUES ('TEST', 'BUY', 1, 1.5, '2025-01-01 00:00:00.000000')");
      for (let i = 0; i < 3; i++) extra.run();
      db.prepare('DELETE FROM alerts WHERE id > ?').run(nAlerts);

      const logs = new BatchInserter(db, 'log_entries', ['id', 'data', 'created_at']);
      let ms = 1_704_067_200_000;
      for (let i = 0; i < nLogs; i++) {
        ms += rng.int(1, 60_000);
        const id = rng.uuid();
        const data = rng.chance(0.2)
          ? null
          : JSON.stringify({
              level: rng.pick(LEVELS),
              msg: rng.pick(MESSAGES),
              order_id: rng.int(1, 99_999_999),
              latency_ms: roundTo(rng.float() * 250, 2),
            });
        logs.v.push(id, data, new Date(ms).toISOString());
        logs.row();
      }
      logs.flush();
    })();
    db.exec(BENCH_INDEXES);
    const tables = countRows(db, BENCH_TABLES);
    finishGeneration(db);
    const rows = Object.values(tables).reduce((a, b) => a + b, 0);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { tables, rows, bytes: fs.statSync(file).size, seconds };
  } catch (err) {
    if (db.open) db.close();
    throw err;
  }
}

function parseArgs(argv: string[]): { scale: number; out: string; seed: number } {
  let scale = 1;
  let out = 'bench.db';
  let seed = 42;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [key, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${key} needs a value`);
      return v;
    };
    if (key === '--scale') scale = Number(value());
    else if (key === '--out') out = value();
    else if (key === '--seed') seed = Number(value());
    else if (key === '--help' || key === '-h') {
      process.stdout.write('usage: node -r tsx/cjs bench/generate.ts [--scale 1] [--out bench.db] [--seed 42]\n');
      process.exit(0);
    } else throw new Error(`unknown argument: ${a}`);
  }
  if (!(scale > 0)) throw new Error('--scale must be a positive number');
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  return { scale, out, seed };
}

if (require.main === module) {
  try {
    const { scale, out, seed } = parseArgs(process.argv.slice(2));
    const r = generateBenchDb(out, scale, seed);
    for (const t of BENCH_TABLES) process.stdout.write(`${t.padEnd(18)} ${String(r.tables[t]).padStart(10)}\n`);
    process.stdout.write(
      `${'total'.padEnd(18)} ${String(r.rows).padStart(10)} rows, ${(r.bytes / 1e6).toFixed(1)} MB, ${r.seconds.toFixed(1)} s → ${out}\n`,
    );
  } catch (err) {
    process.stderr.write(`generate: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
