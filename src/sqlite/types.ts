// What introspection reads from a SQLite file, before any mapping decision.

/** A value as better-sqlite3 returns it with safeIntegers on. */
export type SqliteValue = null | bigint | number | string | Buffer;

export interface SqliteColumn {
  name: string;
  /** Declared type exactly as written (may be empty). */
  declaredType: string;
  notNull: boolean;
  /** DEFAULT clause as SQLite stores it (SQL text), or null. */
  defaultSql: string | null;
  /** 1-based position in the primary key, 0 when not part of it. */
  pkIndex: number;
  /** 0 normal, 1 hidden (virtual tables), 2 generated VIRTUAL, 3 generated STORED. */
  hidden: number;
  /** Collation named in the column definition, if any (e.g. NOCASE). */
  collation: string | null;
}

/** Storage-class counts and shape facts for one column, from one scan of the table. */
export interface ColumnProfile {
  rows: number;
  nulls: number;
  integers: number;
  reals: number;
  texts: number;
  blobs: number;
  /** Smallest and largest integer value (decimal strings), when integers > 0. */
  minInteger: string | null;
  maxInteger: string | null;
  /** Every non-null value is the integer 0 or 1. */
  zeroOne: boolean;
  /** Text values that look like JSON objects/arrays and parse. */
  jsonTexts: number;
  /** Text values shaped like a UUID. */
  uuidTexts: number;
  /** Text values shaped like an ISO date/time without zone, with zone, or a bare date. */
  isoNaiveTexts: number;
  isoZonedTexts: number;
  dateTexts: number;
  /** Longest text, in characters. */
  maxTextLength: number;
  /** Numeric-literal texts (a number stored as text). */
  numericTexts: number;
  /** Real values that are whole numbers. */
  wholeReals: number;
  /**
   * Largest number of digits after the decimal point / total digits seen in numeric values.
   * maxPrecision = (most digits before the point) + maxScale: the smallest p such that
   * numeric(p, maxScale) holds every value (reals measured by their shortest round-trip decimal).
   */
  maxScale: number;
  maxPrecision: number;
  /** Texts that read as booleans: 0/1, t/f, true/false, yes/no, y/n, on/off (any case). */
  booleanTexts?: number;
  /** Blobs of exactly 16 bytes (binary UUIDs). */
  uuidBlobs?: number;
}
