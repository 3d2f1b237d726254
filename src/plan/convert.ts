// STUB — being written by the converters helper. Contract only.
import type { ConverterSpec } from '../types';
import type { SqliteValue } from '../sqlite/types';

/** A value that cannot be converted without loss: goes to cutover.rejects, never coerced. */
export class RejectedValue extends Error {
  constructor(
    readonly reason: string,
    readonly valueClass: string,
  ) {
    super(reason);
  }
}

/**
 * Turns one SQLite value into one field of PostgreSQL's COPY text format,
 * already escaped (`\N` for NULL). Throws RejectedValue for a lossy value.
 */
export type Encoder = (value: SqliteValue) => string;

export function makeEncoder(spec: ConverterSpec): Encoder {
  throw new Error(`not implemented: ${spec.kind}`);
}

/** A printable form of a rejected value for cutover.rejects (hex for bytes). */
export function describeRawValue(value: SqliteValue): string {
  return String(value);
}

/** SQLite storage class of a value, as typeof() would name it. */
export function storageClass(value: SqliteValue): 'null' | 'integer' | 'real' | 'text' | 'blob' {
  if (value === null) return 'null';
  if (typeof value === 'bigint') return 'integer';
  if (typeof value === 'number') return 'real';
  if (typeof value === 'string') return 'text';
  return 'blob';
}
