// Value converters: one SQLite value → one field of PostgreSQL's COPY text format.
//
// Lossless by construction: every encoder either emits text that PostgreSQL parses to exactly
// the source value, or throws RejectedValue with a sentence saying why. Nothing is coerced
// silently. Encoders are on the hot path (millions of values per second): the common cases
// (bigint → integer, number → double, plain text) do no regex work and no extra allocation.
import type { ConverterSpec } from '../types';
import type { SqliteValue } from '../sqlite/types';
import { escapeCopyText, excerpt, hasLoneSurrogate, codePointLength } from './copy-text';
import { parseDecimal, decimalEquals, decimalScale, decimalIntDigits, decimalToBigInt, type Decimal } from './decimal';
import { makeExistingEncoder } from '../existing/converters';
import {
  parseDateTimeText,
  formatNaive,
  formatDate,
  formatOffset,
  partsFromUnixMicros,
  julianDayToUnixMicros,
  type DateTimeParts,
} from './timestamps';

/** A value that cannot be converted without loss: goes to cutover.rejects, never coerced. */
export class RejectedValue extends Error {
  constructor(
    readonly reason: string,
    readonly valueClass: string,
  ) {
    super(reason);
    this.name = 'RejectedValue';
  }
}

/**
 * Turns one SQLite value into one field of PostgreSQL's COPY text format,
 * already escaped (`\N` for NULL). Throws RejectedValue for a lossy value.
 */
export type Encoder = (value: SqliteValue) => string;

/** Optional policies (issue 3: `--on-nul strip`, `--on-invalid-utf8 replace`). Default: reject. */
export interface EncoderOptions {
  /** A NUL character in text: reject the value (default) or drop the NUL characters. */
  onNul?: 'reject' | 'strip';
  /** A blob that is not valid UTF-8, converted to text: reject (default) or decode with U+FFFD. */
  onInvalidUtf8?: 'reject' | 'replace';
}

const NULL_FIELD = '\\N';

/** SQLite storage class of a value, as typeof() would name it. */
export function storageClass(value: SqliteValue): 'null' | 'integer' | 'real' | 'text' | 'blob' {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return 'real';
  if (typeof value === 'string') return 'text';
  return 'blob';
}

// ---------------------------------------------------------------------------------------------
// Describing values (for cutover.rejects and reasons)

const DESCRIBE_TEXT_MAX = 200;
const DESCRIBE_BLOB_MAX = 100;

/**
 * A printable form of a rejected value for cutover.rejects (hex for bytes). Always storable as
 * PostgreSQL text: NUL characters are shown as `\0`, unpaired surrogates as U+FFFD.
 */
export function describeRawValue(value: SqliteValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return realRepr(value);
  if (typeof value === 'string') {
    let t = value.length > DESCRIBE_TEXT_MAX ? value.slice(0, DESCRIBE_TEXT_MAX) : value;
    if (t.indexOf('\0') >= 0) t = t.replace(/\0/g, '\\0');
    if (hasLoneSurrogate(t)) t = t.replace(/[\ud800-\udfff]/g, '\ufffd');
    return value.length > DESCRIBE_TEXT_MAX ? `${t}… (${value.length} chars)` : t;
  }
  const hex = value.subarray(0, DESCRIBE_BLOB_MAX).toString('hex');
  return value.length > DESCRIBE_BLOB_MAX ? `\\x${hex}… (${value.length} bytes)` : `\\x${hex}`;
}

/** Shortest round-trip form of a double, keeping -0. */
function realRepr(v: number): string {
  if (v === 0) return 1 / v < 0 ? '-0' : '0';
  return String(v);
}

function describeShort(value: SqliteValue): string {
  if (typeof value === 'string') return `text ${excerpt(value)}`;
  if (typeof value === 'bigint') return `integer ${value}`;
  if (typeof value === 'number') return `real ${realRepr(value)}`;
  if (value === null) return 'NULL';
  return `blob of ${value.length} bytes`;
}

