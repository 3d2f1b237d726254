// Column value profiles: storage-class counts and shape facts, from ONE scan of a table.
//
// Every column contributes one result column: a '|'-joined string of its aggregates. Integers
// travel as decimal text, so 64-bit values stay exact. SQLite caps one SELECT at 2000 aggregate
// terms, so tables wider than PER_SCAN columns are profiled in a few scans.
import type Database from 'better-sqlite3';
import type { ColumnProfile, SqliteColumn } from './types';

/**
 * Columns per SELECT. SQLite allows at most 2000 aggregate terms in one SELECT and a column
 * uses at most 12, so tables wider than this are profiled in ceil(n / PER_SCAN) scans.
 */
const AGGREGATES_PER_COLUMN = 12;
const PER_SCAN = Math.floor(1990 / AGGREGATES_PER_COLUMN);

/** Two counts in one sum(): low lane + high lane × 2^32 (exact while a table has < 2^31 rows). */
const LANE = 4294967296;

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

/**
 * Whether decimal scale/precision are measured exactly for this column: names with NUMERIC
 * affinity that are not a date/boolean/JSON/UUID name (DECIMAL(p,s), NUMERIC, MONEY, …) and
 * columns without a declared type. Elsewhere (INTEGER, REAL, TEXT, …) nothing depends on
 * them and they are reported as cheap upper bounds.
 */
function measuresScale(declared: string): boolean {
  const t = declared.toUpperCase();
  if (t.trim() === '') return true;
  if (/INT|CHAR|CLOB|TEXT|BLOB|REAL|FLOA|DOUB/.test(t)) return false;
  return !/BOOL|DATE|TIME|JSON|UUID|GUID/.test(t);
}

/**
 * The aggregate expressions of one column, joined with '|' into one result column.
 * Field order is what parseProfile reads.
 */
function columnExpr(col: SqliteColumn): { expr: string; exact: boolean } {
  const q = quoteIdent(col.name);
  const exact = measuresScale(col.declaredType);
  // A numeric literal stored as text: JSON number syntax (strict; '+1', '.5', '007' do not count).
  const numText = `(${q} GLOB '[0-9-]*' AND ${q} GLOB '*[0-9]' AND json_valid(${q}))`;
  const zoned =
    `(substr(${q},-1) IN ('Z','z') OR substr(${q},-6) GLOB '[+-]${D}${D}:${D}${D}' ` +
    `OR substr(${q},-5) GLOB '[+-]${D}${D}${D}${D}' OR substr(${q},-4) GLOB '${D}[+-]${D}${D}')`;
  const parts = [
    // 0: non-null values
    `count(${q})`,
    // 1: integers | reals << 32
    `ifnull(sum(CASE typeof(${q}) WHEN 'integer' THEN 1 WHEN 'real' THEN ${LANE} ELSE 0 END),0)`,
    // 2: blobs | 16-byte blobs << 32
    `ifnull(sum(CASE WHEN typeof(${q})='blob' THEN 1 + (length(${q})=16) * ${LANE} ELSE 0 END),0)`,
    // 3, 4: integer range (decimal text: exact)
    `ifnull(min(CASE WHEN typeof(${q})='integer' THEN ${q} END),'')`,
    `ifnull(max(CASE WHEN typeof(${q})='integer' THEN ${q} END),'')`,
    // 5: whole reals (within int64) | numeric texts << 32
    `ifnull(sum(CASE typeof(${q}) WHEN 'real' THEN ${q}=CAST(${q} AS INTEGER) WHEN 'text' THEN ${numText} * ${LANE} ELSE 0 END),0)`,
    // 6: JSON objects/arrays that parse | UUID-shaped << 32
    `ifnull(sum(CASE WHEN typeof(${q})='text' THEN ` +
      `(substr(ltrim(${q},' '||char(9,10,13)),1,1) IN ('{','[') AND json_valid(${q})) + ` +
      `(length(${q}) IN (32,36) AND (${q} GLOB '${UUID36}' OR ${q} GLOB '${UUID32}')) * ${LANE} ELSE 0 END),0)`,
    // 7: naive ISO date-times (incl. YYYYMMDDHHMMSS) | zoned << 32
    `ifnull(sum(CASE WHEN typeof(${q})='text' THEN CASE ` +
      `WHEN substr(${q},5,1)='-' AND ${q} GLOB '${DATETIME_PREFIX}' THEN ` +
      `CASE WHEN ${zoned} THEN ${LANE} WHEN substr(${q},17) NOT GLOB '*[^0-9:.]*' THEN 1 ELSE 0 END ` +
      `WHEN length(${q})=14 AND ${q} GLOB '${COMPACT_GLOB}' THEN 1 ELSE 0 END ELSE 0 END),0)`,
    // 8: bare dates | boolean words << 32
    `ifnull(sum(CASE WHEN typeof(${q})='text' AND length(${q}) <= 10 THEN ` +
      `(length(${q})=10 AND ${q} GLOB '${DATE_GLOB}') + ` +
      `(lower(${q}) IN ('0','1','t','f','true','false','yes','no','y','n','on','off')) * ${LANE} ELSE 0 END),0)`,
    // 9: longest text
    `ifnull(max(CASE WHEN typeof(${q})='text' THEN length(${q}) END),0)`,
  ];
  if (exact) {
    // Digits after the point of a real: the smallest k with round(x,k) = x, i.e. the scale of
    // its shortest round-trip decimal (1000 beyond 17: no numeric(p,s) is chosen then).
    const rounds: string[] = [];
    for (let k = 1; k <= 17; k++) rounds.push(`WHEN round(${q},${k})=${q} THEN ${k}`);
    const realScale = `CASE WHEN ${q}=CAST(${q} AS INTEGER) THEN 0 ${rounds.join(' ')} ELSE 1000 END`;
    const realIntDigits =
      `CASE WHEN abs(${q}) < 1 THEN 0 WHEN abs(${q}) < 9e18 THEN length(CAST(CAST(abs(${q}) AS INTEGER) AS TEXT)) ` +
      `WHEN abs(${q}) < 1.8e308 THEN length(printf('%.0f', abs(${q}))) ELSE 100000 END`;
    const u = `ltrim(${q},'-')`;
    const dot = `instr(${q},'.')`;
    const textIntDigits = `CASE WHEN instr(lower(${q}),'e')>0 THEN 100000 WHEN ${dot}>0 THEN length(ltrim(substr(${u},1,instr(${u},'.')-1),'0')) ELSE length(ltrim(${u},'0')) END`;
    const textScale = `CASE WHEN instr(lower(${q}),'e')>0 THEN 100000 WHEN ${dot}>0 THEN length(rtrim(substr(${q},${dot}+1),'0')) ELSE 0 END`;
    // 10, 11: max scale, max digits before the point (reals and numeric texts)
    parts.push(`ifnull(max(CASE typeof(${q}) WHEN 'real' THEN ${realScale} WHEN 'text' THEN CASE WHEN ${numText} THEN ${textScale} END END),0)`);
    parts.push(`ifnull(max(CASE typeof(${q}) WHEN 'real' THEN ${realIntDigits} WHEN 'text' THEN CASE WHEN ${numText} THEN ${textIntDigits} END END),0)`);
  }
  return { expr: parts.join(" || '|' || "), exact };
}

