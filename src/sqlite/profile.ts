// Column value profiles: storage-class counts and shape facts, from ONE scan of a table.
//
// Every column contributes one result column: a '|'-joined string of aggregates (so that wide
// tables stay under SQLite's 2000-result-column limit; tables wider than PER_SCAN columns are
// profiled in a few scans). Integers travel as decimal text, so 64-bit values stay exact.
import type Database from 'better-sqlite3';
import type { ColumnProfile, SqliteColumn } from './types';

/** Columns per SELECT (each yields one result column). */
const PER_SCAN = 1500;

export function quoteIdent(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}

const D = '[0-9]';
const H = '[0-9a-fA-F]';
const DATE_GLOB = `${D}${D}${D}${D}-${D}${D}-${D}${D}`;
const DATETIME_PREFIX = `${DATE_GLOB}[Tt ]${D}${D}:${D}${D}*`;
const COMPACT_GLOB = D.repeat(14);
const UUID36 = `${H.repeat(8)}-${H.repeat(4)}-${H.repeat(4)}-${H.repeat(4)}-${H.repeat(12)}`;
const UUID32 = H.repeat(32);

/** True when the declared type carries a precision, e.g. DECIMAL(10,2): scale is then measured exactly. */
function hasPrecision(declared: string): boolean {
  return /\(\s*\d+/.test(declared);
}

/**
 * The aggregate expressions of one column, in FIELDS order, joined with '|'.
 * Counts use count(CASE … THEN 1 END) so they are never NULL on an empty table.
 */
function columnExpr(col: SqliteColumn): string {
  const q = quoteIdent(col.name);
  const isText = `typeof(${q})='text'`;
  const isReal = `typeof(${q})='real'`;
  const cnt = (cond: string) => `count(CASE WHEN ${cond} THEN 1 END)`;
  const zoned = `(${q} GLOB '*[Zz]' OR ${q} GLOB '*[+-]${D}${D}:${D}${D}' OR ${q} GLOB '*[+-]${D}${D}${D}${D}' OR ${q} GLOB '*${D}[+-]${D}${D}')`;
  const looksDateTime = `${isText} AND substr(${q},5,1)='-' AND ${q} GLOB '${DATETIME_PREFIX}'`;
  // A numeric literal stored as text: JSON number syntax (strict; '+1', '.5', '007' do not count).
  const numText = `${isText} AND ${q} GLOB '[0-9-]*' AND ${q} GLOB '*[0-9]' AND json_valid(${q})`;
  // Digits after the point of a real: the smallest k with round(x,k) = x, i.e. the scale of its
  // shortest round-trip decimal. Exact up to 17 for DECIMAL(p,s) columns; elsewhere measured
  // up to 6 and reported as 17 beyond (an upper bound, to keep the scan cheap).
  const maxK = hasPrecision(col.declaredType) ? 17 : 6;
  const rounds: string[] = [];
  for (let k = 1; k <= maxK; k++) rounds.push(`WHEN round(${q},${k})=${q} THEN ${k}`);
  const realScale = `CASE WHEN ${q}=CAST(${q} AS INTEGER) THEN 0 ${rounds.join(' ')} ELSE ${maxK === 17 ? 1000 : 17} END`;
  const realIntDigits =
    `CASE WHEN abs(${q}) < 1 THEN 0 WHEN abs(${q}) < 9e18 THEN length(CAST(CAST(abs(${q}) AS INTEGER) AS TEXT)) ` +
    `WHEN abs(${q}) < 1.8e308 THEN length(printf('%.0f', abs(${q}))) ELSE 100000 END`;
  const u = `ltrim(${q},'-')`;
  const dot = `instr(${q},'.')`;
  const textIntDigits = `CASE WHEN instr(lower(${q}),'e')>0 THEN 100000 WHEN ${dot}>0 THEN length(ltrim(substr(${u},1,instr(${u},'.')-1),'0')) ELSE length(ltrim(${u},'0')) END`;
  const textScale = `CASE WHEN instr(lower(${q}),'e')>0 THEN 100000 WHEN ${dot}>0 THEN length(rtrim(substr(${q},${dot}+1),'0')) ELSE 0 END`;
  const parts = [
    `count(${q})`,
    cnt(`typeof(${q})='integer'`),
    cnt(isReal),
    cnt(isText),
    cnt(`typeof(${q})='blob'`),
    `ifnull(min(CASE WHEN typeof(${q})='integer' THEN ${q} END),'')`,
    `ifnull(max(CASE WHEN typeof(${q})='integer' THEN ${q} END),'')`,
    cnt(`${isText} AND substr(ltrim(${q},' '||char(9,10,13)),1,1) IN ('{','[') AND json_valid(${q})`),
    cnt(`${isText} AND length(${q}) IN (32,36) AND (${q} GLOB '${UUID36}' OR ${q} GLOB '${UUID32}')`),
    // naive ISO date-time: prefix, then only digits ':' '.' — or the compact YYYYMMDDHHMMSS form
    cnt(`(${looksDateTime} AND substr(${q},17) NOT GLOB '*[^0-9:.]*') OR (${isText} AND length(${q})=14 AND ${q} GLOB '${COMPACT_GLOB}')`),
    cnt(`${looksDateTime} AND ${zoned}`),
    cnt(`${isText} AND length(${q})=10 AND ${q} GLOB '${DATE_GLOB}'`),
    `ifnull(max(CASE WHEN ${isText} THEN length(${q}) END),0)`,
    cnt(numText),
    cnt(`${isReal} AND ${q}=CAST(${q} AS INTEGER)`),
    `ifnull(max(CASE WHEN ${isReal} THEN ${realScale} WHEN ${numText} THEN ${textScale} END),0)`,
    `ifnull(max(CASE WHEN ${isReal} THEN ${realIntDigits} WHEN ${numText} THEN ${textIntDigits} END),0)`,
    cnt(`${isText} AND length(${q})<=5 AND lower(${q}) IN ('0','1','t','f','true','false','yes','no','y','n','on','off')`),
    cnt(`typeof(${q})='blob' AND length(${q})=16`),
    `ifnull(min(CASE WHEN ${isReal} THEN ${q} END),'')`,
    `ifnull(max(CASE WHEN ${isReal} THEN ${q} END),'')`,
  ];
  return parts.join(" || '|' || ");
}

/** SQLite's text of a REAL back to a number ('Inf' / '-Inf' included). */
function realOf(t: string): number | null {
  if (t === '') return null;
  if (t === 'Inf') return Infinity;
  if (t === '-Inf') return -Infinity;
  return Number(t);
}

function digitsOf(decimal: string): number {
  return decimal.replace(/^-/, '').length;
}

function parseProfile(rows: number, packed: string): ColumnProfile {
  const f = packed.split('|');
  const nonNull = Number(f[0]);
  const integers = Number(f[1]);
  const minInteger = f[5] === '' ? null : f[5];
  const maxInteger = f[6] === '' ? null : f[6];
  let maxIntDigits = Number(f[16]);
  if (minInteger !== null && maxInteger !== null) {
    maxIntDigits = Math.max(maxIntDigits, digitsOf(minInteger), digitsOf(maxInteger));
  }
  const maxScale = Number(f[15]);
  return {
    rows,
    nulls: rows - nonNull,
    integers,
    reals: Number(f[2]),
    texts: Number(f[3]),
    blobs: Number(f[4]),
    minInteger,
    maxInteger,
    zeroOne: nonNull > 0 && integers === nonNull && BigInt(minInteger!) >= 0n && BigInt(maxInteger!) <= 1n,
    jsonTexts: Number(f[7]),
    uuidTexts: Number(f[8]),
    isoNaiveTexts: Number(f[9]),
    isoZonedTexts: Number(f[10]),
    dateTexts: Number(f[11]),
    maxTextLength: Number(f[12]),
    numericTexts: Number(f[13]),
    wholeReals: Number(f[14]),
    maxScale,
    maxPrecision: maxIntDigits + maxScale,
    booleanTexts: Number(f[17]),
    uuidBlobs: Number(f[18]),
    minReal: realOf(f[19]),
    maxReal: realOf(f[20]),
  };
}

/**
 * Profiles every column of `table` in one scan (a single SELECT of aggregates; several only
 * for tables wider than 1500 columns). `db` is opened with safeIntegers(true).
 */
export function profileTable(
  db: Database.Database,
  table: string,
  columns: SqliteColumn[],
): Record<string, ColumnProfile> {
  const out: Record<string, ColumnProfile> = {};
  if (columns.length === 0) return out;
  for (let start = 0; start < columns.length; start += PER_SCAN) {
    const group = columns.slice(start, start + PER_SCAN);
    const sql = `SELECT count(*), ${group.map((c) => columnExpr(c)).join(', ')} FROM ${quoteIdent(table)}`;
    const row = db.prepare(sql).raw(true).get() as unknown[];
    const rows = Number(row[0] as bigint | number);
    group.forEach((c, i) => {
      out[c.name] = parseProfile(rows, String(row[i + 1]));
    });
  }
  return out;
}