function reject(value: SqliteValue, why: string): never {
  throw new RejectedValue(`${describeShort(value)} ${why}`, storageClass(value));
}

// ---------------------------------------------------------------------------------------------
// Shared text forms

/**
 * The text SQLite would show for a REAL (CAST(x AS TEXT)): same layout as SQLite (`3.0`,
 * `1.0e+21`, `1.0e-05`; exponent form below 1e-4 and from 1e17), with the *shortest*
 * round-trip digits. SQLite ≥ 3.4x prints up to 17 digits that may differ from these in the
 * last place; both denote the identical double, so nothing is lost. -0 keeps its sign.
 */
export function sqliteRealText(v: number): string {
  if (v !== v) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return 1 / v < 0 ? '-0.0' : '0.0';
  const d = parseDecimal(String(v)) as Decimal;
  const sign = d.neg ? '-' : '';
  const e10 = d.digits.length - 1 + d.exp; // exponent in scientific notation
  if (e10 < -4 || e10 >= 17) {
    const mant = d.digits.length === 1 ? `${d.digits}.0` : `${d.digits[0]}.${d.digits.slice(1)}`;
    const ea = Math.abs(e10);
    return `${sign}${mant}e${e10 < 0 ? '-' : '+'}${ea < 10 ? '0' + ea : ea}`;
  }
  if (d.exp >= 0) return `${sign}${d.digits}${'0'.repeat(d.exp)}.0`;
  const point = d.digits.length + d.exp;
  if (point > 0) return `${sign}${d.digits.slice(0, point)}.${d.digits.slice(point)}`;
  return `${sign}0.${'0'.repeat(-point)}${d.digits}`;
}

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Lenient = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function hexField(buf: Buffer): string {
  // COPY text: the bytea input '\x…' needs its backslash escaped.
  return '\\\\x' + buf.toString('hex');
}

// ---------------------------------------------------------------------------------------------
// Integers

const RANGES: Record<16 | 32 | 64, [bigint, bigint]> = {
  16: [-32768n, 32767n],
  32: [-2147483648n, 2147483647n],
  64: [-9223372036854775808n, 9223372036854775807n],
};
const TYPE_NAMES: Record<16 | 32 | 64, string> = { 16: 'smallint', 32: 'integer', 64: 'bigint' };

function isCanonicalIntegerText(s: string): boolean {
  const n = s.length;
  let i = 0;
  if (n > 0 && (s.charCodeAt(0) === 45 || s.charCodeAt(0) === 43)) i = 1;
  if (i >= n) return false;
  if (s.charCodeAt(i) === 48 && n - i > 1) return false; // leading zero would be lost
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function integerEncoder(bits: 16 | 32 | 64): Encoder {
  const [lo, hi] = RANGES[bits];
  const loN = Number(lo);
  const hiN = bits === 64 ? 9223372036854775808 : Number(hi) + 1; // exclusive bound as a double
  const tname = TYPE_NAMES[bits];
  const outOfRange = `is outside the range of ${tname} (${lo} to ${hi})`;
  return (v) => {
    if (typeof v === 'bigint') {
      if (v < lo || v > hi) reject(v, outOfRange);
      return v.toString();
    }
    if (v === null) return NULL_FIELD;
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) reject(v, `is not a whole number; ${tname} would round it`);
      if (v < loN || v >= hiN) reject(v, outOfRange);
      // Beyond 2^53 String() prints the shortest digits, not the exact integer: use BigInt.
      return Number.isSafeInteger(v) ? String(v === 0 ? 0 : v) : BigInt(v).toString();
    }
    if (typeof v === 'string') {
      if (!isCanonicalIntegerText(v)) {
        reject(
          v,
          /^[+-]?0\d+$/.test(v)
            ? 'has leading zeros, which an integer would drop'
            : 'is not an integer',
        );
      }
      const b = BigInt(v);
      if (b < lo || b > hi) reject(v, outOfRange);
      return b.toString();
    }
    return reject(v, `cannot be stored in a ${tname} column`);
  };
}

