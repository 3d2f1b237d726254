// Converters the existing-schema mode needs beyond src/plan/convert.ts: PostgreSQL enums,
// arrays of scalars (from JSON arrays) and real (float4). Same contract as makeEncoder: one
// SQLite value → one COPY text field, or RejectedValue with a sentence saying why.
import type { ConverterSpec } from '../types';
import type { SqliteValue } from '../sqlite/types';
import { escapeCopyText, excerpt, hasLoneSurrogate } from '../plan/copy-text';
import { RejectedValue, canonicalUuid, makeEncoder, storageClass, type Encoder, type EncoderOptions } from '../plan/convert';

/** Scalar element kinds of an array column. */
export type ArrayElementSpec =
  | ConverterSpec
  | { kind: 'enum'; type: string; labels: string[] }
  | { kind: 'float4' }
  | { kind: 'json' };

export type ExistingConverterSpec =
  /** A PostgreSQL enum: text (or an integer's decimal form) that must be one of the labels. */
  | { kind: 'enum'; type: string; labels: string[] }
  /** real (float4): only values that float4 holds exactly; anything else would be rounded. */
  | { kind: 'float4' }
  /** An array column: each value is a JSON array (text), each element converted by `element`. */
  | { kind: 'array'; element: ArrayElementSpec; elementType: string };

/** Every converter an existing-schema plan can hold. */
export type AnyConverterSpec = ConverterSpec | ExistingConverterSpec;

export function isExistingConverter(spec: AnyConverterSpec): spec is ExistingConverterSpec {
  return spec.kind === 'enum' || spec.kind === 'float4' || spec.kind === 'array';
}

const NULL_FIELD = '\\N';

function describe(v: SqliteValue): string {
  if (typeof v === 'string') return `text ${excerpt(v)}`;
  if (typeof v === 'bigint') return `integer ${v}`;
  if (typeof v === 'number') return `real ${String(v)}`;
  if (v === null) return 'NULL';
  return `blob of ${v.length} bytes`;
}

function reject(v: SqliteValue, why: string): never {
  throw new RejectedValue(`${describe(v)} ${why}`, storageClass(v));
}

function enumEncoder(type: string, labels: string[]): Encoder {
  const set = new Set(labels);
  const list = labels.length <= 12 ? labels.join(', ') : `${labels.slice(0, 12).join(', ')}, … (${labels.length} labels)`;
  return (v) => {
    if (v === null) return NULL_FIELD;
    const s = typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : null;
    if (s === null) return reject(v, `cannot be a value of enum ${type}`);
    if (!set.has(s)) reject(v, `is not a label of enum ${type} (${list})`);
    const out = escapeCopyText(s, 'reject');
    if (out === null) reject(v, 'contains a NUL byte');
    return out;
  };
}

function float4Text(v: SqliteValue, n: number): string {
  if (n !== n) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Math.fround(n) !== n) reject(v, `is not exactly representable as real (float4); it would become ${Math.fround(n)} (use double precision)`);
  if (n === 0) return 1 / n < 0 ? '-0' : '0';
  // float4 prints (and parses) the shortest decimal that identifies the float; the double's
  // shortest form parses to the same float because the value is exactly representable.
  return String(n);
}

function float4Encoder(): Encoder {
  return (v) => {
    if (v === null) return NULL_FIELD;
    if (typeof v === 'number') return float4Text(v, v);
    if (typeof v === 'bigint') {
      const n = Number(v);
      if (BigInt(n) !== v) reject(v, 'is not exactly representable as real (float4)');
      return float4Text(v, n);
    }
    if (typeof v === 'string') {
      const n = Number(v);
      if (v.trim() === '' || Number.isNaN(n)) reject(v, 'is not a number');
      return float4Text(v, n);
    }
    return reject(v, 'cannot be stored in a real column');
  };
}

// ---------------------------------------------------------------------------------------------
// Arrays: JSON array text → PostgreSQL array literal {a,"b c",NULL}, escaped for COPY.

