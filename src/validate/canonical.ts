// Canonical value forms for content validation. Pure: unit-tested in test/unit/checksum.test.ts.
//
// The same logical value must give the same bytes on both sides:
//   source: SQLite value → the column's encoder (exactly what the copy wrote) → COPY-unescaped
//           literal → canonicalFromLiteral(target type)
//   target: PostgreSQL's text output of the column (targetExpr, read with canonicalSessionSql)
//           → canonicalFromLiteral(target type)
// The canonical form is chosen by the TARGET column's actual type, so a target made by another
// tool (pgloader's real/float4, numeric(p,s) with a different scale, timestamp(0)…) is compared by
// value: a rounded value is a mismatch, a different spelling of the same value is not.
import type { ConverterSpec } from '../types';
import type { SqliteValue } from '../sqlite/types';
import { booleanWord, canonicalUuid, describeRawValue, makeEncoder, RejectedValue, type Encoder } from '../plan/convert';
import { parseDecimal, type Decimal } from '../plan/decimal';
import { daysFromCivil, formatDate, parseDateTimeText, partsFromUnixMicros, scanIsoDateTime, type DateTimeParts } from '../plan/timestamps';
import { quoteIdent } from '../postgres/sql';
import { unescapeCopyText } from '../plan/copy-text';

/** How a target column's values are compared. */
export type CanonType =
  | 'int'
  | 'float8'
  | 'float4'
  | 'numeric'
  | 'text'
  | 'bpchar'
  | 'bytea'
  | 'bool'
  | 'timestamp'
  | 'timestamptz'
  | 'date'
  | 'jsonb'
  | 'json'
  | 'uuid'
  | 'other';

/** The canonical type of a PostgreSQL type as format_type() or a plan's pgType spells it. */
export function canonTypeOf(pgType: string): CanonType {
  const t = pgType.trim().toLowerCase().replace(/\s+/g, ' ');
  if (/^(smallint|integer|bigint|int[248]?|serial[248]?|smallserial|bigserial|oid)$/.test(t)) return 'int';
  if (/^(double precision|float8|float)$/.test(t)) return 'float8';
  if (/^(real|float4)$/.test(t) || /^float ?\((\d+)\)$/.test(t)) {
    const m = /^float ?\((\d+)\)$/.exec(t);
    return m && Number(m[1]) > 24 ? 'float8' : 'float4';
  }
  if (/^(numeric|decimal)( ?\(.*\))?$/.test(t)) return 'numeric';
  if (/^(text|varchar|character varying|citext|name)( ?\(\d+\))?$/.test(t)) return 'text';
  if (/^(character|char|bpchar)( ?\(\d+\))?$/.test(t)) return 'bpchar';
  if (t === 'bytea') return 'bytea';
  if (t === 'boolean' || t === 'bool') return 'bool';
  if (/^timestamp( ?\(\d\))?( without time zone)?$/.test(t)) return 'timestamp';
  if (/^(timestamptz|timestamp( ?\(\d\))? with time zone)$/.test(t) || /^timestamptz ?\(\d\)$/.test(t)) return 'timestamptz';
  if (t === 'date') return 'date';
  if (t === 'jsonb') return 'jsonb';
  if (t === 'json') return 'json';
  if (t === 'uuid') return 'uuid';
  return 'other';
}

/**
 * The converter a target type implies, for `cutover verify` when the plan's converter does not
 * fit the target (e.g. the plan says bigint, the target column is timestamptz).
 */
export function converterForCanon(canon: CanonType, pgType: string): ConverterSpec {
  switch (canon) {
    case 'int': {
      const t = pgType.toLowerCase();
      return { kind: 'integer', bits: /smallint|int2|smallserial/.test(t) ? 16 : /^(integer|int|int4|serial|serial4)$/.test(t) ? 32 : 64 };
    }
    case 'float8':
    case 'float4':
      return { kind: 'float' };
    case 'numeric':
      return { kind: 'numeric' };
    case 'bytea':
      return { kind: 'bytea' };
    case 'bool':
      return { kind: 'boolean' };
    case 'timestamp':
      return { kind: 'timestamp' };
    case 'timestamptz':
      return { kind: 'timestamptz' };
    case 'date':
      return { kind: 'date' };
    case 'jsonb':
    case 'json':
      return { kind: 'jsonb' };
    case 'uuid':
      return { kind: 'uuid' };
    default:
      return { kind: 'text' };
  }
}

