// Canonical COPY text → PostgreSQL binary COPY wire values (numeric, timestamp, timestamptz, date).
//
// The converters in src/plan/convert.ts emit, for every value, the exact COPY *text* field
// PostgreSQL would parse. For binary COPY we turn that text into the bytes the type's receive
// function expects, such that the stored value is identical to what the text input function
// (numeric_in, timestamp_in, …) would have stored — including numeric's display scale.
//
// Everything is exact integer arithmetic on char codes: no Number parsing of decimals, no Date,
// no substrings. The write* functions are the hot path (no allocation at all); the others are
// conveniences, mostly for tests.
//
// Text outside the grammars below is a bug in the caller: we throw a plain Error.

import { daysFromCivil, daysInMonth, isoScan, scanIsoDateTime } from '../plan/timestamps';

// ---------------------------------------------------------------------------------------------
// numeric
//
// Wire form (numeric_send / numeric_recv), all big-endian:
//   int16 ndigits, int16 weight, uint16 sign, uint16 dscale, ndigits × int16 base-10000 digits
// value = Σ digit[i] × 10000^(weight − i); dscale = digits shown after the decimal point.

/** Sign words of the binary numeric form (PostgreSQL 14+ for the infinities). */
export const NUMERIC_POS = 0x0000;
export const NUMERIC_NEG = 0x4000;
export const NUMERIC_NAN = 0xc000;
export const NUMERIC_PINF = 0xd000;
export const NUMERIC_NINF = 0xf000;

/** Largest display scale a stored numeric can carry (NUMERIC_DSCALE_MASK, 14 bits). */
const NUMERIC_DSCALE_MAX = 0x3fff;
/** numeric's weight (in base-10000 digits) is an int16 in the stored form. */
const NUMERIC_WEIGHT_MAX = 32767;
const NUMERIC_WEIGHT_MIN = -32768;
/**
 * numeric_in refuses exponents at or beyond INT_MAX/2 ("value overflows numeric format").
 * PostgreSQL ≤ 15 rejects |e| ≥ 1073741823, 16+ rejects |e| > 1073741823; we take the stricter
 * bound, so we throw wherever any supported server would. (Only matters for zero, e.g.
 * '0e1073741823': every non-zero value with such an exponent overflows weight or dscale anyway.)
 */
const NUMERIC_EXPONENT_MAX = 1073741822;

/**
 * ±Infinity go out with dscale 32: numeric_send reads the special header 0xD000/0xF000 through
 * the short-format dscale mask (0x1F80 >> 7), which yields 32. numeric_recv ignores dscale for
 * special values, so any value loads identically; we send what the server itself sends.
 */
const NUMERIC_INF_DSCALE = 32;

const POW10 = [1, 10, 100, 1000];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function quote(s: string): string {
  return JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s);
}

function badNumeric(text: string, why = 'is not a numeric literal'): never {
  throw new Error(`numeric text ${quote(text)} ${why}`);
}

/**
 * Upper bound of the bytes writeNumericBinary writes for `text` (8-byte header plus two bytes per
 * base-10000 digit; the digits never outnumber ⌈chars/4⌉ + 1). O(1): does not parse.
 */
export function numericBinaryMaxBytes(text: string): number {
  return 8 + 2 * (Math.ceil(text.length / 4) + 1);
}

function writeHeader(buf: Buffer, pos: number, ndigits: number, weight: number, sign: number, dscale: number): void {
  buf.writeUInt16BE(ndigits, pos);
  buf.writeInt16BE(weight, pos + 2);
  buf.writeUInt16BE(sign, pos + 4);
  buf.writeUInt16BE(dscale, pos + 6);
}

