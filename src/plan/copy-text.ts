// PostgreSQL COPY text-format escaping and small text helpers shared by the converters.
//
// COPY ... FROM STDIN (FORMAT text) reads one field per delimiter (tab); inside a field a
// backslash starts an escape, so backslash, tab, newline and carriage return must be escaped.
// Every other character (including other control characters) is taken literally.

/** Characters that force the slow path: the four COPY specials and NUL. */
const NEEDS_WORK = /[\\\t\n\r\0]/;

type WellFormed = { isWellFormed?: () => boolean };

/** True when the string contains an unpaired UTF-16 surrogate (cannot be encoded as UTF-8). */
export function hasLoneSurrogate(s: string): boolean {
  const wf = (s as unknown as WellFormed).isWellFormed;
  if (wf !== undefined) return !wf.call(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = s.charCodeAt(i + 1);
      if (n >= 0xdc00 && n <= 0xdfff) i++;
      else return true;
    } else if (c >= 0xdc00 && c <= 0xdfff) return true;
  }
  return false;
}

/**
 * Escapes `s` for one COPY text field. NUL is handled by the caller's policy:
 * 'reject' returns null (the caller throws), 'strip' drops the NUL characters.
 */
export function escapeCopyText(s: string, onNul: 'reject' | 'strip' = 'reject'): string | null {
  if (!NEEDS_WORK.test(s)) return s;
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string;
    if (c === 92) rep = '\\\\';
    else if (c === 9) rep = '\\t';
    else if (c === 10) rep = '\\n';
    else if (c === 13) rep = '\\r';
    else if (c === 0) {
      if (onNul === 'reject') return null;
      rep = '';
    } else continue;
    out += s.slice(start, i) + rep;
    start = i + 1;
  }
  return out + s.slice(start);
}

/** A short, printable excerpt of a text for reject reasons: quoted, NULs shown as \0, cut at `max`. */
export function excerpt(s: string, max = 40): string {
  let t = s.length > max ? s.slice(0, max) : s;
  // eslint-disable-next-line no-control-regex
  t = t.replace(/\0/g, '\\0').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  if (hasLoneSurrogate(t)) t = t.replace(/[\ud800-\udfff]/g, '\ufffd');
  return `'${t}'${s.length > max ? `… (${s.length} chars)` : ''}`;
}

/** Number of Unicode code points (what PostgreSQL's varchar(n) and SQLite's length() count). */
export function codePointLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * The inverse of escapeCopyText: the field's characters as PostgreSQL's COPY text reader would
 * take them (only the four escapes escapeCopyText writes are expected).
 */
export function unescapeCopyText(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== 92) continue;
    const e = s.charCodeAt(i + 1);
    const rep = e === 92 ? '\\' : e === 116 ? '\t' : e === 110 ? '\n' : e === 114 ? '\r' : null;
    if (rep === null) throw new Error(`unexpected COPY text escape \\${s.charAt(i + 1)} in a converter's output`);
    out += s.slice(start, i) + rep;
    start = i + 2;
    i++;
  }
  return out + s.slice(start);
}
