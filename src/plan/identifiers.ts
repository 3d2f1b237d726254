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

/**
 * Maps each name to a PostgreSQL identifier that is unique within the group
 * (case-sensitive, as quoted identifiers are). Names that fit stay exactly as they are.
 */
export function assignIdentifiers(sourceNames: string[], what: string): IdentifierMapping {
  const names = new Map<string, string>();
  const notes: string[] = [];
  const taken = new Set<string>();
  // Names that fit are kept first, so a long name can never steal a short one's spelling.
  for (const n of sourceNames) {
    if (Buffer.byteLength(n, 'utf8') <= MAX_IDENT_BYTES) {
      names.set(n, n);
      taken.add(n);
    }
  }
  for (const n of sourceNames) {
    if (names.has(n)) continue;
    let candidate = truncateBytes(n, MAX_IDENT_BYTES);
    if (taken.has(candidate)) {
      candidate = `${truncateBytes(n, MAX_IDENT_BYTES - 9)}_${shortHash(n)}`;
    }
    names.set(n, candidate);
    taken.add(candidate);
    notes.push(`${what} name "${n}" is longer than PostgreSQL's 63-byte limit; created as "${candidate}"`);
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
