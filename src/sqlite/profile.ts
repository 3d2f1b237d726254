// Column value profiles: storage-class counts and shape facts, from ONE scan of a table.
//
// One SELECT streams the table once; every value is classified in JS as it passes. This was
// measured against the all-in-SQL alternative (one aggregate expression per fact per column):
// on a 2M-row, 7-column table SQLite's per-row aggregate steps took ~23 s, the streamed scan
// ~5 s. Classifying in JS also uses exactly the parsers the converters use (JSON.parse, the
// decimal parser), so the profile and the converters cannot disagree about what a value is.
//
// Blobs other than 16 bytes (possible binary UUIDs) are replaced by an empty blob inside the
// SELECT, so large blobs never cross into JS: the profile only needs their count.
import type Database from 'better-sqlite3';
import type { ColumnProfile, SqliteColumn, SqliteValue } from './types';
import { parseDecimal, decimalIntDigits, decimalScale } from '../plan/decimal';
import { booleanWord, canonicalUuid } from '../plan/convert';

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

class Acc {
  nonNull = 0;
  integers = 0;
  reals = 0;
  texts = 0;
  blobs = 0;
  minI: bigint | null = null;
  maxI: bigint | null = null;
  jsonTexts = 0;
  uuidTexts = 0;
  isoNaiveTexts = 0;
  isoZonedTexts = 0;
  dateTexts = 0;
  maxTextLength = 0;
  numericTexts = 0;
  wholeReals = 0;
  maxScale = 0;
  maxIntDigits = 0;
  booleanTexts = 0;
  uuidBlobs = 0;
}

const INT64_MIN = -9223372036854775808;
const INT64_LIMIT = 9223372036854775808;
/** Reported for values no numeric(p,s) can hold (infinities, exponent-form texts). */
const UNBOUNDED = 100_000;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function allDigits(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/**
 * ISO shape only (digits in the right places; the calendar is checked by the converters, which
 * reject a bad value individually): 'date' = YYYY-MM-DD, 'naive' = YYYY-MM-DD[T ]HH:MM… with
 * only digits ':' '.' after, or YYYYMMDDHHMMSS; 'zoned' = date-time ending in Z/±HH[:MM].
 */
export function isoShape(s: string): 'date' | 'naive' | 'zoned' | null {
  const n = s.length;
  if (n === 14) return allDigits(s, 0, 14) ? 'naive' : null;
  if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return null;
  if (!allDigits(s, 0, 4) || !allDigits(s, 5, 7) || !allDigits(s, 8, 10)) return null;
  if (n === 10) return 'date';
  const sep = s.charCodeAt(10);
  if (n < 16 || (sep !== 84 && sep !== 116 && sep !== 32)) return null;
  if (!allDigits(s, 11, 13) || s.charCodeAt(13) !== 58 || !allDigits(s, 14, 16)) return null;
  // The tail: only digits ':' '.' → naive; else a zone suffix Z / ±HH:MM / ±HHMM / ±HH.
  let i = 16;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (!(isDigit(c) || c === 58 || c === 46)) break;
    i++;
  }
  if (i === n) return 'naive';
  if (s.charCodeAt(i) === 32) i++;
  const rest = n - i;
  const c0 = s.charCodeAt(i);
  if (rest === 1) return c0 === 90 || c0 === 122 ? 'zoned' : null;
  if (c0 !== 43 && c0 !== 45) return null;
  if (rest === 3 && allDigits(s, i + 1, n)) return 'zoned';
  if (rest === 5 && allDigits(s, i + 1, n)) return 'zoned';
  if (rest === 6 && allDigits(s, i + 1, i + 3) && s.charCodeAt(i + 3) === 58 && allDigits(s, i + 4, n)) return 'zoned';
  return null;
}

/** JSON number syntax: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)? — a number stored as text. */
function isJsonNumber(s: string): boolean {
  const n = s.length;
  let i = 0;
  if (s.charCodeAt(0) === 45) i++;
  if (i >= n) return false;
  if (s.charCodeAt(i) === 48) i++;
  else if (isDigit(s.charCodeAt(i))) while (i < n && isDigit(s.charCodeAt(i))) i++;
  else return false;
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    const f = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === f) return false;
  }
  if (i < n && (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69)) {
    i++;
    if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) i++;
    const e = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === e) return false;
  }
  return i === n;
}

