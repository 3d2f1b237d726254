// Binary COPY writers for one column: the same values, rejects and reasons as the text encoders.
//
// Why binary: PostgreSQL parses a double, an integer or a timestamp from text far slower than it
// takes 8 bytes (COPY FROM of the bench's 2M-row candles table: 1.9 s text, 1.0 s binary), and
// String(double) was a fifth of a copy thread's time.
//
// Exactness by construction: each writer has a fast path only for values whose text form is
// trivially the same value (a bigint in range, a double, a 0/1 boolean, a 16-byte blob); every
// other value goes through the column's text encoder, which rejects exactly what the text path
// rejects (with the same reason), and the canonical text it returns is turned into the binary
// form PostgreSQL's own text input would have produced. A column whose type has no binary writer
// here makes its table use text COPY: there is no per-value fallback inside one COPY stream.
import type { ColumnPlan, ConverterSpec } from '../types';
import { RejectedValue, storageClass, type Encoder } from '../plan/convert';
import { numericBinaryMaxBytes, writeDateBinary, writeIsoTimestampFast, writeNumericBinary, writeTimestampBinary, writeTimestamptzBinary } from '../postgres/binary-values';
import type { SqliteValue } from '../sqlite/types';
import { hasLoneSurrogate, unescapeCopyText } from '../plan/copy-text';
import type { BinaryRows } from './binary-rows';

export type FieldWriter = (v: SqliteValue, out: BinaryRows) => void;

const NULL_FIELD = '\\N';

const INT_TYPES: Record<16 | 32 | 64, readonly string[]> = {
  16: ['smallint', 'int2'],
  32: ['integer', 'int', 'int4'],
  64: ['bigint', 'int8'],
};

/** Does the target column's type take exactly what this converter's binary writer sends? */
function typeMatches(spec: ConverterSpec, pgType: string): boolean {
  const t = pgType.trim().toLowerCase();
  switch (spec.kind) {
    case 'integer':
      return INT_TYPES[spec.bits].includes(t);
    case 'float':
      return t === 'double precision' || t === 'float8';
    case 'boolean':
      return t === 'boolean' || t === 'bool';
    case 'text':
      if (spec.maxLength === undefined) return t === 'text';
      return t === `varchar(${spec.maxLength})` || t === `character varying(${spec.maxLength})`;
    case 'jsonb':
      return t === 'jsonb';
    case 'uuid':
      return t === 'uuid';
    case 'bytea':
      return t === 'bytea';
    case 'numeric':
      if (spec.precision === undefined) return t === 'numeric';
      return t === `numeric(${spec.precision},${spec.scale ?? 0})` || (spec.scale === undefined && t === `numeric(${spec.precision})`);
    case 'timestamp':
      return TIMESTAMP.includes(t);
    case 'timestamptz':
      return TIMESTAMPTZ.includes(t);
    case 'epoch':
      return (spec.tz ? TIMESTAMPTZ : TIMESTAMP).includes(t);
    case 'date':
      return t === 'date';
    default:
      return false;
  }
}

const TIMESTAMP = ['timestamp', 'timestamp without time zone'];
const TIMESTAMPTZ = ['timestamptz', 'timestamp with time zone'];

function int64Writer(text: Encoder): FieldWriter {
  return (v, out) => {
    // Every SQLite integer fits a bigint: the text encoder would return v.toString().
    if (typeof v === 'bigint') return out.int64(v);
    const t = text(v);
    if (t === NULL_FIELD) out.null();
    else out.int64(BigInt(t));
  };
}

function int32Writer(text: Encoder, bits: 16 | 32): FieldWriter {
  const lo = bits === 16 ? -32768n : -2147483648n;
  const hi = bits === 16 ? 32767n : 2147483647n;
  const put = bits === 16 ? (out: BinaryRows, n: number) => out.int16(n) : (out: BinaryRows, n: number) => out.int32(n);
  return (v, out) => {
    if (typeof v === 'bigint' && v >= lo && v <= hi) return put(out, Number(v));
    const t = text(v); // rejects what does not fit, as the text path does
    if (t === NULL_FIELD) out.null();
    else put(out, Number(t));
  };
}

