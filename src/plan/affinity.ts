// SQLite type affinity (https://www.sqlite.org/datatype3.html §3.1) and declared-type parsing.

export type Affinity = 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC';

/** The affinity SQLite gives a column declared with `declared`, by its five ordered rules. */
export function sqliteAffinity(declared: string): Affinity {
  const t = declared.toUpperCase();
  if (t.includes('INT')) return 'INTEGER';
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT';
  if (t.includes('BLOB') || t.trim() === '') return 'BLOB';
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL';
  return 'NUMERIC';
}

export interface DeclaredType {
  /** As written. */
  raw: string;
  /** Upper-case, whitespace collapsed, without the parenthesized arguments: 'UNSIGNED BIG INT'. */
  name: string;
  /** Numbers inside the first parentheses: VARCHAR(255) → [255], DECIMAL(10, 2) → [10, 2]. */
  params: number[];
  affinity: Affinity;
}

export function parseDeclaredType(raw: string): DeclaredType {
  const upper = raw.toUpperCase().replace(/\s+/g, ' ').trim();
  const open = upper.indexOf('(');
  let name = upper;
  let params: number[] = [];
  if (open >= 0) {
    const close = upper.indexOf(')', open);
    const inner = upper.slice(open + 1, close < 0 ? undefined : close);
    name = (upper.slice(0, open) + (close < 0 ? '' : upper.slice(close + 1))).replace(/\s+/g, ' ').trim();
    const nums = inner.split(',').map((x) => x.trim());
    if (nums.every((x) => /^[+-]?\d+$/.test(x))) params = nums.map(Number);
  }
  return { raw, name, params, affinity: sqliteAffinity(raw) };
}
