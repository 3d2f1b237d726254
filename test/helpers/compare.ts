// An INDEPENDENT comparison of a migrated database with its SQLite source.
//
// SQLite is read with better-sqlite3 (safe integers; SQLite's own CAST for text
// and byte forms), PostgreSQL with every type parser returning the raw text,
// and each value is brought to a small canonical form per target type here —
// never through the converters under test. Rows are compared as multisets
// (every table, with or without a key); rows recorded in cutover.rejects are
// left out of the source side, and each must carry a reason.
import Database from 'better-sqlite3';
import pg from 'pg';

export interface PlanNames {
  tables: {
    source: string;
    target: string;
    key: { kind: 'rowid' | 'pk'; columns: string[]; display?: string[] };
    columns: { source: string; target: string; pgType: string; converter: { kind: string; unit?: string; tz?: boolean } }[];
  }[];
}

export interface TableDiff {
  table: string;
  sourceRows: number;
  targetRows: number;
  rejectedRows: number;
  mismatches: string[];
}

export async function pgClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  await client.query(`SET TimeZone = 'UTC'; SET extra_float_digits = 3; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'`);
  return client;
}

type V = null | bigint | number | string | Buffer;

function keyText(v: V): string {
  if (v === null) return 'NULL';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  return `x'${v.toString('hex')}'`;
}

/** Decimal text → canonical "[-]digits[.digits]" without superfluous zeros; exponent forms expanded. */
export function canonDecimal(s: string): string | null {
  const m = /^\s*([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?\s*$/.exec(s);
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const neg = m[1] === '-';
  let digits = (m[2] ?? '') + (m[3] ?? '');
  let point = (m[2] ?? '').length + Number(m[4] ?? 0);
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  let int = digits.slice(0, point).replace(/^0+/, '') || '0';
  const frac = digits.slice(point).replace(/0+$/, '');
  const out = frac ? `${int}.${frac}` : int;
  int = out;
  return neg && /[1-9]/.test(out) ? `-${out}` : out;
}

/** Shortest round-trip decimal of a double, as a canonical decimal. */
function doubleDecimal(v: number): string | null {
  if (!Number.isFinite(v)) return null;
  return canonDecimal(String(v));
}

const BOOL_T = new Set(['1', 't', 'true', 'y', 'yes', 'on']);
const BOOL_F = new Set(['0', 'f', 'false', 'n', 'no', 'off']);

/** Microseconds since 1970-01-01 (naive values as if UTC). */
function civilMicros(y: number, mo: number, d: number, h: number, mi: number, s: number, fracDigits: string, offsetMin: number): bigint {
  const days = daysFromCivil(y, mo, d);
  const frac = BigInt((fracDigits + '000000').slice(0, 6));
  const secs = BigInt(days) * 86400n + BigInt(h * 3600 + mi * 60 + s) - BigInt(offsetMin * 60);
  return secs * 1_000_000n + frac;
}

function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** ISO-ish date/time text (SQLite side or PostgreSQL output) → microseconds, or null. */
export function parseTimeText(s: string, kind: 'date' | 'ts'): bigint | null {
  let t = s.trim();
  let bc = false;
  if (t.endsWith(' BC')) {
    bc = true;
    t = t.slice(0, -3);
  }
  const compact = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(t);
  if (compact) t = `${compact[1]}-${compact[2]}-${compact[3]} ${compact[4]}:${compact[5]}:${compact[6]}`;
  const m = /^(\d{4,})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?$/i.exec(t);
  if (!m) return null;
  let y = Number(m[1]);
  if (bc) y = 1 - y;
  let off = 0;
  if (m[8] && m[8].toUpperCase() !== 'Z') {
    const sign = m[8][0] === '-' ? -1 : 1;
    const digits = m[8].slice(1).replace(/:/g, '');
    off = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0));
  }
  if (kind === 'date') return civilMicros(y, Number(m[2]), Number(m[3]), 0, 0, 0, '', 0);
  return civilMicros(y, Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), m[7] ?? '', off);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