function digitsOf(decimal: string): number {
  return decimal.replace(/^-/, '').length;
}

function lanes(field: string): [number, number] {
  const v = BigInt(field === '' ? '0' : field);
  return [Number(v % BigInt(LANE)), Number(v / BigInt(LANE))];
}

function parseProfile(rows: number, packed: string, exact: boolean): ColumnProfile {
  const f = packed.split('|');
  const nonNull = Number(f[0]);
  const [integers, reals] = lanes(f[1]);
  const [blobs, uuidBlobs] = lanes(f[2]);
  const texts = nonNull - integers - reals - blobs;
  const minInteger = f[3] === '' ? null : f[3];
  const maxInteger = f[4] === '' ? null : f[4];
  const [wholeReals, numericTexts] = lanes(f[5]);
  const [jsonTexts, uuidTexts] = lanes(f[6]);
  const [isoNaiveTexts, isoZonedTexts] = lanes(f[7]);
  const [dateTexts, booleanTexts] = lanes(f[8]);
  let maxScale: number;
  let maxIntDigits: number;
  if (exact) {
    maxScale = Number(f[10]);
    maxIntDigits = Number(f[11]);
  } else {
    // Upper bounds (nothing maps these columns to numeric(p,s)): 17 fractional digits for any
    // fractional real or numeric text, 309 integer digits for reals and numeric texts.
    maxScale = reals > wholeReals || numericTexts > 0 ? 17 : 0;
    maxIntDigits = reals > 0 || numericTexts > 0 ? 309 : 0;
  }
  if (minInteger !== null && maxInteger !== null) {
    maxIntDigits = Math.max(maxIntDigits, digitsOf(minInteger), digitsOf(maxInteger));
  }
  return {
    rows,
    nulls: rows - nonNull,
    integers,
    reals,
    texts,
    blobs,
    minInteger,
    maxInteger,
    zeroOne: nonNull > 0 && integers === nonNull && BigInt(minInteger!) >= 0n && BigInt(maxInteger!) <= 1n,
    jsonTexts,
    uuidTexts,
    isoNaiveTexts,
    isoZonedTexts,
    dateTexts,
    maxTextLength: Number(f[9]),
    numericTexts,
    wholeReals,
    maxScale,
    maxPrecision: maxIntDigits + maxScale,
    booleanTexts,
    uuidBlobs,
  };
}

/**
 * Profiles every column of `table` in one scan (a single SELECT of aggregates; several only
 * for tables wider than 94 columns). `db` is opened with safeIntegers(true).
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
    const exprs = group.map((c) => columnExpr(c));
    const sql = `SELECT count(*), ${exprs.map((e) => e.expr).join(', ')} FROM ${quoteIdent(table)}`;
    const row = db.prepare(sql).raw(true).get() as unknown[];
    const rows = Number(row[0] as bigint | number);
    group.forEach((c, i) => {
      out[c.name] = parseProfile(rows, String(row[i + 1]), exprs[i].exact);
    });
  }
  return out;
}