// ---------------------------------------------------------------------------------------------
// Floats (double precision)

const TWO53 = 2 ** 53;

function floatWord(s: string): string | null {
  switch (s.toLowerCase()) {
    case 'nan':
      return 'NaN';
    case 'inf':
    case 'infinity':
    case '+inf':
    case '+infinity':
      return 'Infinity';
    case '-inf':
    case '-infinity':
      return '-Infinity';
    default:
      return null;
  }
}

function floatEncoder(): Encoder {
  return (v) => {
    if (typeof v === 'number') {
      if (v === 0) return 1 / v < 0 ? '-0' : '0';
      if (v !== v) return 'NaN';
      if (v === Infinity) return 'Infinity';
      if (v === -Infinity) return '-Infinity';
      return String(v); // shortest round-trip; PostgreSQL (≥ 12) parses it to the same double
    }
    if (v === null) return NULL_FIELD;
    if (typeof v === 'bigint') {
      if (v >= -TWO53 && v <= TWO53) return v.toString();
      const n = Number(v);
      if (BigInt(n) !== v) reject(v, `is not exactly representable as a double; precision would be lost (nearest is ${n})`);
      return String(n);
    }
    if (typeof v === 'string') {
      const w = v.length <= 9 ? floatWord(v) : null;
      if (w !== null) return w;
      const d = parseDecimal(v);
      if (d === null) reject(v, 'is not a number');
      const n = Number(v);
      if (!Number.isFinite(n)) reject(v, 'is outside the range of double precision');
      if (n === 0) {
        if (d.digits !== '') reject(v, 'is too small for double precision (it would become 0)');
        return d.neg ? '-0' : '0';
      }
      const back = parseDecimal(String(n)) as Decimal;
      if (!decimalEquals(d, back)) {
        reject(v, `has more precision than double precision holds (it would become ${String(n)})`);
      }
      return String(n);
    }
    return reject(v, 'cannot be stored in a double precision column');
  };
}

// ---------------------------------------------------------------------------------------------
// Numeric

const NUMERIC_MAX_INT_DIGITS = 131072;
const NUMERIC_MAX_SCALE = 16383;
/** numeric_in refuses exponents from here on (PostgreSQL ≤ 15; 16 accepts exactly this one for zero). */
const NUMERIC_MAX_EXPONENT = 1073741823;

/**
 * What numeric_in checks on a literal as written, beyond its value: the display scale it keeps
 * (fraction digits minus the exponent: '1.50' → 2, '0e-20000' → 20000) and the exponent.
 */
function writtenNumeric(s: string): { scale: number; exponent: number } {
  let i = 0;
  const n = s.length;
  while (i < n && s.charCodeAt(i) !== 46 && (s.charCodeAt(i) | 32) !== 101) i++;
  let frac = 0;
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    while (i < n && (s.charCodeAt(i) | 32) !== 101) {
      i++;
      frac++;
    }
  }
  let exponent = 0;
  if (i < n) {
    i++;
    const neg = s.charCodeAt(i) === 45;
    if (neg || s.charCodeAt(i) === 43) i++;
    for (; i < n && exponent < 1e10; i++) exponent = exponent * 10 + (s.charCodeAt(i) - 48);
    if (neg) exponent = -exponent;
  }
  return { scale: Math.max(0, frac - exponent), exponent };
}