/** Whether the plan's converter produces literals of the target's kind (else verify re-derives it). */
export function converterFits(spec: ConverterSpec, canon: CanonType): boolean {
  switch (spec.kind) {
    case 'integer':
      return canon === 'int' || canon === 'numeric' || canon === 'float8' || canon === 'float4' || canon === 'text' || canon === 'bpchar';
    case 'float':
      return canon === 'float8' || canon === 'float4' || canon === 'numeric' || canon === 'text';
    case 'numeric':
      return canon === 'numeric' || canon === 'float8' || canon === 'float4' || canon === 'text';
    case 'text':
      return canon === 'text' || canon === 'bpchar' || canon === 'other' || canon === 'json' || canon === 'jsonb';
    case 'bytea':
      return canon === 'bytea';
    case 'boolean':
      return canon === 'bool';
    case 'timestamp':
    case 'timestamptz':
    case 'epoch':
      return canon === 'timestamp' || canon === 'timestamptz' || canon === 'text';
    case 'date':
      return canon === 'date' || canon === 'timestamp' || canon === 'timestamptz' || canon === 'text';
    case 'jsonb':
      return canon === 'jsonb' || canon === 'json' || canon === 'text';
    case 'uuid':
      return canon === 'uuid' || canon === 'text';
  }
  return false;
}

/** Session settings under which PostgreSQL's text output is the input of canonicalFromLiteral. */
export const CANONICAL_SESSION_SQL = [
  `SET LOCAL TimeZone = 'UTC'`,
  `SET LOCAL DateStyle = 'ISO, YMD'`,
  `SET LOCAL IntervalStyle = 'postgres'`,
  // PostgreSQL ≥ 12: any value > 0 gives the shortest exact output; older versions 17 digits.
  // Either way Number() reads back the identical double.
  `SET LOCAL extra_float_digits = 3`,
  `SET LOCAL bytea_output = 'hex'`,
];

/**
 * The SQL that reads one target column as text for canonicalisation. float4 is widened to
 * float8 first: its own shortest output ('0.1') would hide the rounding that happened.
 */
export function targetExpr(column: string, canon: CanonType): string {
  const q = quoteIdent(column);
  if (canon === 'float4') return `${q}::float8::text`;
  return `${q}::text`;
}

// ---------------------------------------------------------------------------------------------
// Literals → canonical text

/** A decimal as plain text: sign, digits, point; no exponent, no trailing zeros ('1.50' → '1.5'). */
export function decimalText(d: Decimal): string {
  if (d.digits === '') return '0';
  const sign = d.neg ? '-' : '';
  if (d.exp >= 0) return d.exp > 2000 ? `${sign}${d.digits}e${d.exp}` : `${sign}${d.digits}${'0'.repeat(d.exp)}`;
  const point = d.digits.length + d.exp;
  if (point > 0) return `${sign}${d.digits.slice(0, point)}.${d.digits.slice(point)}`;
  if (point < -2000) return `${sign}${d.digits}e${d.exp}`;
  return `${sign}0.${'0'.repeat(-point)}${d.digits}`;
}

function floatCanonical(s: string): string {
  const t = s.trim();
  const lower = t.toLowerCase();
  if (lower === 'nan') return 'NaN';
  if (lower === 'infinity' || lower === 'inf' || lower === '+infinity' || lower === '+inf') return 'Infinity';
  if (lower === '-infinity' || lower === '-inf') return '-Infinity';
  if (parseDecimal(t) === null) return s;
  const n = Number(t);
  if (n === 0) return 1 / n < 0 ? '-0' : '0';
  return String(n);
}

function numericCanonical(s: string): string {
  const d = parseDecimal(s.trim());
  if (d === null) {
    const lower = s.trim().toLowerCase();
    if (lower === 'nan') return 'NaN';
    if (lower === 'infinity' || lower === '+infinity' || lower === 'inf') return 'Infinity';
    if (lower === '-infinity' || lower === '-inf') return '-Infinity';
    return s;
  }
  return decimalText(d);
}

function intCanonical(s: string): string {
  const d = parseDecimal(s.trim());
  if (d === null || d.exp < 0) return s;
  return decimalText(d);
}

function pad(n: number, w: number): string {
  const t = String(n);
  return t.length >= w ? t : '0'.repeat(w - t.length) + t;
}

function timeText(p: DateTimeParts): string {
  return `${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}.${(p.frac + '000000').slice(0, 6)}`;
}

