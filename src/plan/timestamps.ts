// Date/time text parsing and exact epoch arithmetic for the timestamp converters.
// Everything here is exact: calendar validation by hand, epochs with bigint, no Date objects.

export interface DateTimeParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** Fraction of a second, 0–6 digits (digits beyond µs were zeros and are dropped). */
  frac: string;
  /** The text had a time of day. */
  hasTime: boolean;
  /** UTC offset in minutes (east positive), or null for naive text. */
  offsetMinutes: number | null;
  /** The zone exactly as written ('Z', '+02:00', '-0530', …), or null. */
  zoneText: string | null;
}

const MAX_OFFSET_MINUTES = 15 * 60 + 59; // PostgreSQL: "time zone displacement out of range" beyond ±15:59

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const MONTH_NAMES = [
  'January', 'February', 'March', 'April', 'May', 'June',
  'July', 'August', 'September', 'October', 'November', 'December',
];

export function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeapYear(y) ? 29 : MONTH_DAYS[m - 1];
}

function digitsAt(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k);
    if (!(c >= 48 && c <= 57)) return -1;
    v = v * 10 + (c - 48);
  }
  return v;
}

function pad(n: number, w: number): string {
  const t = String(n);
  return t.length >= w ? t : '0'.repeat(w - t.length) + t;
}

/** Fields of the text scanIsoDateTime last accepted (one object, reused: the hot paths allocate nothing). */
export const isoScan = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, micros: 0 };

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The commonest date-time shape, 'YYYY-MM-DD HH:MM:SS[.f{1,6}]' in s[0, n) (with `anySeparator` also
 * 'T' or 't' for the space), with every field in range — a real date in years 0001–9999, hour ≤ 23,
 * minute and second ≤ 59 — into isoScan; false for anything else. These are texts parseDateTimeText
 * accepts, and it gives the same fields for them: the fast paths of the binary COPY writers and of
 * the checksums' canonical form, which fall back to it on false.
 */
export function scanIsoDateTime(s: string, n: number, anySeparator: boolean): boolean {
  if (n < 19 || n === 20 || n > 26) return false;
  if (s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45 || s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58) return false;
  const sep = s.charCodeAt(10);
  if (sep !== 32 && !(anySeparator && (sep === 84 || sep === 116))) return false;
  const y1 = twoDigits(s, 0);
  const y2 = twoDigits(s, 2);
  const month = twoDigits(s, 5);
  const day = twoDigits(s, 8);
  const hour = twoDigits(s, 11);
  const minute = twoDigits(s, 14);
  const second = twoDigits(s, 17);
  if (y1 < 0 || y2 < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  const year = y1 * 100 + y2;
  if (year === 0 || day > daysInMonth(year, month)) return false;
  let micros = 0;
  if (n > 19) {
    if (s.charCodeAt(19) !== 46) return false;
    for (let i = 20; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) return false;
      micros = micros * 10 + (c - 48);
    }
    for (let k = n - 20; k < 6; k++) micros *= 10;
  }
  isoScan.year = year;
  isoScan.month = month;
  isoScan.day = day;
  isoScan.hour = hour;
  isoScan.minute = minute;
  isoScan.second = second;
  isoScan.micros = micros;
  return true;
}

/**
 * Parses ISO-8601-ish date/time text as applications write it into SQLite:
 * `YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:MM[:SS[.f…]]` with an optional zone
 * (`Z`, `±HH`, `±HHMM`, `±HH:MM`, optionally after one space), and `YYYYMMDDHHMMSS`.
 * Returns the parts, or a sentence saying why the text is not an exact date/time.
 */