/**
 * Writes the numeric_recv payload for `text` at buf[pos…] and returns the bytes written
 * (at most numericBinaryMaxBytes(text); the caller guarantees the room).
 *
 * Grammar (what our numeric encoder emits): `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`,
 * or exactly 'NaN', 'Infinity', '-Infinity'. Reproduces numeric_in + make_result:
 *   dscale = max(0, fraction digits − exponent) — the written scale, so '1.50' keeps dscale 2;
 *   leading/trailing zero base-10000 digits are stripped; zero has weight 0 and a positive sign
 *   (so '-0.000' is 0 with dscale 3);
 *   weight outside int16 or dscale > 16383 throws, as numeric_in raises "value overflows numeric format".
 *
 * `typed`: the target column is numeric(p,s). numeric_in applies the typmod (rounding to scale s)
 * *before* make_result checks dscale, so COPY text into numeric(10,2) accepts '0e-20000' or '1.'
 * followed by 20000 zeros, which plain numeric rejects. numeric_recv also rounds to s, but only
 * after refusing a wire dscale above 16383, so for a typed column we clamp dscale to 16383: the
 * value is the same, because recv first truncates to the wire dscale and then rounds to s, and
 * rounding to s (≤ 1000) looks only at the digit right after it, far above 16383.
 */
export function writeNumericBinary(text: string, buf: Buffer, pos: number, typed = false): number {
  const n = text.length;
  let i = 0;
  let neg = false;
  const c0 = n > 0 ? text.charCodeAt(0) : -1;
  if (c0 === 43 || c0 === 45) {
    neg = c0 === 45;
    i = 1;
  }

  // Mantissa: integer digits text[intStart, intEnd), fraction digits text[fracStart, fracEnd).
  const intStart = i;
  while (i < n && isDigit(text.charCodeAt(i))) i++;
  const intEnd = i;
  let fracStart = i;
  let fracEnd = i;
  if (i < n && text.charCodeAt(i) === 46) {
    fracStart = ++i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    fracEnd = i;
  }
  const nInt = intEnd - intStart;
  const nFrac = fracEnd - fracStart;
  if (nInt + nFrac === 0) {
    // No digits: only the special words are allowed (exactly as floatWord spells them).
    if (text === 'NaN') {
      writeHeader(buf, pos, 0, 0, NUMERIC_NAN, 0);
      return 8;
    }
    if (text === 'Infinity') {
      writeHeader(buf, pos, 0, 0, NUMERIC_PINF, NUMERIC_INF_DSCALE);
      return 8;
    }
    if (text === '-Infinity') {
      writeHeader(buf, pos, 0, 0, NUMERIC_NINF, NUMERIC_INF_DSCALE);
      return 8;
    }
    badNumeric(text);
  }

  // Exponent. Accumulated with an early bound so absurd digit strings cannot lose precision.
  let exp = 0;
  if (i < n && (text.charCodeAt(i) === 101 || text.charCodeAt(i) === 69)) {
    i++;
    let eneg = false;
    if (i < n && (text.charCodeAt(i) === 43 || text.charCodeAt(i) === 45)) {
      eneg = text.charCodeAt(i) === 45;
      i++;
    }
    const es = i;
    while (i < n && isDigit(text.charCodeAt(i))) {
      exp = exp * 10 + (text.charCodeAt(i) - 48);
      if (exp > NUMERIC_EXPONENT_MAX) badNumeric(text, 'has an exponent numeric_in rejects (value overflows numeric format)');
      i++;
    }
    if (i === es) badNumeric(text);
    if (eneg) exp = -exp;
  }
  if (i !== n) badNumeric(text);

  // numeric_in: every written fraction digit counts toward the scale; the exponent shifts it.
  let dscale = nFrac - exp;
  if (dscale < 0) dscale = 0;
  if (dscale > NUMERIC_DSCALE_MAX) {
    if (!typed) badNumeric(text, `has display scale ${dscale}; numeric holds at most ${NUMERIC_DSCALE_MAX}`);
    dscale = NUMERIC_DSCALE_MAX; // see `typed` above; digits beyond it are truncated by numeric_recv
  }

  // The digits as one sequence k = 0 … nInt+nFrac−1 (integer digits, then fraction digits).
  // Digit k stands for 10^(nInt − 1 − k + exp). Find the first and last non-zero one.
  const total = nInt + nFrac;
  let k1 = 0;
  while (k1 < total && text.charCodeAt(k1 < nInt ? intStart + k1 : fracStart + k1 - nInt) === 48) k1++;
  if (k1 === total) {
    // Zero: no digits, weight 0, positive sign (numeric has no −0), the written scale kept.
    writeHeader(buf, pos, 0, 0, NUMERIC_POS, dscale);
    return 8;
  }
  let k2 = total - 1;
  while (text.charCodeAt(k2 < nInt ? intStart + k2 : fracStart + k2 - nInt) === 48) k2--;

  const p1 = nInt - 1 - k1 + exp; // decimal power of the first non-zero digit
  const p2 = nInt - 1 - k2 + exp; // … and of the last
  // Base-10000 digit g covers decimal powers 4g … 4g+3, so a power p lies in digit ⌊p/4⌋.
  // After make_result strips zero base-10000 digits, weight is the group of the first non-zero
  // decimal digit and the last group is that of the last non-zero one.
  const weight = Math.floor(p1 / 4);
  const last = Math.floor(p2 / 4);
  if (weight > NUMERIC_WEIGHT_MAX) {
    // numeric_in's make_result refuses it; for a typed column apply_typmod already refused it.
    badNumeric(text, 'is outside the range of numeric (value overflows numeric format)');
  }
  if (weight < NUMERIC_WEIGHT_MIN) {
    // Only reachable for typed columns (untyped: dscale > 16383 threw above). Every digit is far
    // below the typmod's scale, and numeric_recv truncates it away: send the zero it becomes.
    writeHeader(buf, pos, 0, 0, NUMERIC_POS, dscale);
    return 8;
  }
  const ndigits = weight - last + 1;
  writeHeader(buf, pos, ndigits, weight, neg ? NUMERIC_NEG : NUMERIC_POS, dscale);

  // Accumulate decimal digits into base-10000 digits. |p| < 2^31 here (bounded exponent,
  // string length), so `p & 3` is the floor modulo 4 even for negative powers: a group is
  // complete after its units digit (p ≡ 0 mod 4). Leading zeros of the first group come for free.
  let out = pos + 8;
  let acc = 0;
  let p = p1;
  for (let k = k1; k <= k2; k++, p--) {
    acc = acc * 10 + (text.charCodeAt(k < nInt ? intStart + k : fracStart + k - nInt) - 48);
    if ((p & 3) === 0) {
      buf.writeUInt16BE(acc, out);
      out += 2;
      acc = 0;
    }
  }
  const r = p2 & 3;
  if (r !== 0) {
    // The last group stops short of its units digit: the missing low digits are zeros.
    buf.writeUInt16BE(acc * POW10[r], out);
    out += 2;
  }
  return out - pos;
}