/**
 * The common shape 'YYYY-MM-DD HH:MM:SS[.f{1,6}]' followed by `suffix` (PostgreSQL's own output):
 * the canonical 'YYYY-MM-DD HH:MM:SS.ffffff' without parsing into parts, or null for anything
 * else. Exactly what parseDateTimeText + formatting give for such text (same range checks),
 * so callers fall back to them on null. Unit-tested against them.
 */
export function fastNaiveTimestamp(s: string, suffix: string): string | null {
  const n = s.length - suffix.length;
  if (suffix && !s.endsWith(suffix)) return null;
  if (!scanIsoDateTime(s, n, false)) return null;
  return n === 19 ? s.slice(0, 19) + '.000000' : s.slice(0, n) + '000000'.slice(n - 20);
}

/** 'YYYY-MM-DD HH:MM:SS.ffffff' (always six fraction digits); a zone is ignored, as PostgreSQL's timestamp input does. */
function timestampCanonical(s: string): string {
  return fastNaiveTimestamp(s, '') ?? timestampCanonicalByParts(s);
}

/** timestampCanonical through parseDateTimeText (exported for tests of the fast path). */
export function timestampCanonicalByParts(s: string): string {
  const p = parseDateTimeText(s);
  if (typeof p === 'string') return s;
  return `${formatDate(p)} ${timeText(p)}`;
}

/** The instant in UTC: 'YYYY-MM-DD HH:MM:SS.ffffffZ'. Naive text is UTC (the session's and the copy's convention). */
function timestamptzCanonical(s: string): string {
  const f = fastNaiveTimestamp(s, '+00') ?? fastNaiveTimestamp(s, 'Z') ?? fastNaiveTimestamp(s, '');
  return f !== null ? f + 'Z' : timestamptzCanonicalByParts(s);
}

/** timestamptzCanonical through parseDateTimeText (exported for tests of the fast path). */
export function timestamptzCanonicalByParts(s: string): string {
  const p = parseDateTimeText(s);
  if (typeof p === 'string') return s;
  if (!p.offsetMinutes) return `${formatDate(p)} ${timeText(p)}Z`;
  const secs = BigInt(daysFromCivil(p.year, p.month, p.day)) * 86400n + BigInt(p.hour * 3600 + p.minute * 60 + p.second - p.offsetMinutes * 60);
  const micros = secs * 1_000_000n + BigInt((p.frac + '000000').slice(0, 6));
  const u = partsFromUnixMicros(micros);
  if (u === null) return s;
  return `${formatDate(u)} ${timeText(u)}Z`;
}

function dateCanonical(s: string): string {
  const p = parseDateTimeText(s);
  if (typeof p === 'string') return s;
  if (p.hasTime) return `${formatDate(p)} ${timeText(p)}`; // not a pure date: keep the time, so it differs
  return formatDate(p);
}

function byteaCanonical(s: string): string {
  if (s.startsWith('\\x')) return '\\x' + s.slice(2).toLowerCase();
  return '\\x' + Buffer.from(decodeByteaEscape(s), 'latin1').toString('hex');
}

/** PostgreSQL's bytea "escape" input format: \\ and \ooo; every other character is its own byte. */
function decodeByteaEscape(s: string): string {
  return s.replace(/\\\\|\\([0-7]{3})/g, (m, oct: string | undefined) => (oct ? String.fromCharCode(parseInt(oct, 8)) : '\\'));
}

// ---------------------------------------------------------------------------------------------
// JSON: canonical as jsonb sees it (keys unique, last duplicate wins, keys ordered shorter
// first then bytewise, numbers by value, strings by their characters, no whitespace).

class JsonError extends Error {}

function compareJsonbKeys(a: string, b: string): number {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  if (ab.length !== bb.length) return ab.length - bb.length;
  return Buffer.compare(ab, bb);
}