function numericEncoder(precision?: number, scale?: number): Encoder {
  const typed = precision !== undefined;
  const s = scale ?? 0;
  const p = precision ?? 0;
  const tname = typed ? `numeric(${p},${s})` : 'numeric';
  const check = (v: SqliteValue, d: Decimal): void => {
    const sc = decimalScale(d);
    const id = decimalIntDigits(d);
    if (typed) {
      if (sc > s) reject(v, `has ${sc} digits after the decimal point; ${tname} would round it`);
      if (id > p - s) reject(v, `has ${id} digits before the decimal point; ${tname} holds at most ${p - s}`);
    } else if (id > NUMERIC_MAX_INT_DIGITS || sc > NUMERIC_MAX_SCALE) {
      reject(v, 'is outside the range of PostgreSQL numeric');
    }
  };
  return (v) => {
    if (typeof v === 'bigint') {
      if (typed) check(v, parseDecimal(v.toString()) as Decimal);
      return v.toString();
    }
    if (v === null) return NULL_FIELD;
    if (typeof v === 'number') {
      if (v !== v) return 'NaN';
      if (v === Infinity || v === -Infinity) {
        if (typed) reject(v, `is infinite; ${tname} cannot hold infinity`);
        return v > 0 ? 'Infinity' : '-Infinity';
      }
      if (v === 0) return '0'; // numeric has no negative zero; -0 = 0
      // The shortest decimal that round-trips to this double (PostgreSQL accepts exponent form).
      const t = String(v);
      if (typed) check(v, parseDecimal(t) as Decimal);
      return t;
    }
    if (typeof v === 'string') {
      const d = parseDecimal(v);
      if (d === null) {
        const w = v.length <= 9 ? floatWord(v) : null;
        if (w === null) reject(v, 'is not a number');
        if (w !== 'NaN' && typed) reject(v, `is infinite; ${tname} cannot hold infinity`);
        return w;
      }
      check(v, d);
      const w = writtenNumeric(v);
      if (Math.abs(w.exponent) >= NUMERIC_MAX_EXPONENT) reject(v, 'has an exponent PostgreSQL numeric does not read');
      // numeric(p,s) rounds to its scale first; plain numeric keeps the written scale, up to 16383.
      if (!typed && w.scale > NUMERIC_MAX_SCALE) reject(v, `is written with ${w.scale} digits after the decimal point; PostgreSQL numeric keeps at most ${NUMERIC_MAX_SCALE}`);
      return v; // verbatim: PostgreSQL keeps the written scale (e.g. 1.50)
    }
    return reject(v, `cannot be stored in a ${tname} column`);
  };
}

// ---------------------------------------------------------------------------------------------
// Text

function textEncoder(opts: EncoderOptions, maxLength?: number): Encoder {
  const onNul = opts.onNul ?? 'reject';
  const lenient = opts.onInvalidUtf8 === 'replace';
  const limit = maxLength ?? Infinity;
  const tname = maxLength !== undefined ? `varchar(${maxLength})` : 'text';
  const fromString = (v: SqliteValue, s: string): string => {
    const out = escapeCopyText(s, onNul);
    if (out === null) reject(v, 'contains a NUL byte, which PostgreSQL text cannot store');
    if (s.length > limit) {
      const cps = codePointLength(onNul === 'strip' ? s.replace(/\0/g, '') : s);
      if (cps > limit) reject(v, `is ${cps} characters long; ${tname} holds at most ${limit} (it is never truncated)`);
    }
    if (hasLoneSurrogate(s)) reject(v, 'contains an unpaired UTF-16 surrogate, which is not valid UTF-8');
    return out;
  };
  return (v) => {
    if (typeof v === 'string') return fromString(v, v);
    if (v === null) return NULL_FIELD;
    if (typeof v === 'bigint') return fromString(v, v.toString());
    if (typeof v === 'number') return fromString(v, sqliteRealText(v));
    let s: string;
    try {
      s = (lenient ? utf8Lenient : utf8Fatal).decode(v);
    } catch {
      return reject(v, 'is not valid UTF-8 text');
    }
    return fromString(v, s);
  };
}

// ---------------------------------------------------------------------------------------------
// Bytea