interface SqliteCell {
  v: V;
  /** SQLite's own CAST(v AS TEXT) and CAST(v AS BLOB). */
  asText: string | null;
  asBlob: Buffer | null;
}

/** Canonical form of the source value for a target type; null for SQL NULL. */
function canonSource(c: SqliteCell, udt: string, conv: { kind: string; unit?: string; tz?: boolean }): string | null {
  const v = c.v;
  if (v === null) return null;
  switch (udt) {
    case 'int2':
    case 'int4':
    case 'int8':
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v).toString();
      if (typeof v === 'string') return canonDecimal(v) ?? `text:${v}`;
      return `?${keyText(v)}`;
    case 'float4':
    case 'float8':
      if (typeof v === 'number') return Object.is(v, -0) ? '-0' : String(v);
      if (typeof v === 'bigint') return String(Number(v));
      if (typeof v === 'string') return String(Number(v));
      return `?${keyText(v)}`;
    case 'numeric':
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number') return Number.isFinite(v) ? doubleDecimal(v)! : String(v);
      if (typeof v === 'string') return canonDecimal(v) ?? `text:${v}`;
      return `?${keyText(v)}`;
    case 'text':
    case 'varchar':
    case 'bpchar':
      if (typeof v === 'string') return v;
      // Mixed text/blob columns mapped to text (the plan warns): a blob arrives as its bytes read as UTF-8.
      if (Buffer.isBuffer(v)) return v.toString('utf8');
      return c.asText;
    case 'bytea':
      return (c.asBlob ?? Buffer.alloc(0)).toString('hex');
    case 'bool': {
      if (typeof v === 'bigint' || typeof v === 'number') return Number(v) === 0 ? 'f' : Number(v) === 1 ? 't' : `?${v}`;
      const s = String(v).trim().toLowerCase();
      return BOOL_T.has(s) ? 't' : BOOL_F.has(s) ? 'f' : `?${s}`;
    }
    case 'date':
    case 'timestamp':
    case 'timestamptz': {
      const kind = udt === 'date' ? 'date' : 'ts';
      if (typeof v === 'string') return String(parseTimeText(v, kind) ?? `text:${v}`);
      if ((typeof v === 'bigint' || typeof v === 'number') && conv.kind === 'epoch') {
        const per = conv.unit === 's' ? 1_000_000n : conv.unit === 'ms' ? 1000n : 1n;
        return (BigInt(v) * per).toString();
      }
      if (typeof v === 'number' || typeof v === 'bigint') {
        // Julian day number (SQLite's julianday()): days since -4713-11-24 12:00 UTC.
        const micros = BigInt(Math.round((Number(v) - 2440587.5) * 86400 * 1e6));
        return micros.toString();
      }
      return `?${keyText(v)}`;
    }
    case 'jsonb':
    case 'json':
      try {
        return stableJson(JSON.parse(String(v)));
      } catch {
        return `badjson:${String(v)}`;
      }
    case 'uuid':
      if (Buffer.isBuffer(v)) return v.toString('hex');
      return String(v).replace(/[^0-9a-fA-F]/g, '').toLowerCase();
    default:
      return c.asText;
  }
}

function canonTarget(t: string | null, udt: string): string | null {
  if (t === null) return null;
  switch (udt) {
    case 'int2':
    case 'int4':
    case 'int8':
      return BigInt(t).toString();
    case 'float4':
    case 'float8':
      return t === 'NaN' ? 'NaN' : t === 'Infinity' ? 'Infinity' : t === '-Infinity' ? '-Infinity' : Object.is(Number(t), -0) ? '-0' : String(Number(t));
    case 'numeric':
      return t === 'NaN' || t.endsWith('Infinity') ? t : canonDecimal(t);
    case 'bytea':
      return t.replace(/^\\x/, '');
    case 'date':
      return String(parseTimeText(t, 'date'));
    case 'timestamp':
    case 'timestamptz':
      if (t === 'infinity' || t === '-infinity') return t;
      return String(parseTimeText(t, 'ts'));
    case 'jsonb':
    case 'json':
      return stableJson(JSON.parse(t));
    case 'uuid':
      return t.replace(/-/g, '').toLowerCase();
    default:
      return t;
  }
}