/** The numeric_recv payload for `text` (see writeNumericBinary), as a new Buffer. */
export function numericBinary(text: string, typed = false): Buffer {
  const tmp = Buffer.allocUnsafe(numericBinaryMaxBytes(text));
  const len = writeNumericBinary(text, tmp, 0, typed);
  return Buffer.from(tmp.subarray(0, len));
}

// ---------------------------------------------------------------------------------------------
// date / timestamp / timestamptz
//
// Wire forms: date = int32 days since 2000-01-01; timestamp and timestamptz = int64 µs since
// 2000-01-01 00:00:00 (UTC for timestamptz). Text grammars (formatDate / formatNaive /
// formatOffset in src/plan/timestamps.ts, plus '+00'):
//   date         YYYY-MM-DD
//   timestamp    YYYY-MM-DD HH:MM:SS[.f{1,6}]
//   timestamptz  YYYY-MM-DD HH:MM:SS[.f{1,6}](±HH|±HH:MM)
// Years 0001–9999. Like PostgreSQL's input we accept second 60 (it rolls into the next minute)
// and 24:00:00 (the next midnight) as long as the time of day does not pass 24:00:00; the
// arithmetic below simply adds the fields up, which is what tm2timestamp does.

/** daysFromCivil (days since 1970-01-01) of 2000-01-01, PostgreSQL's epoch. */
const PG_EPOCH_DAYS = daysFromCivil(2000, 1, 1); // 10957
const US_PER_DAY = 86_400_000_000n;
const US_PER_DAY_N = 86_400_000_000;
/** Largest offset PostgreSQL accepts: ±15:59 (MAX_TZDISP_HOUR = 15). */
const MAX_OFFSET_HOURS = 15;