function floatWriter(text: Encoder): FieldWriter {
  return (v, out) => {
    if (typeof v === 'number') return out.float64(v);
    const t = text(v);
    // 'NaN', 'Infinity', '-Infinity', '-0' and shortest round-trip decimals: Number() reads each
    // back to the very double PostgreSQL's float8in would.
    if (t === NULL_FIELD) out.null();
    else out.float64(Number(t));
  };
}

function boolWriter(text: Encoder): FieldWriter {
  return (v, out) => {
    if (v === 0n) return out.bool(false);
    if (v === 1n) return out.bool(true);
    const t = text(v);
    if (t === NULL_FIELD) out.null();
    else out.bool(t === 't');
  };
}

/**
 * text and varchar(n): a string with no NUL, no unpaired surrogate and within the length limit is
 * what the text encoder would return escaped (its escapes undone below give it back unchanged), so
 * it is written as it is; any other value goes through the text encoder's checks and rejects.
 */
function textWriter(text: Encoder, maxLength: number | undefined): FieldWriter {
  const limit = maxLength ?? Infinity;
  const slow = utf8Writer(text, -1);
  return (v, out) => {
    if (typeof v === 'string' && v.length <= limit && v.indexOf('\0') < 0 && !hasLoneSurrogate(v)) return out.utf8(v);
    slow(v, out);
  };
}

/** text, varchar(n) and jsonb: the text encoder's checks, its output unescaped, as UTF-8. */
function utf8Writer(text: Encoder, lead: number): FieldWriter {
  return (v, out) => {
    const t = text(v);
    if (t === NULL_FIELD) out.null();
    else out.utf8(unescapeCopyText(t), lead);
  };
}

function hexDigit(c: number): number {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

function uuidWriter(text: Encoder): FieldWriter {
  const bytes = new Uint8Array(16);
  return (v, out) => {
    if (typeof v === 'object' && v !== null && v.length === 16) return out.bytes(v);
    const t = text(v); // canonical 8-4-4-4-12 lowercase, or a reject
    if (t === NULL_FIELD) return out.null();
    let k = 0;
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 45) continue;
      const h = hexDigit(c);
      if (k & 1) bytes[k >> 1] = (bytes[k >> 1]! << 4) | h;
      else bytes[k >> 1] = h;
      k++;
    }
    if (k !== 32) throw new Error(`uuid converter returned ${JSON.stringify(t)}`);
    out.bytes(bytes);
  };
}

function byteaWriter(text: Encoder): FieldWriter {
  return (v, out) => {
    if (typeof v === 'object' && v !== null) return out.bytes(v);
    const t = text(v); // '\\x' + hex (backslash escaped for COPY text)
    if (t === NULL_FIELD) return out.null();
    if (!t.startsWith('\\\\x')) throw new Error(`bytea converter returned ${JSON.stringify(t.slice(0, 20))}`);
    out.bytes(Buffer.from(t.slice(3), 'hex'));
  };
}

/**
 * numeric, timestamp[tz], date (and epochs): the text encoder's canonical text turned into the
 * receive function's bytes (postgres/binary-values.ts reproduces numeric_in / timestamp_in / date_in).
 * Should a converter ever pass a text that the server's text input refuses (the numeric converter
 * rejects what numeric_in refuses: a written scale beyond 16383, an exponent it cannot read), the
 * row is rejected here with the codec's reason instead of failing the whole batch.
 */
