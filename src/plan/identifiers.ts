// PostgreSQL truncates names to 63 bytes; two long SQLite names can collide
// after truncation. Resolve collisions deterministically and say so.
import { createHash } from 'node:crypto';
import { MAX_IDENT_BYTES } from '../postgres/sql';

function truncateBytes(name: string, maxBytes: number): string {
  if (Buffer.byteLength(name, 'utf8') <= maxBytes) return name;
  let out = '';
  let bytes = 0;
  for (const ch of name) {
    const b = Buffer.byteLength(ch, 'utf8');
    if (bytes + b > maxBytes) break;
    out += ch;
    bytes += b;
  }
  return out;
}

function shortHash(name: string): string {
  return createHash('sha1').update(name, 'utf8').digest('hex').slice(0, 8);
}

export interface IdentifierMapping {
  /** source name → target name */
  names: Map<string, string>;
  /** Human-readable notes about every renamed identifier. */
  notes: string[];
}

export type IdentifierMode = 'keep' | 'lower' | 'snake';

/** The spelling a name gets under --identifiers (before the 63-byte rule and collisions). */
export function transformName(name: string, mode: IdentifierMode): string {
  if (mode === 'keep') return name;
  if (mode === 'lower') return name.toLowerCase();
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/[^\p{L}\p{N}]+/gu, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
  return snake === '' ? name.toLowerCase() : snake;
}

/**
 * Maps each name to a PostgreSQL identifier that is unique within the group
 * (case-sensitive, as quoted identifiers are) and not in `taken` (names already
 * used in the same namespace). Names whose spelling fits and is free keep it,
 * in the given order; the others get a truncated spelling plus a hash of the
 * source name: deterministic, whatever the order of the others.
 */
export function assignIdentifiers(sourceNames: string[], what: string, mode: IdentifierMode = 'keep', taken: Set<string> = new Set()): IdentifierMapping {
  const names = new Map<string, string>();
  const notes: string[] = [];
  const pending: string[] = [];
  for (const n of sourceNames) {
    if (names.has(n)) continue;
    const t = transformName(n, mode);
    if (Buffer.byteLength(t, 'utf8') <= MAX_IDENT_BYTES && !taken.has(t)) {
      names.set(n, t);
      taken.add(t);
    } else pending.push(n);
  }
  for (const n of pending) {
    if (names.has(n)) continue;
    const t = transformName(n, mode);
    const long = Buffer.byteLength(t, 'utf8') > MAX_IDENT_BYTES;
    let candidate = truncateBytes(t, MAX_IDENT_BYTES);
    if (taken.has(candidate)) candidate = `${truncateBytes(t, MAX_IDENT_BYTES - 9)}_${shortHash(n)}`;
    for (let k = 2; taken.has(candidate); k++) candidate = `${truncateBytes(t, MAX_IDENT_BYTES - 9 - String(k).length)}_${shortHash(n)}${k}`;
    names.set(n, candidate);
    taken.add(candidate);
    notes.push(
      long
        ? `${what} name "${n}" is longer than PostgreSQL's 63-byte limit; created as "${candidate}"`
        : `${what} name "${n}" collides with another name${mode === 'keep' ? '' : ` after --identifiers ${mode}`} ("${t}"); created as "${candidate}"`,
    );
  }
  return { names, notes };
}

/** A derived constraint/index name (table + suffix) that fits in 63 bytes, deterministically. */
export function derivedName(base: string, suffix: string): string {
  const full = `${base}_${suffix}`;
  if (Buffer.byteLength(full, 'utf8') <= MAX_IDENT_BYTES) return full;
  const hash = shortHash(full);
  return `${truncateBytes(base, MAX_IDENT_BYTES - Buffer.byteLength(suffix, 'utf8') - 10)}_${hash}_${suffix}`.slice(0, 200);
}