function badDateTime(kind: string, text: string, why = `is not canonical ${kind} text`): never {
  throw new Error(`${kind} text ${quote(text)} ${why}`);
}

/** Two or four digits at text[i…], or -1. */
function d2(text: string, i: number): number {
  const a = text.charCodeAt(i) - 48;
  const b = text.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}
function d4(text: string, i: number): number {
  const hi = d2(text, i);
  const lo = d2(text, i + 2);
  return hi < 0 || lo < 0 ? -1 : hi * 100 + lo;
}

/** 'YYYY-MM-DD' at the start of text → days since 2000-01-01 (validated), or throws. */
function parseDatePart(kind: string, text: string): number {
  if (text.length < 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) badDateTime(kind, text);
  const y = d4(text, 0);
  const m = d2(text, 5);
  const d = d2(text, 8);
  if (y < 0 || m < 0 || d < 0) badDateTime(kind, text);
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) badDateTime(kind, text, 'is not a valid date in years 0001–9999');
  return daysFromCivil(y, m, d) - PG_EPOCH_DAYS;
}

// Scratch results of parseTimestamp (module state instead of a returned object: no allocation).
let tsDays = 0;
/** µs into the day, after subtracting the UTC offset: may be negative or exceed one day. */
let tsMicros = 0;

/**
 * Parses timestamp text (with a zone when withZone) into tsDays / tsMicros. For timestamptz the
 * offset (east positive) is subtracted, giving UTC: local time − offset.
 */
function parseTimestamp(kind: string, text: string, withZone: boolean): void {
  const n = text.length;
  tsDays = parseDatePart(kind, text);
  if (n < 19 || text.charCodeAt(10) !== 32 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) {
    badDateTime(kind, text);
  }
  const hh = d2(text, 11);
  const mi = d2(text, 14);
  const ss = d2(text, 17);
  if (hh < 0 || mi < 0 || ss < 0) badDateTime(kind, text);
  let i = 19;
  let frac = 0;
  if (i < n && text.charCodeAt(i) === 46) {
    const fs = ++i;
    while (i < n && isDigit(text.charCodeAt(i))) {
      frac = frac * 10 + (text.charCodeAt(i) - 48);
      i++;
    }
    const nd = i - fs;
    if (nd === 0 || nd > 6) badDateTime(kind, text, 'needs 1–6 fraction digits');
    for (let k = nd; k < 6; k++) frac *= 10; // '.5' = 500000 µs
  }
  // PostgreSQL's checks (time_overflows): hour ≤ 24, minute ≤ 59, second ≤ 60 each, and the
  // whole time of day at most 24:00:00 — so 12:30:60.5 is 12:31:00.5, 23:59:60 and 24:00:00 are
  // the next midnight, but 23:59:60.5 and 24:00:00.000001 are rejected.
  let us = ((hh * 60 + mi) * 60 + ss) * 1_000_000 + frac;
  if (hh > 24 || mi > 59 || ss > 60 || us > US_PER_DAY_N) {
    badDateTime(kind, text, 'has a time of day PostgreSQL rejects (beyond 24:00:00)');
  }
  if (withZone) {
    // '+HH' or '+HH:MM' (or '-'); nothing else.
    const sc = i < n ? text.charCodeAt(i) : -1;
    if (sc !== 43 && sc !== 45) badDateTime(kind, text, 'needs a UTC offset (±HH or ±HH:MM)');
    const oh = d2(text, i + 1);
    let om = 0;
    if (n === i + 3) {
      // ±HH
    } else if (n === i + 6 && text.charCodeAt(i + 3) === 58) {
      om = d2(text, i + 4);
    } else {
      badDateTime(kind, text);
    }
    if (oh < 0 || om < 0) badDateTime(kind, text);
    if (oh > MAX_OFFSET_HOURS || om > 59) badDateTime(kind, text, 'has a UTC offset PostgreSQL rejects');
    const off = (oh * 60 + om) * 60_000_000;
    us += sc === 45 ? off : -off; // UTC = local − offset
  } else if (i !== n) {
    badDateTime(kind, text);
  }
  tsMicros = us;
}

