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

/** Reverses COPY text-format escaping (what our encoders emit and COPY TO prints). */
export function unescapeCopyText(s: string): string {
  if (s.indexOf('\\') < 0) return s;
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) !== 92) continue;
    out += s.slice(start, i);
    const c = s[i + 1];
    let rep: string;
    let skip = 1;
    switch (c) {
      case 'b':
        rep = '\b';
        break;
      case 'f':
        rep = '\f';
        break;
      case 'n':
        rep = '\n';
        break;
      case 'r':
        rep = '\r';
        break;
      case 't':
        rep = '\t';
        break;
      case 'v':
        rep = '\v';
        break;
      case undefined:
        rep = '';
        break;
      default: {
        const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4));
        if (oct) {
          rep = String.fromCharCode(parseInt(oct[0], 8));
          skip = oct[0].length;
        } else if (c === 'x' && /^[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
          const hx = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2, i + 4))![0];
          rep = String.fromCharCode(parseInt(hx, 16));
          skip = 1 + hx.length;
        } else rep = c;
      }
    }
    out += rep;
    i += skip;
    start = i + 1;
  }
  return out + s.slice(start);
}
