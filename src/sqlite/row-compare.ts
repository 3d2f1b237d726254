// Equality of values as better-sqlite3 returns them (safe integers): what the page reader is checked
// against at a chunk's start, and what tells two snapshots' rows apart (diff.ts).
import { describeRawValue } from '../plan/convert';
import type { SqliteValue } from './types';

/** Same storage class and value; -0.0 and 0.0 differ (the target keeps the sign), blobs by content. */
export function sameSqliteValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (Buffer.isBuffer(x) && Buffer.isBuffer(y)) return x.equals(y);
  return typeof x === 'number' && typeof y === 'number' && Object.is(x, y);
}

/** Where two row lists differ, or null. */
export function firstDifference(a: SqliteValue[][], b: SqliteValue[][]): string | null {
  if (a.length !== b.length) return `${a.length} rows vs ${b.length}`;
  for (let r = 0; r < a.length; r++) {
    const x = a[r]!;
    const y = b[r]!;
    if (x.length !== y.length) return `row ${r}: ${x.length} values vs ${y.length}`;
    for (let i = 0; i < x.length; i++) if (!sameSqliteValue(x[i], y[i])) return `row ${r}, value ${i}: ${describeRawValue(x[i]!)} vs ${describeRawValue(y[i]!)}`;
  }
  return null;
}