function byteaEncoder(): Encoder {
  return (v) => {
    if (v === null) return NULL_FIELD;
    if (typeof v === 'string') {
      // Text in a bytea column is kept as the bytes of that text (UTF-8).
      if (hasLoneSurrogate(v)) reject(v, 'contains an unpaired UTF-16 surrogate, which has no UTF-8 bytes');
      return hexField(Buffer.from(v, 'utf8'));
    }
    if (typeof v === 'bigint') return hexField(Buffer.from(v.toString(), 'latin1'));
    if (typeof v === 'number') return hexField(Buffer.from(sqliteRealText(v), 'latin1'));
    return hexField(v);
  };
}

// ---------------------------------------------------------------------------------------------
// Boolean

const BOOL_WORDS: Record<string, string> = {
  '0': 'f',
  '1': 't',
  t: 't',
  f: 'f',
  true: 't',
  false: 'f',
  yes: 't',
  no: 'f',
  y: 't',
  n: 'f',
  on: 't',
  off: 'f',
};

export function booleanWord(s: string): 't' | 'f' | null {
  if (s.length > 5) return null;
  const w = BOOL_WORDS[s.toLowerCase()];
  return w === undefined ? null : (w as 't' | 'f');
}

function booleanEncoder(): Encoder {
  return (v) => {
    if (typeof v === 'bigint') {
      if (v === 0n) return 'f';
      if (v === 1n) return 't';
      return reject(v, 'is not a boolean (only 0 and 1 are)');
    }
    if (v === null) return NULL_FIELD;
    if (typeof v === 'number') {
      if (v === 0) return 'f';
      if (v === 1) return 't';
      return reject(v, 'is not a boolean (only 0 and 1 are)');
    }
    if (typeof v === 'string') {
      const w = booleanWord(v);
      if (w === null) reject(v, "is not a boolean (accepted: 0/1, t/f, true/false, yes/no, y/n, on/off)");
      return w;
    }
    return reject(v, 'cannot be stored in a boolean column');
  };
}

// ---------------------------------------------------------------------------------------------
// Dates and timestamps

type TemporalKind = 'timestamp' | 'timestamptz' | 'date';

function emitParts(kind: TemporalKind, p: DateTimeParts, v: SqliteValue): string {
  if (kind === 'date') {
    if (p.offsetMinutes !== null) reject(v, `carries a time zone (${p.zoneText}); a date column would drop it`);
    if (p.hour !== 0 || p.minute !== 0 || p.second !== 0 || (p.frac !== '' && !/^0+$/.test(p.frac))) {
      reject(v, 'has a time of day; a date column would drop it (map the column to timestamp)');
    }
    return formatDate(p);
  }
  if (kind === 'timestamp') {
    if (p.offsetMinutes !== null) {
      reject(v, `carries a time zone (${p.zoneText}); timestamp without time zone would drop it (map the column to timestamptz)`);
    }
    return formatNaive(p); // naive stays naive: no shift
  }
  // timestamptz: naive values are interpreted as UTC (SQLite's own date functions work in UTC).
  return formatNaive(p) + (p.offsetMinutes === null ? '+00' : formatOffset(p.offsetMinutes));
}

const COMPACT_MIN = 10000101000000n;
const COMPACT_MAX = 99991231235959n;

function compactDateTime(kind: TemporalKind, v: bigint): DateTimeParts | string | null {
  if (v >= COMPACT_MIN && v <= COMPACT_MAX) return parseDateTimeText(v.toString());
  if (kind === 'date' && v >= 10000101n && v <= 99991231n) {
    const t = v.toString();
    const p = parseDateTimeText(`${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6)}`);
    return typeof p === 'string' ? `integer ${t} is not a valid YYYYMMDD date` : p;
  }
  return null;
}