/** Quotes one element for an array literal when it needs it (PostgreSQL array_in rules). */
export function arrayElementLiteral(s: string): string {
  if (s === '' || /^null$/i.test(s) || /[{}",\\\s]/.test(s)) return `"${s.replace(/(["\\])/g, '\\$1')}"`;
  return s;
}

/** Converts one JSON element to the unescaped text of an array element (null → NULL). */
type ElementFn = (e: unknown) => string | null;

function elementFn(spec: ArrayElementSpec, elementType: string, options: EncoderOptions): ElementFn {
  const bad = (e: unknown, why: string): never => {
    throw new Error(`element ${excerpt(JSON.stringify(e) ?? String(e))} ${why}`);
  };
  if (spec.kind === 'text') {
    return (e) => {
      if (typeof e !== 'string') return bad(e, `is not a string; ${elementType}[] holds strings`);
      if (e.indexOf('\0') >= 0) bad(e, 'contains a NUL character');
      if (hasLoneSurrogate(e)) bad(e, 'contains an unpaired surrogate');
      if (spec.maxLength !== undefined && [...e].length > spec.maxLength) bad(e, `is longer than ${spec.maxLength} characters`);
      return e;
    };
  }
  if (spec.kind === 'json' || spec.kind === 'jsonb') return (e) => JSON.stringify(e);
  if (spec.kind === 'enum') {
    const set = new Set(spec.labels);
    return (e) => {
      if (typeof e !== 'string' || !set.has(e)) return bad(e, `is not a label of enum ${spec.type}`);
      return e;
    };
  }
  if (spec.kind === 'uuid') {
    return (e) => {
      const u = typeof e === 'string' ? canonicalUuid(e) : null;
      if (u === null) return bad(e, 'is not a UUID');
      return u;
    };
  }
  if (spec.kind === 'boolean') {
    return (e) => {
      if (e === true || e === 1) return 't';
      if (e === false || e === 0) return 'f';
      return bad(e, 'is not a boolean');
    };
  }
  const scalar: Encoder = spec.kind === 'float4' ? float4Encoder() : makeEncoder(spec, options);
  const integer = spec.kind === 'integer';
  return (e) => {
    let v: SqliteValue;
    if (typeof e === 'number') {
      if (integer) {
        if (!Number.isSafeInteger(e)) return bad(e, Number.isInteger(e) ? 'is beyond 2^53: JSON numbers that large are not exact' : 'is not a whole number');
        v = BigInt(e);
      } else v = e;
    } else if (typeof e === 'string') v = e;
    else return bad(e, `cannot be a ${elementType} element`);
    try {
      return scalar(v);
    } catch (err) {
      if (err instanceof RejectedValue) return bad(e, err.reason.replace(/^(text|integer|real) \S+ /, ''));
      throw err;
    }
  };
}

function arrayLiteral(x: unknown[], el: ElementFn): string {
  const parts: string[] = [];
  for (const e of x) {
    if (e === null) parts.push('NULL');
    else if (Array.isArray(e)) parts.push(arrayLiteral(e, el));
    else {
      const s = el(e);
      parts.push(s === null ? 'NULL' : arrayElementLiteral(s));
    }
  }
  return `{${parts.join(',')}}`;
}

function dims(x: unknown[]): number[] | null {
  // PostgreSQL arrays are rectangular: every sub-array at one level has the same shape.
  if (x.length === 0) return [0];
  const nested = x.map((e) => Array.isArray(e));
  if (nested.every((n) => !n)) return [x.length];
  if (!nested.every((n) => n)) return null;
  const subs = x.map((e) => dims(e as unknown[]));
  if (subs.some((s) => s === null || JSON.stringify(s) !== JSON.stringify(subs[0]))) return null;
  return [x.length, ...(subs[0] as number[])];
}

function arrayEncoder(element: ArrayElementSpec, elementType: string, options: EncoderOptions): Encoder {
  const el = elementFn(element, elementType, options);
  return (v) => {
    if (v === null) return NULL_FIELD;
    if (typeof v !== 'string') return reject(v, `is not a JSON array; ${elementType}[] is filled from JSON array text`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      return reject(v, 'is not valid JSON (an array column is filled from JSON array text)');
    }
    if (!Array.isArray(parsed)) return reject(v, `is JSON but not an array; ${elementType}[] needs [..]`);
    if (dims(parsed) === null) return reject(v, 'is a ragged nested array; PostgreSQL arrays are rectangular');
    let lit: string;
    try {
      lit = arrayLiteral(parsed, el);
    } catch (err) {
      return reject(v, `has an ${(err as Error).message}`);
    }
    const out = escapeCopyText(lit, 'reject');
    if (out === null) return reject(v, 'contains a NUL character');
    return out;
  };
}

export function makeExistingEncoder(spec: ExistingConverterSpec, options: EncoderOptions = {}): Encoder {
  switch (spec.kind) {
    case 'enum':
      return enumEncoder(spec.type, spec.labels);
    case 'float4':
      return float4Encoder();
    case 'array':
      return arrayEncoder(spec.element, spec.elementType, options);
  }
}

/** makeEncoder for every kind an existing-schema plan can hold. */
export function makeAnyEncoder(spec: AnyConverterSpec, options: EncoderOptions = {}): Encoder {
  return isExistingConverter(spec) ? makeExistingEncoder(spec, options) : makeEncoder(spec, options);
}