/**
 * Writes tsDays × 1 day + tsMicros as a big-endian int64 without BigInt (hot path).
 * 86 400 000 000 = 42 187 500 × 2^11, so with A = days × 42 187 500 (|A| < 2^47, exact):
 *   total = A × 2^11 + µs = ⌊A / 2^21⌋ × 2^32 + ((A mod 2^21) × 2^11 + µs)
 * where the second term stays below 2^38 in magnitude; its carry goes into the high word.
 */
function writeInt64Parts(days: number, micros: number, buf: Buffer, pos: number): void {
  const a = days * 42_187_500;
  const ah = Math.floor(a / 2_097_152); // 2^21
  const low = (a - ah * 2_097_152) * 2048 + micros;
  const carry = Math.floor(low / 4_294_967_296); // 2^32
  buf.writeInt32BE(ah + carry, pos);
  buf.writeUInt32BE(low - carry * 4_294_967_296, pos + 4);
}

/**
 * The binary form of the commonest date-time text, parsed once: 'YYYY-MM-DD[T ]HH:MM:SS[.f{1,6}]'
 * (T or t or a space), and with `utcSuffix` also that text + 'Z' (timestamptz: naive text is UTC).
 * Writes timestamp[tz]_recv's int64 at `pos` and returns true only where the timestamp converter
 * accepts the text and the canonical text it gives has this very instant (its checks: a real
 * calendar date in years 0001–9999, hour ≤ 23, minute and second ≤ 59); anything else returns
 * false, writes nothing, and goes the converter's way (its rejects and their reasons).
 */
export function writeIsoTimestampFast(s: string, utcSuffix: boolean, buf: Buffer, pos: number): boolean {
  let n = s.length;
  if (utcSuffix && n > 19) {
    const z = s.charCodeAt(n - 1);
    if (z === 90 || z === 122) n--;
  }
  if (!scanIsoDateTime(s, n, true)) return false;
  const p = isoScan;
  writeInt64Parts(daysFromCivil(p.year, p.month, p.day) - PG_EPOCH_DAYS, ((p.hour * 60 + p.minute) * 60 + p.second) * 1_000_000 + p.micros, buf, pos);
  return true;
}

/** Writes timestamp_recv's int64 for 'YYYY-MM-DD HH:MM:SS[.f{1,6}]'; returns 8. */
export function writeTimestampBinary(text: string, buf: Buffer, pos: number): number {
  parseTimestamp('timestamp', text, false);
  writeInt64Parts(tsDays, tsMicros, buf, pos);
  return 8;
}

/** Writes timestamptz_recv's int64 (UTC) for 'YYYY-MM-DD HH:MM:SS[.f{1,6}]' + '±HH[:MM]'; returns 8. */
export function writeTimestamptzBinary(text: string, buf: Buffer, pos: number): number {
  parseTimestamp('timestamptz', text, true);
  writeInt64Parts(tsDays, tsMicros, buf, pos);
  return 8;
}

/** Writes date_recv's int32 for 'YYYY-MM-DD'; returns 4. */
export function writeDateBinary(text: string, buf: Buffer, pos: number): number {
  buf.writeInt32BE(dateDays(text), pos);
  return 4;
}

/** timestamp (without time zone): µs since 2000-01-01 00:00:00, from 'YYYY-MM-DD HH:MM:SS[.f{1,6}]'. */
export function timestampMicros(text: string): bigint {
  parseTimestamp('timestamp', text, false);
  return BigInt(tsDays) * US_PER_DAY + BigInt(tsMicros);
}

/** timestamptz: UTC µs since 2000-01-01 00:00:00+00, from 'YYYY-MM-DD HH:MM:SS[.f{1,6}]' + '+00' or '±HH:MM'. */
export function timestamptzMicros(text: string): bigint {
  parseTimestamp('timestamptz', text, true);
  return BigInt(tsDays) * US_PER_DAY + BigInt(tsMicros);
}

/** date: days since 2000-01-01, from 'YYYY-MM-DD'. */
export function dateDays(text: string): number {
  if (text.length !== 10) badDateTime('date', text);
  return parseDatePart('date', text);
}