function temporalEncoder(kind: TemporalKind): Encoder {
  const col: string = kind;
  const epochType = kind === 'date' ? 'timestamp' : kind; // epochs map to timestamp[tz]:unit
  return (v) => {
    if (typeof v === 'string') {
      const p = parseDateTimeText(v);
      if (typeof p === 'string') throw new RejectedValue(p, 'text');
      return emitParts(kind, p, v);
    }
    if (v === null) return NULL_FIELD;
    if (typeof v === 'number') {
      // A REAL in a date/time column is a Julian day number (SQLite's julianday()).
      const us = julianDayToUnixMicros(v);
      const p = us === null ? null : partsFromUnixMicros(us);
      if (p === null) {
        reject(v, `is not a Julian day between years 0001 and 9999; if it is a Unix epoch use --map <table>.<column>=${epochType}:s (or :ms/:us)`);
      }
      return emitParts(kind, p, v);
    }
    if (typeof v === 'bigint') {
      // 'YYYYMMDDHHMMSS' (or 'YYYYMMDD' for dates) text that SQLite's NUMERIC affinity
      // (DATETIME, DATE columns) stored as an integer.
      const compact = compactDateTime(kind, v);
      if (compact !== null) {
        if (typeof compact === 'string') throw new RejectedValue(compact.replace(/^text '(\d+)'/, 'integer $1'), 'integer');
        return emitParts(kind, compact, v);
      }
      return reject(
        v,
        `is not a date/time; if the column holds Unix epochs use --map <table>.<column>=${epochType}:s (or :ms/:us) — it is never read as a year`,
      );
    }
    return reject(v, `cannot be stored in a ${col} column`);
  };
}

const UNIT_US: Record<'s' | 'ms' | 'us', bigint> = { s: 1_000_000n, ms: 1_000n, us: 1n };
const UNIT_SHIFT: Record<'s' | 'ms' | 'us', number> = { s: 6, ms: 3, us: 0 };
const UNIT_NAME: Record<'s' | 'ms' | 'us', string> = { s: 'seconds', ms: 'milliseconds', us: 'microseconds' };

function epochEncoder(unit: 's' | 'ms' | 'us', tz: boolean): Encoder {
  const mult = UNIT_US[unit];
  const shift = UNIT_SHIFT[unit];
  const suffix = tz ? '+00' : '';
  const outOfRange = `as epoch ${UNIT_NAME[unit]} is outside years 0001–9999 (check the unit)`;
  const emit = (v: SqliteValue, us: bigint): string => {
    const p = partsFromUnixMicros(us);
    if (p === null) reject(v, outOfRange);
    return formatNaive(p) + suffix;
  };
  return (v) => {
    if (typeof v === 'bigint') return emit(v, v * mult);
    if (v === null) return NULL_FIELD;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) reject(v, 'is not a finite epoch');
      if (Number.isInteger(v)) return emit(v, BigInt(v) * mult);
      // Fractional epoch (e.g. Python time.time()): exact when its shortest decimal form
      // resolves to whole microseconds; otherwise PostgreSQL would round it.
      const us = decimalToBigInt(parseDecimal(String(v)) as Decimal, shift);
      if (us === null) reject(v, `has sub-microsecond precision as epoch ${UNIT_NAME[unit]}; it would be rounded`);
      return emit(v, us);
    }
    if (typeof v === 'string') {
      if (!isCanonicalIntegerText(v)) reject(v, `is not an epoch in ${UNIT_NAME[unit]} (an integer)`);
      return emit(v, BigInt(v) * mult);
    }
    return reject(v, 'cannot be read as an epoch');
  };
}

// ---------------------------------------------------------------------------------------------
// JSON

/** A string in parsed JSON that PostgreSQL's jsonb refuses: \u0000 or an unpaired surrogate. */
function jsonStringProblem(x: unknown): string | null {
  if (typeof x === 'string') {
    if (x.indexOf('\0') >= 0) return 'contains \\u0000, which PostgreSQL jsonb refuses';
    if (hasLoneSurrogate(x)) return 'contains an unpaired \\uD800–\\uDFFF escape, which PostgreSQL jsonb refuses';
    return null;
  }
  if (x === null || typeof x !== 'object') return null;
  if (Array.isArray(x)) {
    for (const e of x) {
      const p = jsonStringProblem(e);
      if (p) return p;
    }
    return null;
  }
  for (const k of Object.keys(x)) {
    const p = jsonStringProblem(k) ?? jsonStringProblem((x as Record<string, unknown>)[k]);
    if (p) return p;
  }
  return null;
}

