// Keys as people read them: in messages, rejects and the UI's activity summaries.
// Pure, so workflow code can use it too.
import type { ChunkPlan, KeyPlan, KeyTuple } from './types';

/** A key for messages and cutover.rejects.row_key: `id=42` or `(a, b)=('x', 3)`. */
export function formatKey(key: KeyPlan, tuple: KeyTuple): string {
  const vals = tuple.map((k) => {
    switch (k.t) {
      case 'n':
        return 'NULL';
      case 'i':
        return k.v;
      case 'r':
        return String(k.v);
      case 's':
        return `'${k.v.replace(/'/g, "''")}'`;
      case 'b':
        return `x'${k.v}'`;
    }
  });
  const names = key.display ?? key.columns;
  return names.length === 1 ? `${names[0]}=${vals[0]}` : `(${names.join(', ')})=(${vals.join(', ')})`;
}

/** "id 1..500000": the key range of a chunk (bounds are exclusive..inclusive). */
export function rangeText(key: KeyPlan, chunk: Pick<ChunkPlan, 'lo' | 'hi'>): string {
  const side = (k: KeyTuple | null, open: string) => (k ? formatKey(key, k).replace(/^.*?=/, '') : open);
  return `${(key.display ?? key.columns).join(',')} ${side(chunk.lo, 'start')}..${side(chunk.hi, 'end')}`;
}
