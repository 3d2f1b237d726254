// Exact decimal-literal handling (no floating point involved).

/** A decimal value as sign × digits × 10^exp, digits without leading/trailing zeros ('' = zero). */
export interface Decimal {
  neg: boolean;
  digits: string;
  exp: number;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Parses a strict decimal literal: `[+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?`.
 * No whitespace, no hex, no words. Returns null when `s` is not such a literal.
 */
export function parseDecimal(s: string): Decimal | null {
  const n = s.length;
  let i = 0;
  let neg = false;
  if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) {
    neg = s.charCodeAt(i) === 45;
    i++;
  }
  const intStart = i;
  while (i < n && isDigit(s.charCodeAt(i))) i++;
  const intPart = s.slice(intStart, i);
  let frac = '';
  if (i < n && s.charCodeAt(i) === 46) {
    i++;
    const fs = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    frac = s.slice(fs, i);
  }
  if (intPart.length === 0 && frac.length === 0) return null;
  let e = 0;
  if (i < n && (s.charCodeAt(i) === 101 || s.charCodeAt(i) === 69)) {
    i++;
    let eneg = false;
    if (i < n && (s.charCodeAt(i) === 43 || s.charCodeAt(i) === 45)) {
      eneg = s.charCodeAt(i) === 45;
      i++;
    }
    const es = i;
    while (i < n && isDigit(s.charCodeAt(i))) i++;
    if (i === es) return null;
    // Exponents beyond this are out of every range we care about; keep the number finite.
    const et = s.slice(es, i).replace(/^0+/, '');
    e = et.length > 9 ? 1e9 : Number(et || '0');
    if (eneg) e = -e;
  }
  if (i !== n) return null;
  let digits = intPart + frac;
  let exp = e - frac.length;
  let a = 0;
  while (a < digits.length && digits.charCodeAt(a) === 48) a++;
  let b = digits.length;
  while (b > a && digits.charCodeAt(b - 1) === 48) b--;
  exp += digits.length - b;
  digits = digits.slice(a, b);
  if (digits.length === 0) exp = 0;
  return { neg, digits, exp };
}

/** Digits after the decimal point needed to write the value exactly (0 for integers). */
export function decimalScale(d: Decimal): number {
  return d.exp < 0 ? -d.exp : 0;
}

/** Digits before the decimal point (0 for |value| < 1). */
export function decimalIntDigits(d: Decimal): number {
  return d.digits.length === 0 ? 0 : Math.max(0, d.digits.length + d.exp);
}

export function decimalEquals(a: Decimal, b: Decimal): boolean {
  return a.digits === b.digits && a.exp === b.exp && (a.digits === '' || a.neg === b.neg);
}

/** Exact integer value of d × 10^shift, or null when that is not a whole number. */
export function decimalToBigInt(d: Decimal, shift = 0): bigint | null {
  if (d.digits === '') return 0n;
  const e = d.exp + shift;
  if (e < 0) return null;
  if (e > 4000) return null; // absurd magnitude; callers range-check anyway
  const v = BigInt(d.digits + '0'.repeat(e));
  return d.neg ? -v : v;
}