function qs(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Compares every table of the plan: source rows minus rejected rows must equal target rows
 * as multisets of canonical values. Returns per-table differences (empty `mismatches` = identical).
 */
export async function compareDatabases(sqliteFile: string, pgUrl: string, schema: string, plan: PlanNames, runId: string): Promise<TableDiff[]> {
  const db = new Database(sqliteFile, { readonly: true });
  db.defaultSafeIntegers(true);
  const client = await pgClient(pgUrl);
  const out: TableDiff[] = [];
  try {
    for (const t of plan.tables) {
      const types = await client.query<{ column_name: string; udt_name: string }>(
        `SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2`,
        [schema, t.target],
      );
      const udt = new Map(types.rows.map((r) => [r.column_name, r.udt_name]));
      const rejected = await client.query<{ row_key: string; reason: string }>(
        `SELECT row_key, reason FROM cutover.rejects WHERE run_id = $1 AND table_name = $2`,
        [runId, t.source],
      );
      const mismatches: string[] = [];
      for (const r of rejected.rows) if (!r.reason || r.reason.trim() === '') mismatches.push(`reject ${r.row_key} has no reason`);
      const rejectedKeys = new Set(rejected.rows.map((r) => r.row_key));

      const keySel = t.key.columns.map(qs);
      const colSel = t.columns.flatMap((c) => [qs(c.source), `CAST(${qs(c.source)} AS TEXT)`, `CAST(${qs(c.source)} AS BLOB)`]);
      const rows = db.prepare(`SELECT ${[...keySel, ...colSel].join(', ')} FROM ${qs(t.source)}`).raw(true).all() as V[][];
      const names = t.key.display ?? t.key.columns;
      const kw = keySel.length;
      const sourceCanon: string[] = [];
      let kept = 0;
      for (const r of rows) {
        const vals = r.slice(0, kw).map(keyText);
        const key = names.length === 1 ? `${names[0]}=${vals[0]}` : `(${names.join(', ')})=(${vals.join(', ')})`;
        if (rejectedKeys.has(key)) continue;
        kept++;
        const cells = t.columns.map((c, i) => {
          const cell: SqliteCell = { v: r[kw + i * 3]!, asText: r[kw + i * 3 + 1] as string | null, asBlob: r[kw + i * 3 + 2] as Buffer | null };
          return JSON.stringify(canonSource(cell, udt.get(c.target) ?? 'text', c.converter));
        });
        sourceCanon.push(cells.join('|'));
      }
      const target = await client.query<Record<string, string | null>>({
        text: `SELECT ${t.columns.map((c) => `${qs(c.target)}`).join(', ')} FROM ${qs(schema)}.${qs(t.target)}`,
        rowMode: 'array',
      } as pg.QueryConfig);
      const targetCanon = (target.rows as unknown as (string | null)[][]).map((r) =>
        t.columns.map((c, i) => JSON.stringify(canonTarget(r[i] ?? null, udt.get(c.target) ?? 'text'))).join('|'),
      );
      sourceCanon.sort();
      targetCanon.sort();
      const a = new Map<string, number>();
      for (const s of sourceCanon) a.set(s, (a.get(s) ?? 0) + 1);
      for (const s of targetCanon) a.set(s, (a.get(s) ?? 0) - 1);
      for (const [row, n] of a) {
        if (n === 0) continue;
        if (mismatches.length >= 5) break;
        mismatches.push(`${n > 0 ? 'missing in target' : 'extra in target'} (${Math.abs(n)}×): ${row.slice(0, 300)}`);
      }
      if (rejected.rows.length > 0 && rejectedKeys.size > rows.length - kept)
        mismatches.push(`${rejectedKeys.size - (rows.length - kept)} reject key(s) match no source row`);
      out.push({ table: t.source, sourceRows: rows.length, targetRows: target.rows.length, rejectedRows: rows.length - kept, mismatches });
    }
  } finally {
    db.close();
    await client.end();
  }
  return out;
}