function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function addText(a: Acc, s: string): void {
  a.texts++;
  const len = s.length;
  if (len > a.maxTextLength) {
    const cp = codePoints(s);
    if (cp > a.maxTextLength) a.maxTextLength = cp;
  }
  if (len === 0) return;
  let c = s.charCodeAt(0);
  if (c === 32 || c === 9 || c === 10 || c === 13) c = s.trimStart().charCodeAt(0);
  if (c === 123 || c === 91) {
    // '{' or '[': a JSON object/array if it parses
    try {
      JSON.parse(s);
      a.jsonTexts++;
    } catch {
      /* not JSON */
    }
    return;
  }
  if (isDigit(c) || c === 45) {
    if (isJsonNumber(s)) {
      a.numericTexts++;
      const d = parseDecimal(s);
      if (d !== null) {
        const hasExp = s.indexOf('e') >= 0 || s.indexOf('E') >= 0;
        const sc = hasExp ? UNBOUNDED : decimalScale(d);
        const id = hasExp ? UNBOUNDED : decimalIntDigits(d);
        if (sc > a.maxScale) a.maxScale = sc;
        if (id > a.maxIntDigits) a.maxIntDigits = id;
      }
    }
    const shape = len >= 10 ? isoShape(s) : null;
    if (shape === 'naive') a.isoNaiveTexts++;
    else if (shape === 'zoned') a.isoZonedTexts++;
    else if (shape === 'date') a.dateTexts++;
  }
  if (len === 36 || len === 32) {
    if (canonicalUuid(s) !== null) a.uuidTexts++;
  } else if (len <= 5 && booleanWord(s) !== null) a.booleanTexts++;
}

function addReal(a: Acc, v: number): void {
  a.reals++;
  if (Number.isInteger(v) && v >= INT64_MIN && v < INT64_LIMIT) a.wholeReals++;
  if (!Number.isFinite(v)) {
    a.maxIntDigits = Math.max(a.maxIntDigits, UNBOUNDED);
    return;
  }
  // Scale and integer digits of the shortest round-trip decimal (what the numeric converter emits).
  const d = parseDecimal(String(v));
  if (d === null) return;
  const sc = decimalScale(d);
  const id = decimalIntDigits(d);
  if (sc > a.maxScale) a.maxScale = sc;
  if (id > a.maxIntDigits) a.maxIntDigits = id;
}

function add(a: Acc, v: SqliteValue): void {
  if (v === null) return;
  a.nonNull++;
  if (typeof v === 'bigint') {
    a.integers++;
    if (a.minI === null || v < a.minI) a.minI = v;
    if (a.maxI === null || v > a.maxI) a.maxI = v;
  } else if (typeof v === 'string') addText(a, v);
  else if (typeof v === 'number') addReal(a, v);
  else {
    a.blobs++;
    if (v.length === 16) a.uuidBlobs++;
  }
}

function finish(rows: number, a: Acc): ColumnProfile {
  let intDigits = a.maxIntDigits;
  if (a.minI !== null && a.maxI !== null) {
    intDigits = Math.max(intDigits, a.minI.toString().replace('-', '').length, a.maxI.toString().replace('-', '').length);
  }
  return {
    rows,
    nulls: rows - a.nonNull,
    integers: a.integers,
    reals: a.reals,
    texts: a.texts,
    blobs: a.blobs,
    minInteger: a.minI === null ? null : a.minI.toString(),
    maxInteger: a.maxI === null ? null : a.maxI.toString(),
    zeroOne: a.nonNull > 0 && a.integers === a.nonNull && a.minI! >= 0n && a.maxI! <= 1n,
    jsonTexts: a.jsonTexts,
    uuidTexts: a.uuidTexts,
    isoNaiveTexts: a.isoNaiveTexts,
    isoZonedTexts: a.isoZonedTexts,
    dateTexts: a.dateTexts,
    maxTextLength: a.maxTextLength,
    numericTexts: a.numericTexts,
    wholeReals: a.wholeReals,
    maxScale: a.maxScale,
    maxPrecision: intDigits + a.maxScale,
    booleanTexts: a.booleanTexts,
    uuidBlobs: a.uuidBlobs,
  };
}

/**
 * Profiles every column of `table` in one scan. `db` is opened with safeIntegers(true)
 * (the statement forces it anyway, so 64-bit integers stay exact).
 */
export function profileTable(
  db: Database.Database,
  table: string,
  columns: SqliteColumn[],
): Record<string, ColumnProfile> {
  const out: Record<string, ColumnProfile> = {};
  if (columns.length === 0) return out;
  const exprs = columns.map((c) => {
    const q = quoteIdent(c.name);
    return `CASE WHEN typeof(${q})='blob' AND length(${q})<>16 THEN x'' ELSE ${q} END`;
  });
  const stmt = db.prepare(`SELECT ${exprs.join(', ')} FROM ${quoteIdent(table)}`).raw(true).safeIntegers(true);
  const accs = columns.map(() => new Acc());
  const n = columns.length;
  let rows = 0;
  for (const row of stmt.iterate() as IterableIterator<SqliteValue[]>) {
    rows++;
    for (let i = 0; i < n; i++) add(accs[i], row[i]);
  }
  columns.forEach((c, i) => {
    out[c.name] = finish(rows, accs[i]);
  });
  return out;
}
