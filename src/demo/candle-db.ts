// Deterministic sample database shaped like the candle annotator of seeds
// 000–002 (a Next.js + Drizzle app on better-sqlite3): charts, candles,
// annotation_types, annotations, span_label_types, span_annotations.
//
// Same seed and options → byte-identical file. Nothing here reads the clock or
// Math.random; the PRNG is mulberry32 and every derived value uses only IEEE
// arithmetic that is exact across machines (no sin/log/exp).
//
// The helpers exported below (Rng, BatchInserter, openForGeneration, …) are
// shared with bench/generate.ts.
import fs from 'node:fs';
import Database from 'better-sqlite3';

// ---------------------------------------------------------------- PRNG ------

/** mulberry32: tiny, fast, 32-bit state; good enough for test data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return function next(): number {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** Uniform in [0, 1). */
  float(): number {
    return this.next();
  }
  /** Integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  /** true with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
  /** Approximately standard normal (Irwin–Hall of 4 uniforms; only + and sqrt). */
  normal(): number {
    return (this.next() + this.next() + this.next() + this.next() - 2) * 1.7320508075688772;
  }
  uint32(): number {
    return (this.next() * 4294967296) >>> 0;
  }
  /** RFC 4122 version-4 shaped UUID, lowercase, from the PRNG. */
  uuid(): string {
    const b = new Array<number>(16);
    for (let i = 0; i < 16; i += 4) {
      const u = this.uint32();
      b[i] = u & 0xff;
      b[i + 1] = (u >>> 8) & 0xff;
      b[i + 2] = (u >>> 16) & 0xff;
      b[i + 3] = u >>> 24;
    }
    b[6] = ((b[6] as number) & 0x0f) | 0x40;
    b[8] = ((b[8] as number) & 0x3f) | 0x80;
    const h = b.map((x) => HEX[x] as string);
    return (
      h[0]! + h[1]! + h[2]! + h[3]! + '-' + h[4]! + h[5]! + '-' + h[6]! + h[7]! + '-' + h[8]! + h[9]! + '-' +
      h[10]! + h[11]! + h[12]! + h[13]! + h[14]! + h[15]!
    );
  }
}

/** Round to `decimals` places; k / 10^d is the double nearest the decimal. */
export function roundTo(x: number, decimals: number): number {
  const f = POW10[decimals] as number;
  return Math.round(x * f) / f;
}
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

// ------------------------------------------------------------- SQLite -------