function fromTextWriter(text: Encoder, max: (t: string) => number, write: (t: string, buf: Buffer, at: number) => number, tname: string): FieldWriter {
  return (v, out) => {
    const t = text(v);
    if (t === NULL_FIELD) return out.null();
    let n: number;
    try {
      n = max(t);
    } catch (err) {
      throw refused(v, t, tname, err);
    }
    out.custom(n, (buf, at) => {
      try {
        return write(t, buf, at);
      } catch (err) {
        throw refused(v, t, tname, err);
      }
    });
  };
}

/** timestamp[tz] from text: the commonest shape parsed once (writeIsoTimestampFast), the rest as fromTextWriter. */
function isoTimestampWriter(slow: FieldWriter, zoned: boolean): FieldWriter {
  const fast = zoned ? writeZonedFast : writeNaiveFast;
  return (v, out) => {
    if (typeof v === 'string' && out.tryFixed(8, v, fast)) return;
    slow(v, out);
  };
}
const writeNaiveFast = (s: string, buf: Buffer, at: number): boolean => writeIsoTimestampFast(s, false, buf, at);
const writeZonedFast = (s: string, buf: Buffer, at: number): boolean => writeIsoTimestampFast(s, true, buf, at);

function refused(v: SqliteValue, t: string, tname: string, err: unknown): RejectedValue {
  const shown = t.length > 40 ? `${t.slice(0, 40)}… (${t.length} chars)` : t;
  return new RejectedValue(`'${shown}' is outside what PostgreSQL ${tname} accepts: ${(err as Error).message}`, storageClass(v));
}

/** The binary writer of one column, or null when its type is written as text only. */
export function binaryFieldWriter(col: Pick<ColumnPlan, 'pgType' | 'converter'>, text: Encoder): FieldWriter | null {
  const spec = col.converter;
  if (!typeMatches(spec, col.pgType)) return null;
  switch (spec.kind) {
    case 'integer':
      return spec.bits === 64 ? int64Writer(text) : int32Writer(text, spec.bits);
    case 'float':
      return floatWriter(text);
    case 'boolean':
      return boolWriter(text);
    case 'text':
      return textWriter(text, spec.maxLength);
    case 'jsonb':
      return utf8Writer(text, 1); // jsonb's binary format: version 1, then the JSON text
    case 'uuid':
      return uuidWriter(text);
    case 'bytea':
      return byteaWriter(text);
    case 'numeric': {
      // numeric(p,s): the column's typmod rounding comes first, as in numeric_in (binary-values.ts).
      const typed = spec.precision !== undefined;
      return fromTextWriter(text, numericBinaryMaxBytes, (t, buf, at) => writeNumericBinary(t, buf, at, typed), col.pgType);
    }
    case 'timestamp':
      return isoTimestampWriter(fromTextWriter(text, () => 8, writeTimestampBinary, 'timestamp'), false);
    case 'timestamptz':
      return isoTimestampWriter(fromTextWriter(text, () => 8, writeTimestamptzBinary, 'timestamptz'), true);
    case 'epoch':
      return spec.tz ? fromTextWriter(text, () => 8, writeTimestamptzBinary, 'timestamptz') : fromTextWriter(text, () => 8, writeTimestampBinary, 'timestamp');
    case 'date':
      return fromTextWriter(text, () => 4, writeDateBinary, 'date');
    default:
      return null;
  }
}

/**
 * Binary writers for every column of a table, or null when the table is copied as COPY text:
 * some column has no binary writer, or CUTOVER_COPY_FORMAT=text asks for text (a switch for
 * benchmarks and a way out should a server refuse binary input).
 */
export function binaryFieldWriters(
  columns: readonly Pick<ColumnPlan, 'pgType' | 'converter'>[],
  encoders: readonly Encoder[],
  env: NodeJS.ProcessEnv = process.env,
): FieldWriter[] | null {
  if (env.CUTOVER_COPY_FORMAT === 'text') return null;
  const out: FieldWriter[] = [];
  for (let i = 0; i < columns.length; i++) {
    const w = binaryFieldWriter(columns[i]!, encoders[i]!);
    if (w === null) return null;
    out.push(w);
  }
  return out;
}