function jsonbEncoder(opts: EncoderOptions): Encoder {
  return (v) => {
    if (typeof v === 'string') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(v);
      } catch {
        return reject(v, 'is not valid JSON');
      }
      if (v.indexOf('\\u') >= 0) {
        const p = jsonStringProblem(parsed);
        if (p) reject(v, p);
      }
      const out = escapeCopyText(v, 'reject');
      if (out === null) reject(v, 'contains a NUL byte'); // cannot happen in valid JSON
      if (hasLoneSurrogate(v)) reject(v, 'contains an unpaired UTF-16 surrogate');
      return out;
    }
    if (v === null) return NULL_FIELD;
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) reject(v, 'is not a finite number; JSON has no NaN or Infinity');
      return v === 0 ? '0' : String(v);
    }
    void opts;
    return reject(v, 'cannot be stored in a jsonb column');
  };
}

// ---------------------------------------------------------------------------------------------
// UUID

function hexVal(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Canonical lowercase UUID for 8-4-4-4-12 or 32-hex text, else null. */
export function canonicalUuid(s: string): string | null {
  let hex: string;
  if (s.length === 36) {
    if (s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) return null;
    hex = s.slice(0, 8) + s.slice(9, 13) + s.slice(14, 18) + s.slice(19, 23) + s.slice(24);
  } else if (s.length === 32) hex = s;
  else return null;
  for (let i = 0; i < 32; i++) if (hexVal(hex.charCodeAt(i)) < 0) return null;
  hex = hex.toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function uuidEncoder(): Encoder {
  return (v) => {
    if (typeof v === 'string') {
      const u = canonicalUuid(v);
      if (u === null) reject(v, 'is not a UUID (8-4-4-4-12 or 32 hex digits)');
      return u;
    }
    if (v === null) return NULL_FIELD;
    if (typeof v === 'object') {
      if (v.length !== 16) reject(v, 'is not a UUID (a UUID blob has 16 bytes)');
      const h = v.toString('hex');
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
    }
    return reject(v, 'cannot be stored in a uuid column');
  };
}

// ---------------------------------------------------------------------------------------------

export function makeEncoder(spec: ConverterSpec, options: EncoderOptions = {}): Encoder {
  // A policy chosen for the run travels in the spec, so copy and checksums agree.
  if ((spec.kind === 'text' || spec.kind === 'jsonb') && spec.onNul) options = { ...options, onNul: spec.onNul };
  if (spec.kind === 'text' && spec.onInvalidUtf8) options = { ...options, onInvalidUtf8: spec.onInvalidUtf8 };
  switch (spec.kind) {
    case 'integer':
      return integerEncoder(spec.bits);
    case 'float':
      return floatEncoder();
    case 'numeric':
      if ((spec.precision === undefined) !== (spec.scale === undefined) && spec.precision === undefined) {
        throw new Error('numeric converter: scale given without precision');
      }
      return numericEncoder(spec.precision, spec.precision === undefined ? undefined : (spec.scale ?? 0));
    case 'text':
      return textEncoder(options, spec.maxLength);
    case 'bytea':
      return byteaEncoder();
    case 'boolean':
      return booleanEncoder();
    case 'timestamp':
    case 'timestamptz':
    case 'date':
      return temporalEncoder(spec.kind);
    case 'epoch':
      return epochEncoder(spec.unit, spec.tz);
    case 'jsonb':
      return jsonbEncoder(options);
    case 'uuid':
      return uuidEncoder();
    // Target types only an existing schema has (enum, real, arrays).
    case 'enum':
    case 'float4':
    case 'array':
      return makeExistingEncoder(spec, options);
    default: {
      const never: never = spec;
      throw new Error(`unknown converter ${JSON.stringify(never)}`);
    }
  }
}