/** Remove a previous file (and any journal left next to it). */
export function removeDbFile(file: string): void {
  for (const f of [file, `${file}-journal`, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
}

/** A fresh database tuned for bulk generation (no journal, no fsync). */
export function openForGeneration(file: string): Database.Database {
  removeDbFile(file);
  const db = new Database(file);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('locking_mode = EXCLUSIVE');
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -131072'); // 128 MiB
  db.pragma('foreign_keys = OFF'); // rows are valid by construction; checked in tests
  return db;
}

/** Back to an ordinary rollback-journal file and close. */
export function finishGeneration(db: Database.Database): void {
  db.pragma('locking_mode = NORMAL');
  db.pragma('journal_mode = DELETE');
  db.pragma('synchronous = FULL');
  db.close();
}

/**
 * Multi-row INSERT with a reusable parameter buffer: push a row's values into
 * `v`, then call `row()`. Fewer native calls than one statement per row.
 */
export class BatchInserter {
  readonly v: unknown[] = [];
  private rows = 0;
  private readonly many: Database.Statement;
  private readonly one: Database.Statement;
  constructor(
    db: Database.Database,
    table: string,
    columns: readonly string[],
    private readonly perStatement = 64,
  ) {
    const tuple = `(${columns.map(() => '?').join(',')})`;
    const head = `INSERT INTO "${table}" (${columns.map((c) => `"${c}"`).join(',')}) VALUES `;
    this.many = db.prepare(head + Array.from({ length: perStatement }, () => tuple).join(','));
    this.one = db.prepare(head + tuple);
  }
  row(): void {
    if (++this.rows === this.perStatement) {
      this.many.run(this.v);
      this.v.length = 0;
      this.rows = 0;
    }
  }
  flush(): void {
    if (this.rows === 0) return;
    const width = this.v.length / this.rows;
    for (let r = 0; r < this.rows; r++) this.one.run(this.v.slice(r * width, (r + 1) * width));
    this.v.length = 0;
    this.rows = 0;
  }
}

export function countRows(db: Database.Database, tables: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tables) out[t] = (db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n;
  return out;
}

// ----------------------------------------------------------- sample text ----

/** Notes with accents, CJK, emoji (incl. ZWJ sequences and flags), RTL. */
export const UNICODE_NOTES: readonly string[] = [
  'Double top — watch the neckline',
  'Breakout confirmed ✅',
  'Fake-out? 🤔 volume too low',
  'Support tenu, prochaine cible 1.0850 €',
  'Rücksetzer auf die 200er-Linie, Größe reduziert',
  'Señal de compra débil; esperar cierre',
  '头肩顶形态，注意风险',
  '押し目買いのチャンス？📈',
  '지지선 이탈 시 손절',
  'Hình nến búa đảo chiều',
  'Цена у сопротивления',
  'مقاومة قوية عند هذا المستوى',
  'Rocket 🚀🚀🚀 to the moon',
  'Family trade 👨‍👩‍👧 with 🇯🇵 session overlap',
  'Wick rejection at ½ Fib level (≈ 61.8 %)',
  'Tab\tand "quotes" and \\backslash\\ and a newline\nsecond line',
  "O'Neil's cup & handle",
  'ﬁnal naïve café façade — coöperate',
  'Zero‑width joiner test: a\u200db',
  'Straße ≠ Strasse; İstanbul; ǅ',
  'Combining: e\u0301 vs é',
  '🐻 bearish engulfing',
  'RSI 70+ overbought',
  'gap fill',
  '',
];

// --------------------------------------------------------- the app data -----

/** [symbol, start price, decimals, relative volatility per bar, base volume] */
export const SYMBOLS: ReadonlyArray<readonly [string, number, number, number, number]> = [
  ['BTCUSD', 43521.37, 2, 0.004, 120],
  ['EURUSD', 1.0000001, 7, 0.0006, 90000],
  ['ETHUSD', 2287.41, 2, 0.005, 900],
  ['AAPL', 185.64, 2, 0.002, 250000],
  ['XAUUSD', 2031.55, 2, 0.0015, 3000],
  ['USDJPY', 148.117, 3, 0.0008, 70000],
  ['SPX', 4783.83, 2, 0.0012, 1500000],
  ['DOGEUSD', 0.0812345, 7, 0.008, 5000000],
  ['TSLA', 248.48, 2, 0.004, 400000],
  ['GBPUSD', 1.27311, 5, 0.0007, 60000],
  ['SOLUSD', 101.2345, 4, 0.007, 20000],
  ['NVDA', 495.22, 2, 0.003, 300000],
];

export const TIMEFRAMES: ReadonlyArray<readonly [string, number]> = [
  ['1m', 60],
  ['5m', 300],
  ['15m', 900],
  ['1h', 3600],
  ['4h', 14400],
  ['1d', 86400],
];

/** 2023-01-01T00:00:00Z: base of every generated timestamp. */
export const BASE_EPOCH = 1672531200;

/**
 * Doubles that must survive a round trip exactly (shortest repr needs 17
 * digits, subnormal, huge, float4 would round): planted now and then.
 */
export const NASTY_DOUBLES: readonly number[] = [
  0.1 + 0.2, // 0.30000000000000004
  1.0000001,
  43521.37,
  123456789.12345679,
  2.5e-7,
  5e-324,
  1e21,
  9007199254740993.0, // rounds to 2^53
  Math.PI,
];

export interface ChartSpec {
  id: number;
  symbol: string;
  startPrice: number;
  decimals: number;
  vol: number;
  baseVolume: number;
  timeframe: string;
  step: number;
  start: number;
  candles: number;
  /** Filled while generating: time of the last candle. */
  end: number;
}

/** Chart rows (id = 1..n) and the insert. */
export function makeCharts(db: Database.Database, rng: Rng, n: number, candlesTotal: number): ChartSpec[] {
  const ins = new BatchInserter(db, 'charts', ['id', 'name', 'symbol', 'timeframe', 'created_at', 'is_active'], 16);
  const charts: ChartSpec[] = [];
  const per = Math.floor(candlesTotal / n);
  let extra = candlesTotal - per * n;
  for (let i = 0; i < n; i++) {
    const [symbol, startPrice, decimals, vol, baseVolume] = SYMBOLS[i % SYMBOLS.length]!;
    const [timeframe, step] = TIMEFRAMES[Math.floor(i / SYMBOLS.length) % TIMEFRAMES.length]!;
    const start = BASE_EPOCH + rng.int(0, 90) * 86400;
    const candles = per + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
    const spec: ChartSpec = {
      id: i + 1, symbol, startPrice, decimals, vol, baseVolume, timeframe, step, start, candles, end: start,
    };
    charts.push(spec);
    const round = Math.floor(i / (SYMBOLS.length * TIMEFRAMES.length));
    const name = `${symbol} ${timeframe}${round > 0 ? ` #${round + 1}` : ''}`;
    ins.v.push(spec.id, name, symbol, timeframe, start - rng.int(3600, 30 * 86400), rng.chance(0.85) ? 1 : 0);
    ins.row();
  }
  ins.flush();
  return charts;
}

/**
 * Candles as a random walk per chart, in (chart, time) order. Calls `tick`
 * after every row. Sets each chart's `end`.
 */
export function writeCandles(db: Database.Database, rng: Rng, charts: ChartSpec[], tick: () => void, plantNasty = true): void {
  const ins = new BatchInserter(db, 'candles', ['chart_id', 'time', 'open', 'high', 'low', 'close', 'volume']);
  let planted = 0;
  for (const c of charts) {
    let price = c.startPrice;
    let t = c.start;
    const d = c.decimals;
    for (let k = 0; k < c.candles; k++) {
      if (k > 0) t += c.step * (rng.chance(0.01) ? rng.int(2, 4) : 1); // a few gaps
      const open = k === 0 ? c.startPrice : price;
      let close = roundTo(open * (1 + rng.normal() * c.vol), d);
      if (close <= 0) close = open;
      const high = roundTo(Math.max(open, close) * (1 + rng.float() * c.vol), d);
      const low = roundTo(Math.min(open, close) * (1 - rng.float() * c.vol), d);
      let volume: number | null = roundTo(c.baseVolume * (0.2 + rng.float() * 1.6), 4);
      const r = rng.float();
      if (r < 0.003) volume = null;
      else if (r < 0.0031 && plantNasty) volume = NASTY_DOUBLES[planted++ % NASTY_DOUBLES.length] as number;
      const last = k === c.candles - 1;
      // the bar still forming at export time: no close yet
      ins.v.push(c.id, t, open, high, low, last ? null : close, volume);
      ins.row();
      price = close;
      tick();
    }
    c.end = t;
  }
  ins.flush();
}

const ANNOTATION_TYPES: ReadonlyArray<readonly [string, string]> = [
  ['trendline', '#ff0000'],
  ['support', '#00aa00'],
  ['resistance', '#cc0000'],
  ['fibonacci', '#f5a623'],
  ['rectangle', '#4a90e2'],
  ['text', '#9013fe'],
  ['arrow_up', '#00ff88'],
  ['arrow_down', '#ff0055'],
];

const SPAN_LABELS: ReadonlyArray<readonly [string, string]> = [
  ['uptrend', '#2ecc71'],
  ['downtrend', '#e74c3c'],
  ['range', '#95a5a6'],
  ['breakout', '#f1c40f'],
  ['reversal', '#9b59b6'],
  ['consolidation', '#34495e'],
];

const MODELS = ['lstm-v3', 'tcn-2024.02', 'xgb-spans-1.4'] as const;

export function timeIn(rng: Rng, c: ChartSpec): number {
  const steps = Math.max(0, Math.floor((c.end - c.start) / c.step));
  return c.start + rng.int(0, steps) * c.step;
}

export function geometryFor(rng: Rng, typeName: string, c: ChartSpec): string {
  const p = () => roundTo(c.startPrice * (0.8 + rng.float() * 0.4), c.decimals);
  switch (typeName) {
    case 'trendline':
    case 'fibonacci': {
      const t1 = timeIn(rng, c);
      const t2 = Math.min(c.end, t1 + c.step * rng.int(5, 200));
      const g: Record<string, unknown> = { type: typeName === 'trendline' ? 'line' : 'fib', points: [{ time: t1, price: p() }, { time: t2, price: p() }] };
      if (typeName === 'fibonacci') g['levels'] = [0, 0.236, 0.382, 0.5, 0.618, 0.786, 1];
      return JSON.stringify(g);
    }
    case 'rectangle': {
      const t1 = timeIn(rng, c);
      return JSON.stringify({ type: 'rect', from: { time: t1, price: p() }, to: { time: Math.min(c.end, t1 + c.step * rng.int(3, 80)), price: p() }, fill: rng.chance(0.5) });
    }
    case 'text':
      return JSON.stringify({ type: 'text', anchor: { time: timeIn(rng, c), price: p() }, text: rng.pick(UNICODE_NOTES), fontSize: rng.int(10, 18) });
    case 'support':
    case 'resistance':
      return JSON.stringify({ type: 'hline', price: p(), style: { dash: rng.chance(0.3), width: rng.int(1, 3) } });
    default:
      return JSON.stringify({ type: 'marker', time: timeIn(rng, c), price: p(), shape: typeName });
  }
}

export interface CandleDbOptions {
  /** Number of candles (the big table). Default 900,000 (≈1M rows overall). */
  candles?: number;
  /** PRNG seed. Default 1. */
  seed?: number;
  /** Called now and then with rows written so far and the total planned. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Write the candle annotator database to `file` (an existing file is
 * replaced). Returns the final row count of every table.
 *
 * Shape: the Drizzle SQLite schema (backtick-quoted DDL as drizzle-kit emits
 * it), integer epoch seconds, 0/1 booleans, JSON as text, REAL prices that
 * float4 would round, a few NULLs, unicode notes, id gaps, and sqlite_sequence
 * ahead of max(id) (rows inserted then deleted) in charts, candles,
 * annotations and span_annotations.
 */
export function generateCandleDb(file: string, opts: CandleDbOptions = {}): { tables: Record<string, number> } {
  const nCandles = Math.max(1, Math.floor(opts.candles ?? 900_000));
  const seed = opts.seed ?? 1;
  const rng = new Rng(seed);
  const nCharts = Math.min(200, Math.max(3, Math.round(nCandles / 30_000)));
  const nAnnotations = Math.max(10, Math.round(nCandles / 15));
  const nSpans = Math.max(10, Math.round(nCandles / 22.5));
  const total = nCharts + nCandles + ANNOTATION_TYPES.length + nAnnotations + SPAN_LABELS.length + nSpans;
  const every = Math.max(1000, Math.floor(total / 200));
  let done = 0;
  const tick = (): void => {
    if (++done % every === 0) opts.onProgress?.(done, total);
  };

  const db = openForGeneration(file);
  try {
    db.exec(CANDLE_SCHEMA);
    db.transaction(() => {
      const charts = makeCharts(db, rng, nCharts, nCandles);
      done += nCharts;
      // an extra chart, deleted again (sqlite_sequence ahead of max(id))
      db.prepare('INSERT INTO charts (name, symbol, timeframe, created_at, is_active) VALUES (?,?,?,?,0)').run('scratch', 'TEST', '1m', BASE_EPOCH);
      db.prepare('DELETE FROM charts WHERE id = ?').run(nCharts + 1);

      writeCandles(db, rng, charts, tick);
      const lastChart = charts[charts.length - 1]!;
      const scratch = db.prepare('INSERT INTO candles (chart_id, time, open) VALUES (?,?,?)');
      for (let i = 1; i <= 3; i++) scratch.run(lastChart.id, lastChart.end + i * lastChart.step, 1.5);
      db.prepare('DELETE FROM candles WHERE id > ?').run(nCandles);

      const types = new BatchInserter(db, 'annotation_types', ['name', 'color'], 4);
      for (const [name, color] of ANNOTATION_TYPES) {
        types.v.push(name, color);
        types.row();
        tick();
      }
      types.flush();

      const ann = new BatchInserter(db, 'annotations', ['chart_id', 'type_id', 'geometry', 'note', 'created_at', 'is_verified']);
      for (let i = 0; i < nAnnotations; i++) {
        const c = rng.pick(charts);
        const typeIdx = rng.int(0, ANNOTATION_TYPES.length - 1);
        const typeId = rng.chance(0.05) ? null : typeIdx + 1;
        const geometry = geometryFor(rng, ANNOTATION_TYPES[typeIdx]![0], c);
        const note = rng.chance(0.4) ? null : rng.pick(UNICODE_NOTES);
        ann.v.push(c.id, typeId, geometry, note, timeIn(rng, c) + rng.int(60, 86400 * 30), rng.chance(0.3) ? 1 : 0);
        ann.row();
        tick();
      }
      ann.flush();
      // deleted by the user: gaps in the ids, and the last two (sequence ahead)
      db.prepare('DELETE FROM annotations WHERE id % 997 = 0 OR id > ?').run(nAnnotations - 2);

      const labels = new BatchInserter(db, 'span_label_types', ['name', 'color'], 2);
      for (const [name, color] of SPAN_LABELS) {
        labels.v.push(name, color);
        labels.row();
        tick();
      }
      labels.flush();

      const spans = new BatchInserter(db, 'span_annotations', ['chart_id', 'label_type_id', 'start_time', 'end_time', 'sub_spans', 'model_prediction', 'source', 'created_at']);
      for (let i = 0; i < nSpans; i++) {
        const c = rng.pick(charts);
        const label = rng.int(1, SPAN_LABELS.length);
        const start = timeIn(rng, c);
        const end = Math.min(c.end, start + c.step * rng.int(10, 400));
        const subs: Array<{ start: number; end: number; label: string }> = [];
        const nSub = rng.int(0, 4);
        let s = start;
        for (let k = 0; k < nSub && s < end; k++) {
          const e = Math.min(end, s + c.step * rng.int(2, 60));
          subs.push({ start: s, end: e, label: rng.pick(SPAN_LABELS)[0] });
          s = e;
        }
        const isModel = rng.chance(0.35);
        let prediction: string | null = null;
        if (isModel || rng.chance(0.05)) {
          const probs = SPAN_LABELS.map(() => rng.float());
          const sum = probs.reduce((a, b) => a + b, 0);
          prediction = JSON.stringify({
            model: rng.pick(MODELS),
            label: SPAN_LABELS[label - 1]![0],
            confidence: roundTo(0.5 + rng.float() * 0.5, 4),
            probs: Object.fromEntries(SPAN_LABELS.map(([n], j) => [n, roundTo(probs[j]! / sum, 6)])),
          });
        }
        const createdAt = rng.chance(0.01) ? null : end + rng.int(60, 86400 * 10);
        spans.v.push(c.id, label, start, end, JSON.stringify(subs), prediction, isModel ? 'model' : 'manual', createdAt);
        spans.row();
        tick();
      }
      spans.flush();
      db.prepare('DELETE FROM span_annotations WHERE id = ?').run(nSpans);
    })();
    db.exec(CANDLE_INDEXES);
    opts.onProgress?.(total, total);
    const tables = countRows(db, CANDLE_TABLES);
    finishGeneration(db);
    return { tables };
  } catch (err) {
    if (db.open) db.close();
    throw err;
  }
}

export const CANDLE_TABLES = ['charts', 'candles', 'annotation_types', 'annotations', 'span_label_types', 'span_annotations'] as const;

// drizzle-kit style DDL (backtick-quoted, lowercase types, FKs at the end).
const CANDLE_SCHEMA = `
CREATE TABLE \`charts\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`name\` text NOT NULL,
	\`symbol\` text NOT NULL,
	\`timeframe\` text NOT NULL,
	\`created_at\` integer NOT NULL,
	\`is_active\` integer DEFAULT 1 NOT NULL
);
CREATE TABLE \`candles\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`chart_id\` integer NOT NULL,
	\`time\` integer NOT NULL,
	\`open\` real NOT NULL,
	\`high\` real,
	\`low\` real,
	\`close\` real,
	\`volume\` real,
	FOREIGN KEY (\`chart_id\`) REFERENCES \`charts\`(\`id\`) ON UPDATE no action ON DELETE cascade
);
CREATE TABLE \`annotation_types\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`name\` text NOT NULL,
	\`color\` text DEFAULT '#ff0000' NOT NULL
);
CREATE TABLE \`annotations\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`chart_id\` integer NOT NULL,
	\`type_id\` integer,
	\`geometry\` text NOT NULL,
	\`note\` text,
	\`created_at\` integer NOT NULL,
	\`is_verified\` integer DEFAULT 0 NOT NULL,
	FOREIGN KEY (\`chart_id\`) REFERENCES \`charts\`(\`id\`) ON UPDATE no action ON DELETE no action,
	FOREIGN KEY (\`type_id\`) REFERENCES \`annotation_types\`(\`id\`) ON UPDATE no action ON DELETE no action
);
CREATE TABLE \`span_label_types\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`name\` text NOT NULL,
	\`color\` text DEFAULT '#3b82f6' NOT NULL
);
CREATE TABLE \`span_annotations\` (
	\`id\` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	\`chart_id\` integer NOT NULL,
	\`label_type_id\` integer NOT NULL,
	\`start_time\` integer NOT NULL,
	\`end_time\` integer NOT NULL,
	\`sub_spans\` text,
	\`model_prediction\` text,
	\`source\` text DEFAULT 'manual' NOT NULL,
	\`created_at\` integer,
	FOREIGN KEY (\`chart_id\`) REFERENCES \`charts\`(\`id\`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (\`label_type_id\`) REFERENCES \`span_label_types\`(\`id\`) ON UPDATE no action ON DELETE no action,
	CONSTRAINT "span_annotations_source_check" CHECK(\`source\` IN ('manual', 'model'))
);
`;

// Built after the data (faster); the final schema is the same.
const CANDLE_INDEXES = `
CREATE INDEX \`candles_chart_time_idx\` ON \`candles\` (\`chart_id\`,\`time\`);
CREATE UNIQUE INDEX \`annotation_types_name_unique\` ON \`annotation_types\` (\`name\`);
CREATE INDEX \`annotations_chart_idx\` ON \`annotations\` (\`chart_id\`);
CREATE UNIQUE INDEX \`span_label_types_name_unique\` ON \`span_label_types\` (\`name\`);
CREATE INDEX \`span_annotations_chart_idx\` ON \`span_annotations\` (\`chart_id\`);
`;