/** Canonical JSON text of a JSON document, or null when it is not valid JSON. */
export function canonicalJson(text: string): string | null {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) i++;
      else if (c < 32) throw new JsonError('control character in string');
      i++;
    }
    if (i >= n) throw new JsonError('unterminated string');
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): string => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const members = new Map<string, string>();
      ws();
      if (text[i] === '}') {
        i++;
        return '{}';
      }
      for (;;) {
        ws();
        if (text[i] !== '"') throw new JsonError('expected a key');
        const k = str();
        ws();
        if (text[i] !== ':') throw new JsonError('expected :');
        i++;
        const v = value();
        members.delete(k); // last duplicate wins
        members.set(k, v);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          break;
        }
        throw new JsonError('expected , or }');
      }
      const keys = [...members.keys()].sort(compareJsonbKeys);
      return `{${keys.map((k) => `${JSON.stringify(k)}:${members.get(k)}`).join(',')}}`;
    }
    if (c === '[') {
      i++;
      const items: string[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return '[]';
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          break;
        }
        throw new JsonError('expected , or ]');
      }
      return `[${items.join(',')}]`;
    }
    if (c === '"') return JSON.stringify(str());
    if (text.startsWith('true', i)) {
      i += 4;
      return 'true';
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return 'false';
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return 'null';
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) throw new JsonError('unexpected character');
    i += m[0].length;
    return decimalText(parseDecimal(m[0])!);
  };
  try {
    const v = value();
    ws();
    if (i !== n) return null;
    return v;
  } catch (err) {
    if (err instanceof JsonError || err instanceof SyntaxError) return null;
    throw err;
  }
}

/**
 * Canonical text of a value given as PostgreSQL input/output text. Text that does not parse as
 * the type stays as it is (it then only equals the identical text on the other side).
 */
export function canonicalFromLiteral(canon: CanonType, s: string): string {
  switch (canon) {
    case 'int':
      return intCanonical(s);
    case 'float8':
    case 'float4':
      return floatCanonical(s);
    case 'numeric':
      return numericCanonical(s);
    case 'bool':
      return booleanWord(s.trim()) ?? s;
    case 'timestamp':
      return timestampCanonical(s);
    case 'timestamptz':
      return timestamptzCanonical(s);
    case 'date':
      return dateCanonical(s);
    case 'bytea':
      return byteaCanonical(s);
    case 'jsonb':
    case 'json':
      return canonicalJson(s) ?? s;
    case 'uuid':
      return canonicalUuid(s.trim().replace(/^\{(.*)\}$/, '$1')) ?? s;
    case 'bpchar':
      return s.replace(/ +$/, ''); // char(n) pads with spaces and compares without them
    case 'text':
    case 'other':
      return s;
  }
}

// ---------------------------------------------------------------------------------------------
// Source values → canonical text

/** Marks a source value the copy would reject: contains NUL, which no PostgreSQL text holds. */
export const REJECTED_PREFIX = '\u0000rejected: ';

/** A source value that the copy would reject, as a canonical string that never equals a target value. */
export function rejectedCanonical(reason: string): string {
  return REJECTED_PREFIX + reason;
}

export type SourceCanonicalizer = (v: SqliteValue) => string | null;

/**
 * Canonical text of a SQLite value as the copy writes it with `spec` into a column compared as
 * `canon`; null for SQL NULL. A value the encoder rejects gives rejectedCanonical(reason).
 */
export function sourceCanonicalizer(spec: ConverterSpec, canon: CanonType, enc: Encoder = makeEncoder(spec)): SourceCanonicalizer {
  // Hot paths: the encoder's own output is already canonical.
  const direct =
    (spec.kind === 'integer' && canon === 'int') ||
    (spec.kind === 'float' && (canon === 'float8' || canon === 'float4')) ||
    (spec.kind === 'uuid' && canon === 'uuid');
  return (v) => {
    let field: string;
    try {
      field = enc(v);
    } catch (err) {
      if (err instanceof RejectedValue) return rejectedCanonical(err.reason);
      throw err;
    }
    if (field === '\\N') return null;
    if (direct) return field;
    return canonicalFromLiteral(canon, unescapeCopyText(field));
  };
}

// ---------------------------------------------------------------------------------------------
// Rows and hashes

/** One row's canonical fields as one unambiguous string (length-prefixed; NULL is '\0'). */
export function rowString(fields: readonly (string | null)[]): string {
  let out = '';
  for (const f of fields) out += f === null ? '\u0000' : `${f.length}:${f}`;
  return out;
}

/** Truncated printable form of a canonical value for reports (values may be sensitive: kept short). */
export function showValue(v: string | null | undefined, max = 64): string {
  if (v === null) return 'NULL';
  if (v === undefined) return '(absent)';
  if (v.startsWith(REJECTED_PREFIX)) return `(not convertible: ${v.slice(REJECTED_PREFIX.length, REJECTED_PREFIX.length + 120)})`;
  const t = v.length > max ? `${v.slice(0, max)}… (${v.length} chars)` : v;
  return JSON.stringify(t);
}

/** A short description of a raw source value, for messages. */
export function showRaw(v: SqliteValue): string {
  const d = describeRawValue(v);
  return d.length > 80 ? d.slice(0, 80) + '…' : d;
}