export function parseDateTimeText(s: string): DateTimeParts | string {
  const n = s.length;
  // Built only on failure: the copy parses every date/time text of a column through here.
  const bad = () => `text ${quote(s)} is not an ISO-8601 date/time`;
  let year: number, month: number, day: number;
  let hour = 0, minute = 0, second = 0;
  let frac = '';
  let hasTime = false;
  let offsetMinutes: number | null = null;
  let zoneText: string | null = null;
  if (n === 14 && digitsAt(s, 0, 14) >= 0) {
    year = digitsAt(s, 0, 4);
    month = digitsAt(s, 4, 2);
    day = digitsAt(s, 6, 2);
    hour = digitsAt(s, 8, 2);
    minute = digitsAt(s, 10, 2);
    second = digitsAt(s, 12, 2);
    hasTime = true;
  } else {
    if (n < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return bad();
    year = digitsAt(s, 0, 4);
    month = digitsAt(s, 5, 2);
    day = digitsAt(s, 8, 2);
    if (year < 0 || month < 0 || day < 0) return bad();
    let i = 10;
    if (i < n) {
      const sep = s.charCodeAt(i);
      if (sep !== 84 && sep !== 116 && sep !== 32) return bad(); // T t space
      i++;
      hour = digitsAt(s, i, 2);
      if (hour < 0 || s.charCodeAt(i + 2) !== 58) return bad();
      minute = digitsAt(s, i + 3, 2);
      if (minute < 0) return bad();
      i += 5;
      hasTime = true;
      if (i < n && s.charCodeAt(i) === 58) {
        second = digitsAt(s, i + 1, 2);
        if (second < 0) return bad();
        i += 3;
        if (i < n && s.charCodeAt(i) === 46) {
          const fs = ++i;
          while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
          if (i === fs) return bad();
          frac = s.slice(fs, i);
          if (frac.length > 6) {
            const extra = frac.slice(6);
            for (let k = 0; k < extra.length; k++) {
              if (extra.charCodeAt(k) !== 48) {
                return `text ${quote(s)} has ${frac.length} fractional digits; PostgreSQL keeps microseconds (6) and would round it`;
              }
            }
            frac = frac.slice(0, 6);
          }
        }
      }
      if (i < n) {
        let zs = i;
        if (s.charCodeAt(zs) === 32) zs++;
        const z = s.slice(zs);
        const zc = z.charCodeAt(0);
        if (z === 'Z' || z === 'z') {
          offsetMinutes = 0;
        } else if (zc === 43 || zc === 45) {
          let oh: number, om = 0;
          if (z.length === 3) oh = digitsAt(z, 1, 2);
          else if (z.length === 5) {
            oh = digitsAt(z, 1, 2);
            om = digitsAt(z, 3, 2);
          } else if (z.length === 6 && z.charCodeAt(3) === 58) {
            oh = digitsAt(z, 1, 2);
            om = digitsAt(z, 4, 2);
          } else return bad();
          if (oh < 0 || om < 0 || om > 59) return bad();
          const total = oh * 60 + om;
          if (total > MAX_OFFSET_MINUTES) return `text ${quote(s)} has a UTC offset beyond ±15:59, which PostgreSQL rejects`;
          offsetMinutes = zc === 45 ? -total : total;
        } else return bad();
        zoneText = z;
      }
    }
  }
  if (year === 0) return `text ${quote(s)} has year 0000, which does not exist in PostgreSQL's calendar`;
  if (month < 1 || month > 12) return `text ${quote(s)} has month ${pad(month, 2)}, which does not exist`;
  const dim = daysInMonth(year, month);
  if (day < 1 || day > dim) {
    return `text ${quote(s)} is not a valid date (${MONTH_NAMES[month - 1]} ${year} has ${dim} days)`;
  }
  if (hour > 23) return `text ${quote(s)} has hour ${hour}; PostgreSQL would roll it into the next day`;
  if (minute > 59) return `text ${quote(s)} has minute ${minute}, which does not exist`;
  if (second > 59) {
    return second === 60
      ? `text ${quote(s)} is a leap second; PostgreSQL would roll it into the next minute`
      : `text ${quote(s)} has second ${second}, which does not exist`;
  }
  return { year, month, day, hour, minute, second, frac, hasTime, offsetMinutes, zoneText };
}

function quote(s: string): string {
  const t = s.length > 40 ? s.slice(0, 40) + '…' : s;
  return `'${t.replace(/\0/g, '\\0')}'`;
}

export function formatDate(p: { year: number; month: number; day: number }): string {
  return `${pad(p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
}

/** 'YYYY-MM-DD HH:MM:SS[.ffffff]' (trailing zeros of the fraction kept as written). */
export function formatNaive(p: DateTimeParts): string {
  return (
    `${formatDate(p)} ${pad(p.hour, 2)}:${pad(p.minute, 2)}:${pad(p.second, 2)}` + (p.frac ? '.' + p.frac : '')
  );
}

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const a = Math.abs(minutes);
  return `${sign}${pad(Math.floor(a / 60), 2)}:${pad(a % 60, 2)}`;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): { year: number; month: number; day: number } {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

const US_PER_DAY = 86_400_000_000n;
/** First and last day (since 1970) we emit: years 0001–9999. */
const MIN_DAY = BigInt(daysFromCivil(1, 1, 1));
const MAX_DAY = BigInt(daysFromCivil(9999, 12, 31));

/**
 * Microseconds since 1970-01-01 00:00 UTC → parts (UTC), or null when outside years 0001–9999.
 * Exact for every input (bigint arithmetic, floor division for negative epochs).
 */
export function partsFromUnixMicros(us: bigint): DateTimeParts | null {
  let days = us / US_PER_DAY;
  let rem = us - days * US_PER_DAY;
  if (rem < 0n) {
    rem += US_PER_DAY;
    days -= 1n;
  }
  if (days < MIN_DAY || days > MAX_DAY) return null;
  const { year, month, day } = civilFromDays(Number(days));
  const r = Number(rem);
  const micros = r % 1_000_000;
  const secs = (r - micros) / 1_000_000;
  let frac = '';
  if (micros !== 0) frac = pad(micros, 6).replace(/0+$/, '');
  return {
    year,
    month,
    day,
    hour: Math.floor(secs / 3600),
    minute: Math.floor(secs / 60) % 60,
    second: secs % 60,
    frac,
    hasTime: true,
    offsetMinutes: null,
    zoneText: null,
  };
}

/** Julian day number of 1970-01-01 00:00 UTC, in milliseconds (2440587.5 × 86400000). */
const JD_UNIX_EPOCH_MS = 210_866_760_000_000;

/**
 * A Julian day REAL (what SQLite's julianday() returns) → Unix microseconds.
 * SQLite itself resolves Julian days to whole milliseconds (iJD = r*86400000 + 0.5),
 * so that is the precision we keep: the result is what SQLite's datetime(r) means,
 * to the millisecond. Returns null for non-finite or negative values.
 */
export function julianDayToUnixMicros(jd: number): bigint | null {
  if (!Number.isFinite(jd) || jd < 0) return null;
  const ijd = Math.floor(jd * 86_400_000 + 0.5);
  if (!Number.isSafeInteger(ijd)) return null;
  return BigInt(ijd - JD_UNIX_EPOCH_MS) * 1000n;
}
